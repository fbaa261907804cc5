import type { Rng } from './rng.ts';

export interface LatencyRange {
  readonly minMs: number;
  readonly maxMs: number;
}

/** How one directed link treats a message. Latency jitter is what reorders messages. */
export interface LinkBehaviour {
  readonly latency: LatencyRange;
  readonly dropRate: number;
  readonly duplicateRate: number;
  /** Probability of a rare long delay (longer than an election timeout, say). */
  readonly longDelayRate: number;
  readonly longDelay: LatencyRange;
}

export const DEFAULT_LINK: LinkBehaviour = {
  latency: { minMs: 1, maxMs: 10 },
  dropRate: 0,
  duplicateRate: 0,
  longDelayRate: 0,
  longDelay: { minMs: 300, maxMs: 1000 },
};

/**
 * Connectivity and link behaviour among the servers, indexed 0..n-1. Links are directed:
 * blocked[from * n + to] cuts only that direction. Partitions, isolation, bridges and one-way
 * cuts all reduce to that matrix, so every shape is expressible and `heal` restores all.
 */
export class Network {
  private readonly blocked: Uint8Array;
  private readonly overrides: (LinkBehaviour | undefined)[];
  /** Delays (ms) of the copies of the last planned message: 0 copies when dropped, 2 when duplicated. */
  readonly delays: number[] = [0, 0];
  copies = 0;

  constructor(
    readonly size: number,
    private readonly defaults: LinkBehaviour = DEFAULT_LINK,
  ) {
    this.blocked = new Uint8Array(size * size);
    this.overrides = new Array(size * size).fill(undefined);
  }

  isBlocked(from: number, to: number): boolean {
    return this.blocked[from * this.size + to] === 1;
  }

  get defaultBehaviour(): LinkBehaviour {
    return this.defaults;
  }

  behaviour(from: number, to: number): LinkBehaviour {
    return this.overrides[from * this.size + to] ?? this.defaults;
  }

  /** Splits the servers into groups; links between groups are cut both ways. A node in no group is cut off. */
  partition(groups: readonly (readonly number[])[]): void {
    const groupOf = new Int32Array(this.size).fill(-1);
    groups.forEach((group, g) => group.forEach((node) => (groupOf[node] = g)));
    for (let a = 0; a < this.size; a++) {
      for (let b = 0; b < this.size; b++) {
        if (a === b) continue;
        const connected = groupOf[a] !== -1 && groupOf[a] === groupOf[b];
        this.blocked[a * this.size + b] = connected ? 0 : 1;
      }
    }
  }

  isolate(node: number): void {
    for (let other = 0; other < this.size; other++) {
      if (other === node) continue;
      this.blocked[node * this.size + other] = 1;
      this.blocked[other * this.size + node] = 1;
    }
  }

  /** Cuts one direction only: `from` can no longer reach `to`. */
  cut(from: number, to: number): void {
    this.blocked[from * this.size + to] = 1;
  }

  /** Exactly the named pairs stay connected (both ways); every other link is cut. */
  bridge(pairs: readonly (readonly [number, number])[]): void {
    this.blocked.fill(1);
    for (let a = 0; a < this.size; a++) this.blocked[a * this.size + a] = 0;
    for (const [a, b] of pairs) {
      this.blocked[a * this.size + b] = 0;
      this.blocked[b * this.size + a] = 0;
    }
  }

  /** Sets behaviour on one link, on all links from or to a node (undefined = every node), or everywhere. */
  setBehaviour(from: number | undefined, to: number | undefined, patch: Partial<LinkBehaviour>): void {
    for (let a = 0; a < this.size; a++) {
      if (from !== undefined && a !== from) continue;
      for (let b = 0; b < this.size; b++) {
        if (a === b || (to !== undefined && b !== to)) continue;
        const i = a * this.size + b;
        this.overrides[i] = { ...(this.overrides[i] ?? this.defaults), ...patch };
      }
    }
  }

  /** Reconnects everything and restores the default behaviour of every link. */
  heal(): void {
    this.blocked.fill(0);
    this.overrides.fill(undefined);
  }

  /** True while some link loses, duplicates or long-delays messages, or has its own latency. */
  get impaired(): boolean {
    const d = this.defaults;
    return d.dropRate > 0 || d.duplicateRate > 0 || d.longDelayRate > 0 || this.overrides.some((o) => o !== undefined);
  }

  get isWhole(): boolean {
    return this.blocked.every((b) => b === 0) && this.overrides.every((o) => o === undefined);
  }

  /**
   * Decides the fate of one message: fills `delays[0..copies)`. A link draws only the numbers
   * its behaviour needs (one for a plain link), from its own stream, so one link's traffic
   * never shifts another's fates.
   */
  plan(behaviour: LinkBehaviour, rng: Rng): void {
    if (behaviour.dropRate > 0 && rng.next() < behaviour.dropRate) {
      this.copies = 0;
      return;
    }
    const range = behaviour.longDelayRate > 0 && rng.next() < behaviour.longDelayRate ? behaviour.longDelay : behaviour.latency;
    this.delays[0] = range.minMs + rng.next() * (range.maxMs - range.minMs);
    this.copies = 1;
    if (behaviour.duplicateRate > 0 && rng.next() < behaviour.duplicateRate) {
      const latency = behaviour.latency;
      this.delays[1] = latency.minMs + rng.next() * (latency.maxMs - latency.minMs);
      this.copies = 2;
    }
  }

  /** The set of nodes `from` reaches in both directions, for connectivity reasoning. */
  connectedBothWays(a: number, b: number): boolean {
    return !this.isBlocked(a, b) && !this.isBlocked(b, a);
  }
}
