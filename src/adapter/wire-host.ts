import type { DurableStorage, LogView, NodeHost, NodeId, NodeView, Snapshot } from './contract.ts';
import type { InitEvent, NodeEffect, WireLog, WireView } from './protocol.ts';
import { Rng } from '../sim/rng.ts';

/**
 * The far side of the node protocol, for a JS implementation that runs outside the engine's
 * thread (src/adapter/thread-host.ts): a NodeHost whose every call becomes an effect, to be sent
 * back to the simulator at the end of the current event. Storage is a mirror of the node's disk,
 * loaded from `init`; writes go back as put/delete/sync effects and the simulator's disk stays
 * the truth (crash losses, torn writes and corruption happen there).
 */
export class WireHost implements NodeHost {
  readonly id: NodeId;
  readonly storage: DurableStorage;
  private effects: NodeEffect[] = [];
  private readonly rng: Rng;
  private readonly fires = new Map<number, () => void>();
  private nextTimer = 1;
  /** The node's virtual time at the current event. */
  time: number;

  constructor(init: InitEvent) {
    this.id = init.id;
    this.time = init.now;
    this.rng = new Rng(init.seed);
    const data = new Map<string, unknown>(Object.entries(init.storage));
    const push = (effect: NodeEffect): void => {
      this.effects.push(effect);
    };
    this.storage = {
      get: (key) => data.get(key),
      put(key, value) {
        const copy = structuredClone(value);
        data.set(key, copy);
        push({ type: 'put', key, value: copy });
      },
      delete(key) {
        data.delete(key);
        push({ type: 'delete', key });
      },
      keys: (prefix = '') => [...data.keys()].filter((key) => key.startsWith(prefix)).sort(),
      sync() {
        push({ type: 'sync' });
      },
    };
  }

  now(): number {
    return this.time;
  }

  send(to: NodeId, message: unknown): void {
    // Cloned now: what was sent is what travels, whatever the sender does with its object later.
    this.effects.push({ type: 'send', to, body: structuredClone(message) });
  }

  setTimer(delayMs: number, fire: () => void): number {
    const id = this.nextTimer++;
    this.fires.set(id, fire);
    this.effects.push({ type: 'set_timer', id, ms: delayMs });
    return id;
  }

  clearTimer(timer: number): void {
    if (this.fires.delete(timer)) this.effects.push({ type: 'clear_timer', id: timer });
  }

  /** The simulator fired timer `id`. */
  fire(id: number): void {
    const fire = this.fires.get(id);
    if (!fire) return;
    this.fires.delete(id);
    fire();
  }

  random(): number {
    return this.rng.next();
  }

  apply(index: number, command: unknown): void {
    this.effects.push({ type: 'apply', index, command: structuredClone(command) });
  }

  snapshot(): Snapshot {
    throw new Error('host.snapshot() is not available to a node outside the engine thread (node protocol v1 has no snapshot request)');
  }

  restore(snapshot: Snapshot): void {
    this.effects.push({ type: 'restore', snapshot: structuredClone(snapshot) });
  }

  emit(effect: NodeEffect): void {
    this.effects.push(effect);
  }

  /** The effects of the current event, in order; clears them. */
  take(): NodeEffect[] {
    const effects = this.effects;
    this.effects = [];
    return effects;
  }
}

/**
 * Turns NodeViews into wire views, sending of the log only what changed since the last view
 * (entries compared by term and by command identity).
 */
export class ViewEncoder {
  private terms: number[] = [];
  private commands: unknown[] = [];
  private base = 0;

  encode(view: NodeView): WireView {
    return {
      type: 'view',
      role: view.role,
      term: view.term,
      ...(view.votedFor !== undefined ? { voted_for: view.votedFor } : {}),
      ...(view.commitIndex !== undefined ? { commit_index: view.commitIndex } : {}),
      ...(view.members !== undefined ? { members: [...view.members] } : {}),
      ...(view.joint !== undefined ? { joint: view.joint } : {}),
      ...(view.log !== undefined ? { log: this.encodeLog(view.log) } : {}),
    };
  }

  private encodeLog(log: LogView): WireLog {
    const { snapshotIndex, lastIndex } = log;
    let from = snapshotIndex;
    if (snapshotIndex === this.base) {
      const known = Math.min(lastIndex, this.base + this.terms.length);
      while (from < known) {
        const i = from + 1;
        if (log.termAt(i) !== this.terms[i - 1 - this.base] || log.commandAt(i) !== this.commands[i - 1 - this.base]) break;
        from = i;
      }
    }
    const entries: [number, unknown][] = [];
    this.terms.length = from - snapshotIndex;
    this.commands.length = from - snapshotIndex;
    if (snapshotIndex !== this.base) {
      this.terms = [];
      this.commands = [];
      this.base = snapshotIndex;
    }
    for (let i = from + 1; i <= lastIndex; i++) {
      const term = log.termAt(i);
      const command = log.commandAt(i);
      this.terms.push(term);
      this.commands.push(command);
      entries.push([term, command]);
    }
    return { snapshot_index: snapshotIndex, snapshot_term: log.snapshotTerm, last_index: lastIndex, from, entries };
  }
}
