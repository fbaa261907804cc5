import type { Command, KvOperation, Snapshot } from '../adapter/contract.ts';

/** A framework command is recognised by shape; anything else on the apply stream is a no-op. */
export function isFrameworkCommand(value: unknown): value is Command {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Partial<Command>;
  return typeof c.id === 'string' && typeof c.client === 'string' && typeof c.seq === 'number' && typeof c.op === 'object';
}

interface ClientSession {
  lastSeq: number;
  lastResult: string;
  /** Log index the last operation was applied at. */
  index: number;
}

function byKey(a: readonly [string, unknown], b: readonly [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

interface KvSnapshotData {
  readonly entries: [string, string][];
  readonly sessions: [string, ClientSession][];
}

/**
 * The framework's replicated key-value state machine. It sits on a node's apply stream,
 * deduplicates by (client, seq) so that a retried write takes effect once, and answers reads.
 */
export class KvStateMachine {
  private data = new Map<string, string>();
  private sessions = new Map<string, ClientSession>();
  appliedIndex = 0;
  /** Number of operations that took effect (deduplicated retries excluded). */
  effects = 0;

  /** Applies one command; returns its result (the value read, or "" for writes). */
  apply(index: number, command: unknown): string | undefined {
    this.appliedIndex = index;
    if (!isFrameworkCommand(command)) return undefined;
    const session = this.sessions.get(command.client);
    if (session && command.seq <= session.lastSeq) return session.lastSeq === command.seq ? session.lastResult : undefined;
    const result = this.execute(command.op);
    this.effects++;
    // Updated in place: snapshots and restores copy sessions, so no one else holds this object.
    if (session) {
      session.lastSeq = command.seq;
      session.lastResult = result;
      session.index = index;
    } else {
      this.sessions.set(command.client, { lastSeq: command.seq, lastResult: result, index });
    }
    return result;
  }

  /** The result of (client, seq) if it was already applied here. */
  cachedResult(client: string, seq: number): string | undefined {
    const session = this.sessions.get(client);
    return session && session.lastSeq === seq ? session.lastResult : undefined;
  }

  /** The log index at which the client's last operation was applied here. */
  cachedIndex(client: string): number {
    return this.sessions.get(client)?.index ?? -1;
  }

  read(key: string): string {
    return this.data.get(key) ?? '';
  }

  execute(op: KvOperation): string {
    switch (op.type) {
      case 'put':
        this.data.set(op.key, op.value);
        return '';
      case 'append':
        this.data.set(op.key, (this.data.get(op.key) ?? '') + op.value);
        return '';
      case 'get':
        return this.read(op.key);
    }
  }

  snapshot(): Snapshot {
    // Frozen all the way down: snapshots are immutable, and a disk stores a frozen value without copying it.
    // (Literals, not spreads: freezing a spread copy is ten times slower in V8.)
    const entries: [string, string][] = [];
    for (const [key, value] of this.data) entries.push(Object.freeze([key, value]) as [string, string]);
    entries.sort(byKey);
    const sessions: [string, ClientSession][] = [];
    for (const [client, s] of this.sessions) {
      sessions.push(Object.freeze([client, Object.freeze({ lastSeq: s.lastSeq, lastResult: s.lastResult, index: s.index })]) as [string, ClientSession]);
    }
    const data: KvSnapshotData = Object.freeze({ entries: Object.freeze(entries) as [string, string][], sessions: Object.freeze(sessions) as [string, ClientSession][] });
    return { index: this.appliedIndex, data };
  }

  restore(snapshot: Snapshot): void {
    const data = snapshot.data as KvSnapshotData;
    if (!data || !Array.isArray(data.entries) || !Array.isArray(data.sessions)) {
      throw new Error('restore: snapshot.data is not a snapshot taken by host.snapshot()');
    }
    this.data = new Map(data.entries);
    this.sessions = new Map(data.sessions.map(([client, s]) => [client, { ...s }]));
    this.appliedIndex = snapshot.index;
  }

  /** The whole state, sorted by key: what checkers compare. */
  entries(): [string, string][] {
    return [...this.data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
