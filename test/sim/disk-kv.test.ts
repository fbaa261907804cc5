import { describe, expect, it } from 'vitest';
import { isCorrupted } from '../../src/adapter/contract.ts';
import { SimDisk } from '../../src/sim/disk.ts';
import { KvStateMachine } from '../../src/sim/kv.ts';
import { Rng } from '../../src/sim/rng.ts';

describe('SimDisk', () => {
  it('sees buffered writes at once but loses them in a crash; synced ones survive', () => {
    const disk = new SimDisk();
    disk.put('a', 1);
    disk.sync();
    disk.put('b', 2);
    disk.delete('a');
    expect([disk.get('a'), disk.get('b')]).toEqual([undefined, 2]);
    expect(disk.crash('all', new Rng(1))).toBe(2);
    expect([disk.get('a'), disk.get('b')]).toEqual([1, undefined]);
  });

  it('a torn write keeps a prefix of the unsynced writes, in write order', () => {
    for (let seed = 0; seed < 50; seed++) {
      const disk = new SimDisk();
      for (let i = 0; i < 10; i++) disk.put(`k${i}`, i);
      const lost = disk.crash('torn', new Rng(seed));
      const kept = disk.keys().length;
      expect(kept + lost).toBe(10);
      expect(lost).toBeGreaterThan(0);
      expect(disk.keys()).toEqual(Array.from({ length: kept }, (_, i) => `k${i}`).sort());
    }
  });

  it('copies values on put, so later mutation does not reach the disk', () => {
    const disk = new SimDisk();
    const value = { entries: [1, 2] };
    disk.put('v', value);
    value.entries.push(3);
    disk.sync();
    expect(disk.get('v')).toEqual({ entries: [1, 2] });
  });

  it('corruption replaces a synced value by a detectable marker', () => {
    const disk = new SimDisk();
    disk.put('log/1', { term: 1 });
    disk.sync();
    const key = disk.corrupt(new Rng(3), 'log/');
    expect(key).toBe('log/1');
    expect(isCorrupted(disk.get('log/1'))).toBe(true);
    expect(new SimDisk().corrupt(new Rng(3))).toBeUndefined();
  });
});

describe('KvStateMachine', () => {
  const cmd = (client: string, seq: number, op: { type: 'put' | 'append'; key: string; value: string } | { type: 'get'; key: string }) => ({ id: `${client}.${seq}`, client, seq, op });

  it('applies put, append and get, and deduplicates a retried write', () => {
    const kv = new KvStateMachine();
    kv.apply(1, cmd('c1', 1, { type: 'append', key: 'k', value: 'x;' }));
    kv.apply(2, cmd('c1', 1, { type: 'append', key: 'k', value: 'x;' }));
    kv.apply(3, { noop: true });
    expect(kv.apply(4, cmd('c2', 1, { type: 'get', key: 'k' }))).toBe('x;');
    expect(kv.read('k')).toBe('x;');
    expect(kv.effects).toBe(2);
    expect(kv.appliedIndex).toBe(4);
    expect(kv.cachedResult('c2', 1)).toBe('x;');
    expect(kv.cachedIndex('c2')).toBe(4);
  });

  it('round-trips through a snapshot', () => {
    const kv = new KvStateMachine();
    kv.apply(1, cmd('c1', 1, { type: 'put', key: 'a', value: '1' }));
    const copy = new KvStateMachine();
    copy.restore(kv.snapshot());
    expect(copy.entries()).toEqual([['a', '1']]);
    expect(copy.appliedIndex).toBe(1);
    expect(copy.apply(2, cmd('c1', 1, { type: 'put', key: 'a', value: '2' }))).toBe('');
    expect(copy.read('a')).toBe('1');
  });
});
