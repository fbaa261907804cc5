import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/sim/queue.ts';
import { Rng } from '../../src/sim/rng.ts';

describe('EventQueue', () => {
  it('pops by time, and breaks ties by insertion order', () => {
    const queue = new EventQueue<{ time: number; seq: number; name: string }>();
    for (const [time, name] of [[5, 'a'], [1, 'b'], [5, 'c'], [1, 'd'], [3, 'e'], [5, 'f']] as const) {
      queue.push({ time, seq: 0, name });
    }
    const order: string[] = [];
    for (let e = queue.pop(); e; e = queue.pop()) order.push(e.name);
    expect(order).toEqual(['b', 'd', 'e', 'a', 'c', 'f']);
  });

  it('matches a sort by (time, seq) on 10,000 random events', () => {
    const rng = new Rng(7);
    const queue = new EventQueue<{ time: number; seq: number }>();
    const pushed: { time: number; seq: number }[] = [];
    for (let i = 0; i < 10_000; i++) {
      const event = { time: rng.int(0, 100), seq: 0 };
      queue.push(event);
      pushed.push(event);
      if (rng.chance(0.3)) {
        const top = queue.pop()!;
        pushed.splice(pushed.indexOf(top), 1);
      }
    }
    const expected = [...pushed].sort((a, b) => a.time - b.time || a.seq - b.seq);
    const popped: { time: number; seq: number }[] = [];
    for (let e = queue.pop(); e; e = queue.pop()) popped.push(e);
    expect(popped).toEqual(expected);
  });
});

describe('Rng', () => {
  it('is a pure function of the seed, and forks are independent of draw order', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
    const fork1 = new Rng(42).fork('network').next();
    const parent = new Rng(42);
    parent.next();
    expect(parent.fork('network').next()).toBe(fork1);
    expect(new Rng(42).fork('clients').next()).not.toBe(fork1);
  });

  it('draws uniformly enough', () => {
    const rng = new Rng(1);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) buckets[Math.floor(rng.next() * 10)]++;
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});
