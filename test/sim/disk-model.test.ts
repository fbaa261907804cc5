import { describe, expect, it } from 'vitest';
import { SimDisk, type CrashLoss } from '../../src/sim/disk.ts';
import { Rng } from '../../src/sim/rng.ts';

/** The straightforward disk (synced map + buffered writes), as the model SimDisk must match. */
class ModelDisk {
  private readonly durable = new Map<string, unknown>();
  private pending: { key: string; value: unknown; deleted: boolean }[] = [];
  private readonly overlay = new Map<string, { key: string; value: unknown; deleted: boolean }>();
  get(key: string): unknown {
    const buffered = this.overlay.get(key);
    if (buffered) return buffered.deleted ? undefined : buffered.value;
    return this.durable.get(key);
  }
  put(key: string, value: unknown): void {
    const write = { key, value: structuredClone(value), deleted: false };
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
    for (const write of this.pending) this.persist(write);
    this.pending = [];
    this.overlay.clear();
  }
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
  corrupt(rng: Rng, prefix = ''): string | undefined {
    const candidates = [...this.durable.keys()].filter((key) => key.startsWith(prefix)).sort();
    if (candidates.length === 0) return undefined;
    const key = rng.pick(candidates);
    this.durable.set(key, { $corrupted: true, key });
    return key;
  }
  private persist(write: { key: string; value: unknown; deleted: boolean }): void {
    if (write.deleted) this.durable.delete(write.key);
    else this.durable.set(write.key, write.value);
  }
}

describe('SimDisk against the model disk', () => {
  it('agrees on every read, key listing, crash and corruption over random operation sequences', () => {
    for (let seed = 1; seed <= 120; seed++) {
      const ops = new Rng(seed);
      const disk = new SimDisk();
      const model = new ModelDisk();
      const keys = ['a', 'b', 'c', 'log/1', 'log/2', 'log/3'];
      for (let step = 0; step < 120; step++) {
        const key = ops.pick(keys);
        const roll = ops.next();
        if (roll < 0.35) {
          const value = ops.chance(0.5) ? Object.freeze({ n: step, inner: Object.freeze([step]) }) : ops.chance(0.1) ? undefined : { n: step, inner: [step] };
          disk.put(key, value);
          model.put(key, value);
        } else if (roll < 0.5) {
          disk.delete(key);
          model.delete(key);
        } else if (roll < 0.65) {
          disk.sync();
          model.sync();
        } else if (roll < 0.75) {
          const loss = ops.pick<CrashLoss>(['all', 'torn', 'none']);
          const crashSeed = ops.int(0, 1000);
          expect(disk.crash(loss, new Rng(crashSeed))).toBe(model.crash(loss, new Rng(crashSeed)));
        } else if (roll < 0.82) {
          const prefix = ops.pick(['', 'log/', 'zz']);
          const corruptSeed = ops.int(0, 1000);
          expect(disk.corrupt(new Rng(corruptSeed), prefix)).toBe(model.corrupt(new Rng(corruptSeed), prefix));
        }
        for (const k of keys) expect(disk.get(k)).toEqual(model.get(k));
        expect(disk.keys()).toEqual(model.keys());
        expect(disk.keys('log/')).toEqual(model.keys('log/'));
      }
    }
  });

  it('keeps a deeply frozen value as is, and copies anything mutable', () => {
    const disk = new SimDisk();
    const frozen = Object.freeze({ term: 1, command: Object.freeze({ op: Object.freeze({ key: 'k' }) }) });
    disk.put('f', frozen);
    expect(disk.get('f')).toBe(frozen);
    const shallow = Object.freeze({ term: 1, command: { op: 'x' } });
    disk.put('s', shallow);
    expect(disk.get('s')).not.toBe(shallow);
    expect(disk.get('s')).toEqual(shallow);
  });
});
