import type { ClusterConfig, NodeHost, NodeId, RaftNode, Snapshot } from '../../src/adapter/contract.ts';
import { SimDisk } from '../../src/sim/disk.ts';
import { Rng } from '../../src/sim/rng.ts';
import { createRaft } from '../../src/raft/index.ts';

export interface Sent {
  readonly to: NodeId;
  readonly message: any;
}

/**
 * A hand-driven NodeHost: time moves only when the test says so, sent messages pile up in
 * `sent` for the test to inspect and answer, and the disk is the simulator's own SimDisk (so
 * crash and corruption behave as in a run).
 */
export class FakeHost implements NodeHost {
  time = 0;
  sent: Sent[] = [];
  applied: { index: number; command: unknown }[] = [];
  restored: Snapshot[] = [];
  private timers = new Map<number, { at: number; fire: () => void }>();
  private nextTimer = 1;
  private rng: Rng;
  live = true;

  constructor(
    readonly id: NodeId,
    readonly storage: SimDisk = new SimDisk(),
    seed = 1,
  ) {
    this.rng = new Rng(seed);
  }

  now(): number {
    return this.time;
  }
  send(to: NodeId, message: unknown): void {
    if (this.live) this.sent.push({ to, message });
  }
  setTimer(delayMs: number, fire: () => void): number {
    const id = this.nextTimer++;
    if (this.live) this.timers.set(id, { at: this.time + delayMs, fire });
    return id;
  }
  clearTimer(timer: number): void {
    this.timers.delete(timer);
  }
  random(): number {
    return this.rng.next();
  }
  get lastApplied(): number {
    return this.applied.length > 0 ? this.applied[this.applied.length - 1]!.index : (this.restored.at(-1)?.index ?? 0);
  }
  apply(index: number, command: unknown): void {
    if (index !== this.lastApplied + 1) throw new Error(`applied ${index} after ${this.lastApplied}`);
    this.applied.push({ index, command });
  }
  snapshot(): Snapshot {
    return { index: this.lastApplied, data: { upTo: this.lastApplied } };
  }
  restore(snapshot: Snapshot): void {
    this.restored.push(snapshot);
    this.applied = [];
  }

  /** Runs timers due within `ms` in time order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let best: [number, { at: number; fire: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!best || entry[1].at < best[1].at)) best = entry;
      if (!best) break;
      this.timers.delete(best[0]);
      this.time = Math.max(this.time, best[1].at);
      best[1].fire();
    }
    this.time = end;
  }

  /** Takes (and forgets) the messages sent so far, optionally only those of a type. */
  take(type?: string): Sent[] {
    const all = this.sent;
    if (type === undefined) {
      this.sent = [];
      return all;
    }
    this.sent = all.filter((s) => s.message.type !== type);
    return all.filter((s) => s.message.type === type);
  }
}

export function clusterConfig(nodes: readonly NodeId[], options: Record<string, unknown> = {}, initialMembers: readonly NodeId[] = nodes): ClusterConfig {
  return { nodes, initialMembers, timing: { electionTimeoutMinMs: 150, electionTimeoutMaxMs: 300, heartbeatMs: 50 }, options };
}

export function startNode(host: FakeHost, config: ClusterConfig): RaftNode {
  return createRaft(host, config);
}

/** Crash (losing what `loss` says) and restart on the same disk. */
export function crashAndRestart(host: FakeHost, node: RaftNode, config: ClusterConfig, loss: 'all' | 'none' | 'torn' = 'all', seed = 7): { host: FakeHost; node: RaftNode } {
  node.stop?.();
  host.live = false;
  host.storage.crash(loss, new Rng(seed));
  const fresh = new FakeHost(host.id, host.storage, seed + 1);
  return { host: fresh, node: createRaft(fresh, config) };
}

/** Lets `node` time out and win an election by answering its (pre)vote requests with grants from `voters`. */
export function electLeader(host: FakeHost, node: RaftNode, voters: readonly NodeId[]): void {
  host.advance(301);
  for (let round = 0; round < 3 && node.inspect().role !== 'leader'; round++) {
    const requests = host.take('vote');
    for (const { to, message } of requests) {
      if (voters.includes(to)) node.receive(to, { type: 'voteReply', term: message.term, pre: message.pre, granted: true });
    }
  }
  if (node.inspect().role !== 'leader') throw new Error(`${host.id} did not become leader (role ${node.inspect().role})`);
}

/** Acknowledges, as `from`, every append the leader sent it, up to what each request carried. */
export function ackAppends(host: FakeHost, node: RaftNode, from: NodeId, upTo = Infinity): void {
  for (const { to, message } of host.take('append')) {
    if (to !== from) {
      host.sent.push({ to, message });
      continue;
    }
    const matchIndex = Math.min(message.prevLogIndex + message.entries.length, upTo);
    node.receive(from, { type: 'appendReply', term: message.term, success: true, matchIndex, prevLogIndex: message.prevLogIndex, conflictTerm: 0, conflictIndex: 0, ctx: message.ctx });
  }
}

export function append(term: number, prevLogIndex: number, prevLogTerm: number, entries: { term: number; command: unknown }[], leaderCommit: number, ctx = 0) {
  return { type: 'append', term, prevLogIndex, prevLogTerm, entries, leaderCommit, ctx };
}

export function cmd(n: number) {
  return { id: `c${n}`, client: 'c', seq: n, op: { type: 'put', key: 'k', value: String(n) } } as const;
}
