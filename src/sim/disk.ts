import type { CorruptedValue, DurableStorage } from '../adapter/contract.ts';
import type { Rng } from './rng.ts';

/** What a crash does to the writes that were not yet synced. */
export type CrashLoss = 'all' | 'torn' | 'none';

/** In the undo log: the key held nothing before the write. */
const ABSENT: unique symbol = Symbol('absent');

/**
 * A simulated disk. Writes are buffered until sync(); get() sees them at once (the page cache),
 * but a crash loses them, or with a torn write keeps a random prefix in write order. A
 * corruption replaces one synced value by a CorruptedValue marker, the model of a checksum
 * mismatch found on read.
 *
 * Representation: `current` is what get() sees (the synced state with every unsynced write
 * applied), and each unsynced write is recorded in an undo log with the value it replaced. The
 * synced state is `current` with the undo log undone, so sync() only forgets the log, and a
 * crash that keeps the first k writes undoes the others, newest first: exactly the synced
 * state with the first k writes applied.
 */
export class SimDisk implements DurableStorage {
  private readonly current = new Map<string, unknown>();
  /** The undo log: entries [0, pending) are the unsynced writes (later slots are stale). */
  private readonly undoKeys: string[] = [];
  private readonly undoPrev: unknown[] = [];
  private pending = 0;
  /** Called when get() hands out a CorruptedValue: the engine notes the step (a node may stop on it). */
  onCorruptedRead: (() => void) | undefined = undefined;

  get(key: string): unknown {
    const value = this.current.get(key);
    if (this.onCorruptedRead !== undefined && typeof value === 'object' && value !== null && (value as { $corrupted?: unknown }).$corrupted === true) this.onCorruptedRead();
    return value;
  }

  put(key: string, value: unknown): void {
    const copy = copyValue(value);
    this.remember(key);
    this.current.set(key, copy);
  }

  delete(key: string): void {
    this.remember(key);
    this.current.delete(key);
  }

  keys(prefix = ''): string[] {
    const found: string[] = [];
    for (const key of this.current.keys()) if (key.startsWith(prefix)) found.push(key);
    return found.sort();
  }

  sync(): void {
    this.pending = 0;
  }

  /** The node crashed: unsynced writes are lost, all of them or (torn) all but a random prefix. */
  crash(loss: CrashLoss, rng: Rng): number {
    const pending = this.pending;
    let kept = 0;
    if (loss === 'none') kept = pending;
    else if (loss === 'torn' && pending > 0) kept = rng.int(0, pending - 1);
    for (let i = pending - 1; i >= kept; i--) {
      const prev = this.undoPrev[i];
      if (prev === ABSENT) this.current.delete(this.undoKeys[i]!);
      else this.current.set(this.undoKeys[i]!, prev);
    }
    this.pending = 0;
    this.undoPrev.fill(undefined); // stale slots would keep old values alive
    return pending - kept;
  }

  /** Corrupts one synced value with a key that starts with `prefix`; returns its key, or undefined if none. */
  corrupt(rng: Rng, prefix = ''): string | undefined {
    // The synced value of a key with unsynced writes is what its first write replaced.
    const firstWrite = new Map<string, number>();
    for (let i = 0; i < this.pending; i++) if (!firstWrite.has(this.undoKeys[i]!)) firstWrite.set(this.undoKeys[i]!, i);
    const candidates: string[] = [];
    for (const key of this.current.keys()) if (!firstWrite.has(key) && key.startsWith(prefix)) candidates.push(key);
    for (const [key, i] of firstWrite) if (this.undoPrev[i] !== ABSENT && key.startsWith(prefix)) candidates.push(key);
    if (candidates.length === 0) return undefined;
    candidates.sort();
    const key = rng.pick(candidates);
    const marker: CorruptedValue = { $corrupted: true, key };
    const i = firstWrite.get(key);
    // An unsynced write still shadows the synced value until a crash loses it.
    if (i === undefined) this.current.set(key, marker);
    else this.undoPrev[i] = marker;
    return key;
  }

  private remember(key: string): void {
    const current = this.current;
    const prev = current.get(key);
    const i = this.pending++;
    this.undoKeys[i] = key;
    this.undoPrev[i] = prev === undefined && !current.has(key) ? ABSENT : prev;
  }
}

/**
 * Stored values are copied so that a caller mutating its object later cannot change the disk.
 * A deeply frozen plain value (objects and arrays frozen all the way down) cannot be mutated,
 * so it is stored as is. Other plain objects and arrays are copied by hand (several times
 * faster than structuredClone for the small records Raft persists); anything else (Map, typed
 * arrays, …) goes through structuredClone.
 */
function copyValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  // The identity scan first: Object.isFrozen costs several times more, and values in the ring are frozen for good.
  if (recentlyFrozen(value) || (Object.isFrozen(value) && isDeeplyFrozen(value))) return value;
  if (Array.isArray(value)) {
    const copy = new Array(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = copyValue(value[i]);
    return copy;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const copy: Record<string, unknown> = {};
  for (const key in value as Record<string, unknown>) copy[key] = copyValue((value as Record<string, unknown>)[key]);
  return copy;
}

/**
 * The last values found deeply frozen (which they stay forever): every node's disk stores the
 * same log entries within a few steps, so most checks end here instead of walking the value.
 */
const RECENT = 16;
const recent: (object | undefined)[] = new Array(RECENT).fill(undefined);
let recentNext = 0;

function recentlyFrozen(value: object): boolean {
  for (let i = 0; i < RECENT; i++) if (recent[i] === value) return true;
  return false;
}

/** True for a frozen plain object or array whose object values are all deeply frozen too. */
function isDeeplyFrozen(value: object): boolean {
  if (!walkDeeplyFrozen(value)) return false;
  recent[recentNext] = value;
  recentNext = (recentNext + 1) % RECENT;
  return true;
}

function walkDeeplyFrozen(value: object): boolean {
  if (!Object.isFrozen(value)) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto === Array.prototype) {
    const array = value as unknown[];
    for (let i = 0; i < array.length; i++) {
      if (!(i in array)) return false;
      const v = array[i];
      if (v !== null && typeof v === 'object' && !walkDeeplyFrozen(v)) return false;
    }
    return true;
  }
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value as Record<string, unknown>) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== null && typeof v === 'object' && !walkDeeplyFrozen(v)) return false;
  }
  return true;
}
