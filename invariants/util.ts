import type { Command, LogView, NodeId } from '../src/adapter/contract.ts';

/**
 * Helpers shared by the checkers. Nothing here keeps global state: each checker instance owns
 * its own mirrors, so checkers stay independent of each other and of the engine.
 */

/** A framework client command, recognised by shape (the same test the framework's state machine uses). */
export function isClientCommand(value: unknown): value is Command {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Partial<Command>;
  return typeof c.id === 'string' && typeof c.client === 'string' && typeof c.seq === 'number' && typeof c.op === 'object' && c.op !== null;
}

/** JSON with object keys sorted, so equal data gives equal text whatever the key order. */
export function stableJson(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/**
 * The identity of a log entry's command. Client commands carry a framework-unique `id`, so the
 * id alone identifies them (cheap: no serialisation). Anything else (an implementation's no-op,
 * a configuration entry) has no id, so it is identified by its stable JSON: two such entries
 * are the same entry only if they hold the same data.
 */
export function commandKey(command: unknown): string {
  // The bare id (no allocation); other entries get a prefix no framework id starts with.
  if (isClientCommand(command)) return command.id;
  return `\u0000${stableJson(command)}`;
}

/** A command key for messages: the client command id, or the (shortened) JSON of anything else. */
export function showKey(key: string | undefined): string {
  if (key === undefined) return '(nothing)';
  if (!key.startsWith('\u0000')) return key;
  const json = key.slice(1);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/** "term 3 c1.4" — an entry as messages show it. */
export function showEntry(term: number | undefined, key: string | undefined): string {
  return term === undefined ? '(no entry)' : `term ${term} ${showKey(key)}`;
}

export function showTime(time: number): string {
  return `${time.toFixed(1)} ms`;
}

/** What one mirror update found: entries [from, newLast] are new or rewritten; (newLast, oldLast] are gone. */
export interface MirrorChange {
  from: number;
  oldLast: number;
  newLast: number;
  oldSnapshotIndex: number;
  /** With keepReplaced: the entries the update replaced or removed, from `from` to oldLast. */
  replaced: { readonly index: number; readonly term: number; readonly key: string }[];
}

const NOTHING_REPLACED: MirrorChange['replaced'] = [];

/**
 * A per-node copy of (term, command key) for every log entry the checker has seen, kept in
 * step with the node's LogView by comparing only the changed suffix: it scans back from the
 * end until an entry equals its copy (same term and same command; the command object's identity
 * is tried first, which makes the common no-change step cost two reads). The cost of an update is
 * proportional to the number of entries that changed, never to the log's length. The mirror
 * assumes an unchanged last entry means an unchanged log below it, which is what makes a step
 * O(1): a rewrite hidden under an unchanged suffix goes unseen by the mirror.
 */
export class LogMirror {
  /** Index 0 is a sentinel; entries at or below `snapshotIndex` are covered by the node's snapshot. */
  readonly terms: number[] = [0];
  readonly keys: string[] = [''];
  private readonly commands: unknown[] = [undefined];
  last = 0;
  snapshotIndex = 0;
  snapshotTerm = 0;
  /** Whether the mirror was ever synchronised with a LogView. */
  seen = false;
  /** What the last update changed; one object reused, valid until the next update. */
  private readonly change: MirrorChange = { from: 1, oldLast: 0, newLast: 0, oldSnapshotIndex: 0, replaced: NOTHING_REPLACED };

  update(log: LogView, keepReplaced = false): MirrorChange {
    const oldLast = this.last;
    const oldSnapshotIndex = this.snapshotIndex;
    const newLast = log.lastIndex;
    const snap = log.snapshotIndex;
    const { terms, keys, commands } = this;
    let i = newLast;
    while (i > snap) {
      if (i <= oldLast) {
        const term = log.termAt(i);
        if (terms[i] === term) {
          const command = log.commandAt(i);
          if (commands[i] === command || keys[i] === commandKey(command)) {
            commands[i] = command;
            break;
          }
        }
      }
      i--;
    }
    const from = Math.max(i + 1, snap + 1);
    let replaced = NOTHING_REPLACED;
    if (keepReplaced && Math.max(from, oldSnapshotIndex + 1) <= oldLast) {
      replaced = [];
      for (let j = Math.max(from, oldSnapshotIndex + 1); j <= oldLast; j++) {
        if (terms[j] !== undefined) replaced.push({ index: j, term: terms[j]!, key: keys[j]! });
      }
    }
    if (newLast < terms.length - 1) {
      terms.length = newLast + 1;
      keys.length = newLast + 1;
      commands.length = newLast + 1;
    }
    for (let j = from; j <= newLast; j++) {
      const command = log.commandAt(j);
      terms[j] = log.termAt(j);
      keys[j] = commandKey(command);
      commands[j] = command;
    }
    this.last = newLast;
    this.snapshotIndex = snap;
    this.snapshotTerm = log.snapshotTerm;
    this.seen = true;
    const change = this.change;
    change.from = from;
    change.oldLast = oldLast;
    change.newLast = newLast;
    change.oldSnapshotIndex = oldSnapshotIndex;
    change.replaced = replaced;
    return change;
  }

  /** Term of the entry at index as last seen (snapshotTerm at the snapshot index; undefined if unknown). */
  termAt(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.last) return undefined;
    return this.terms[index];
  }

  keyAt(index: number): string | undefined {
    if (index <= this.snapshotIndex || index > this.last) return undefined;
    return this.keys[index];
  }

  /** True when the node holds (term, key) at index, or its snapshot covers index. */
  holds(index: number, term: number | undefined, key: string): boolean {
    if (index <= this.snapshotIndex) return true;
    if (index > this.last) return false;
    return this.keys[index] === key && (term === undefined || this.terms[index] === term);
  }
}

/** Per-node mirrors, created on first sight. */
export class Mirrors {
  private readonly byNode = new Map<NodeId, LogMirror>();

  get(node: NodeId): LogMirror {
    let mirror = this.byNode.get(node);
    if (!mirror) {
      mirror = new LogMirror();
      this.byNode.set(node, mirror);
    }
    return mirror;
  }

  entries(): IterableIterator<[NodeId, LogMirror]> {
    return this.byNode.entries();
  }
}

/** Smallest number in a set (only called when reporting). */
export function smallest(values: Iterable<number>): number {
  let min = Infinity;
  for (const v of values) if (v < min) min = v;
  return min;
}

/** Element-wise equality of two member lists (no allocation: views may hand out a new array each step). */
export function sameMembers(a: readonly NodeId[] | undefined, b: readonly NodeId[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
