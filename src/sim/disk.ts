import type { CorruptedValue, DurableStorage } from '../adapter/contract.ts';
import type { Rng } from './rng.ts';

type PendingWrite = { key: string; value: unknown; deleted: boolean };

/** What a crash does to the writes that were not yet synced. */
export type CrashLoss = 'all' | 'torn' | 'none';

/**
 * A simulated disk. Writes are buffered until sync(); get() sees them at once (the page cache),
 * but a crash loses them, or with a torn write keeps a random prefix in write order. A
 * corruption replaces one synced value by a CorruptedValue marker, the model of a checksum
 * mismatch found on read.
 */
export class SimDisk implements DurableStorage {
  private readonly durable = new Map<string, unknown>();
  private pending: PendingWrite[] = [];
  private readonly overlay = new Map<string, PendingWrite>();

  get(key: string): unknown {
    const buffered = this.overlay.get(key);
    if (buffered) return buffered.deleted ? undefined : buffered.value;
    return this.durable.get(key);
  }

  put(key: string, value: unknown): void {
    const write = { key, value: copyValue(value), deleted: false };
    this.pending.push(write);
    this.overlay.set(key, write);
  }

  delete(key: string): void {
    const write = { key, value: undefined, deleted: true };
    this.pending.push(write);
    this.overlay.set(key, write);
  }

  keys(prefix = ''): string[] {
    const found = new Set<string>();
    for (const key of this.durable.keys()) if (key.startsWith(prefix)) found.add(key);
    for (const [key, write] of this.overlay) {
      if (!key.startsWith(prefix)) continue;
      if (write.deleted) found.delete(key);
      else found.add(key);
    }
    return [...found].sort();
  }

  sync(): void {
    if (this.pending.length === 0) return;
    for (const write of this.pending) this.persist(write);
    this.pending = [];
    this.overlay.clear();
  }

  /** The node crashed: unsynced writes are lost, all of them or (torn) all but a random prefix. */
  crash(loss: CrashLoss, rng: Rng): number {
    let kept = 0;
    if (loss === 'none') kept = this.pending.length;
    else if (loss === 'torn' && this.pending.length > 0) kept = rng.int(0, this.pending.length - 1);
    for (let i = 0; i < kept; i++) this.persist(this.pending[i]!);
    const lost = this.pending.length - kept;
    this.pending = [];
    this.overlay.clear();
    return lost;
  }

  /** Corrupts one synced value with a key that starts with `prefix`; returns its key, or undefined if none. */
  corrupt(rng: Rng, prefix = ''): string | undefined {
    const candidates = [...this.durable.keys()].filter((key) => key.startsWith(prefix)).sort();
    if (candidates.length === 0) return undefined;
    const key = rng.pick(candidates);
    const marker: CorruptedValue = { $corrupted: true, key };
    this.durable.set(key, marker);
    return key;
  }

  private persist(write: PendingWrite): void {
    if (write.deleted) this.durable.delete(write.key);
    else this.durable.set(write.key, write.value);
  }
}

/**
 * Stored values are copied so that a caller mutating its object later cannot change the disk.
 * Plain objects and arrays are copied by hand (several times faster than structuredClone for the
 * small records Raft persists); anything else (Map, typed arrays, …) goes through structuredClone.
 */
function copyValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
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
