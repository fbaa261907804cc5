import { describe, expect, it } from 'vitest';
import { checkLinearizable, linearizability } from '../../invariants/linearizability.ts';
import { create, feed, op, record } from './helpers.ts';

const put = (key: string, value: string) => ({ type: 'put', key, value }) as const;
const append = (key: string, value: string) => ({ type: 'append', key, value }) as const;
const get = (key: string) => ({ type: 'get', key }) as const;
const read = (client: string, key: string, output: string, a: number, b: number) => op(client, get(key), a, b, { output });

describe('checkLinearizable', () => {
  it('accepts an empty history and sequential operations, with "" for an absent key', () => {
    expect(checkLinearizable([]).ok).toBe(true);
    const h = [
      read('c1', 'k', '', 0, 5),
      op('c1', put('k', 'a'), 10, 20),
      op('c2', append('k', 'b'), 30, 40),
      read('c3', 'k', 'ab', 50, 60),
    ];
    expect(checkLinearizable(h)).toMatchObject({ ok: true, keys: 1, operations: 4 });
  });

  it('rejects a stale read', () => {
    const h = [op('c1', put('k', 'a'), 0, 10), op('c1', put('k', 'b'), 20, 30), read('c2', 'k', 'a', 40, 50)];
    const r = checkLinearizable(h);
    expect(r.ok).toBe(false);
    if (r.ok !== false) return;
    expect(r.key).toBe('k');
    expect(r.message).toMatch(/key "k" is not linearizable/);
    expect(r.message).toMatch(/get\("k"\) -> "a"/);
    expect(r.longestLinearized.length).toBe(2);
  });

  it('decides a burst of concurrent reads without trying their subsets (reads are linearized greedily)', () => {
    // 20 concurrent reads of "a" and one of "b", which nobody wrote: without the greedy rule the
    // search explores every subset of the reads (2^20 configurations) before it can say no.
    const h = [op('c1', put('k', 'a'), 0, 10), op('c2', put('k', 'c'), 20, 100)];
    for (let i = 0; i < 20; i++) h.push(read(`r${i}`, 'k', 'a', 20, 100));
    h.push(read('rb', 'k', 'b', 20, 100));
    const r = checkLinearizable(h, { maxSteps: 100_000 });
    expect(r.ok).toBe(false);
    expect(r.steps).toBeLessThan(10_000);
    // The same burst with "c" in place of "b" is linearizable.
    h[h.length - 1] = read('rb', 'k', 'c', 20, 100);
    expect(checkLinearizable(h, { maxSteps: 100_000 }).ok).toBe(true);
  });

  it('rejects a lost update', () => {
    const h = [op('c1', append('k', 'x;'), 0, 10), op('c2', append('k', 'y;'), 20, 30), read('c3', 'k', 'y;', 40, 50)];
    expect(checkLinearizable(h).ok).toBe(false);
  });

  it('rejects a duplicated append', () => {
    const h = [op('c1', append('k', 'a;'), 0, 10), read('c2', 'k', 'a;a;', 20, 30)];
    expect(checkLinearizable(h).ok).toBe(false);
  });

  it('accepts concurrent writes in the one order the reads allow, and rejects reads that need two orders', () => {
    const writes = () => [op('c1', put('k', 'a'), 0, 100), op('c2', put('k', 'b'), 0, 100)];
    // Only b-then-a explains a final read of "a"; only a-then-b explains "b".
    expect(checkLinearizable([...writes(), read('c3', 'k', 'a', 150, 160)]).ok).toBe(true);
    expect(checkLinearizable([...writes(), read('c3', 'k', 'b', 150, 160)]).ok).toBe(true);
    // Reads of b, then a, then b would need b < a < b.
    const flip = [...writes(), read('c3', 'k', 'b', 10, 20), read('c3', 'k', 'a', 30, 40), read('c3', 'k', 'b', 50, 60)];
    expect(checkLinearizable(flip).ok).toBe(false);
    const appends = [op('c1', append('k', 'x'), 0, 100), op('c2', append('k', 'y'), 0, 100)];
    expect(checkLinearizable([...appends, read('c3', 'k', 'yx', 150, 160)]).ok).toBe(true);
    expect(checkLinearizable([...appends, read('c3', 'k', 'yx', 150, 160), read('c4', 'k', 'xy', 170, 180)]).ok).toBe(false);
  });

  it('treats a timed-out or pending write as possibly taking effect any time after its call, and a failed one as never', () => {
    const t = op('c1', append('k', 't;'), 5, undefined, { status: 'timeout' });
    expect(checkLinearizable([t, read('c2', 'k', '', 10, 20), read('c2', 'k', 't;', 100, 110)]).ok).toBe(true);
    expect(checkLinearizable([t, read('c2', 'k', 't;', 100, 110), read('c2', 'k', '', 120, 130)]).ok).toBe(false);
    // Never before its call.
    expect(checkLinearizable([read('c2', 'k', 't;', 0, 4), t]).ok).toBe(false);
    const pending = op('c1', put('k', 'p'), 5, undefined, { status: 'pending' });
    expect(checkLinearizable([pending, read('c2', 'k', 'p', 50, 60)]).ok).toBe(true);
    const failed = op('c1', put('k', 'f'), 5, 8, { status: 'fail' });
    expect(checkLinearizable([failed, read('c2', 'k', 'f', 50, 60)]).ok).toBe(false);
    // A get that did not complete observed nothing.
    expect(checkLinearizable([op('c2', get('k'), 0, undefined, { status: 'fail' })]).ok).toBe(true);
  });

  it('checks keys independently and names the failing one', () => {
    const h = [
      op('c1', put('k1', 'a'), 0, 10),
      read('c1', 'k1', 'a', 20, 30),
      op('c2', put('k2', 'b'), 0, 10),
      read('c2', 'k2', 'zzz', 20, 30),
    ];
    const r = checkLinearizable(h);
    expect(r).toMatchObject({ ok: false, key: 'k2' });
  });

  it('answers unknown, not a hang, when the budget runs out', () => {
    const h = [];
    for (let c = 0; c < 12; c++) h.push(op(`c${c}`, put('k', `${c}`), 0, 1000));
    h.push(read('r', 'k', 'nope', 2000, 2010));
    const r = checkLinearizable(h, { maxSteps: 50 });
    expect(r.ok).toBe('unknown');
    if (r.ok === 'unknown') expect(r.message).toMatch(/unknown: the search budget ran out/);
    // With a real budget the same history is refuted (memoisation keeps it small).
    expect(checkLinearizable(h).ok).toBe(false);
  });

  it('the run-level checker judges the history its hooks saw', () => {
    const c = create(linearizability);
    feed(c, [op('c1', put('k', 'a'), 0, 10), read('c2', 'k', 'a', 20, 30)]);
    expect(c.finish!(record({}))).toBeUndefined();
    const d = create(linearizability);
    feed(d, [op('c1', put('k', 'a'), 0, 10), read('c2', 'k', '', 20, 30)]);
    const v = d.finish!(record({}));
    expect(v?.invariant).toBe('linearizability');
    expect(v?.message).toMatch(/key "k"/);
  });
});
