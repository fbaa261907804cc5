import { describe, expect, it } from 'vitest';
import { LinearizabilityMonitor, checkLinearizable, type LinearizabilityResult } from '../../invariants/linearizability.ts';
import { randomHistory } from '../../src/bench/checkers.ts';
import type { ClientOperation } from '../../src/sim/history.ts';
import { op } from './helpers.ts';
import { Rng } from '../../src/sim/rng.ts';

const put = (key: string, value: string) => ({ type: 'put', key, value }) as const;
const append = (key: string, value: string) => ({ type: 'append', key, value }) as const;
const get = (key: string) => ({ type: 'get', key }) as const;
const read = (client: string, key: string, output: string, a: number, b: number) => op(client, get(key), a, b, { output });
const timedOut = (client: string, o: ClientOperation['op'], a: number) => op(client, o, a, undefined);

/**
 * The monitor fed as a run feeds it: each record handed over pending at its call and filled in
 * when it ends, so that a cut sees only outcomes that already happened.
 */
function monitored(history: readonly ClientOperation[], segmentMinOperations: number): { result: LinearizabilityResult; monitor: LinearizabilityMonitor } {
  const monitor = new LinearizabilityMonitor({ segmentMinOperations });
  const events: { time: number; order: number; run: () => void }[] = [];
  for (const done of history) {
    const live: ClientOperation = { ...done, status: 'pending' };
    delete live.completeTime;
    delete live.output;
    events.push({ time: done.invokeTime, order: 1, run: () => monitor.invoked(live) });
    // A client gives up on an operation at some point: the records here say when, or it is right away.
    if (done.status !== 'pending') events.push({ time: done.completeTime ?? done.invokeTime + 1, order: 0, run: () => Object.assign(live, done) });
  }
  events.sort((a, b) => a.time - b.time || a.order - b.order);
  for (const e of events) e.run();
  return { result: monitor.finish(), monitor };
}

/** A seeded stream of floats in [0, 1), the simulator's own generator. */
function seeded(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/**
 * A random history of closed-loop clients on a few keys, linearizable by construction (each
 * operation takes effect at a random instant inside its interval), with writes that time out
 * (taking effect or not, possibly long after), fail (no effect) or are still pending; then, for
 * most seeds, one of the classic faults is planted: a stale read, a lost update, a duplicated
 * append, a read of a value never written, or a timed-out write that is seen and then unseen.
 */
function generated(seed: number): ClientOperation[] {
  const random = seeded(seed * 7919 + 13);
  const clients = 1 + Math.floor(random() * 4);
  const keys = 1 + Math.floor(random() * 2);
  const operations = 10 + Math.floor(random() * 70);
  const maxLatency = 1 + random() * 30;
  const ambiguous = random() < 0.4;
  const timeoutRate = random() * (ambiguous ? 0.1 : 0.25);
  const clientTime = Array.from({ length: clients }, () => random() * 5);
  const effects: { record: ClientOperation; at: number }[] = [];
  const history: ClientOperation[] = [];
  for (let id = 0; id < operations; id++) {
    let c = 0;
    for (let i = 1; i < clients; i++) if (clientTime[i]! < clientTime[c]!) c = i;
    const invokeTime = Math.round(clientTime[c]!);
    const latency = 1 + Math.round(random() * maxLatency);
    const key = `k${Math.floor(random() * keys)}`;
    const roll = random();
    const client = `c${c + 1}`;
    // Values are unique, as the simulated clients write them, or (ambiguous histories) from a small alphabet, so that reads cannot always tell writes apart.
    const value = ambiguous ? 'abc'[Math.floor(random() * 3)]! : `${client}.${id}`;
    const o: ClientOperation['op'] = roll < 0.3 ? put(key, value) : roll < 0.6 ? append(key, `${value};`) : get(key);
    const fate = random();
    const record: ClientOperation = { id, client, seq: id, op: o, invokeTime, completeTime: invokeTime + latency, status: 'ok' };
    history.push(record);
    if (o.type !== 'get' && fate < timeoutRate) {
      // The client gives up at completeTime; the write may take effect at any time after its call, even much later, or never.
      record.status = 'timeout';
      if (random() < 0.6) effects.push({ record, at: invokeTime + random() * latency * (random() < 0.3 ? 20 : 1) });
    } else if (fate < timeoutRate + 0.03) {
      record.status = 'fail';
    } else if (id >= operations - clients && random() < 0.3) {
      // Still pending when the history ends.
      record.status = 'pending';
      delete record.completeTime;
      if (o.type !== 'get' && random() < 0.5) effects.push({ record, at: invokeTime + random() * latency });
    } else {
      effects.push({ record, at: invokeTime + random() * latency });
    }
    clientTime[c] = invokeTime + latency + (random() < 0.3 ? 0 : random() * 15);
  }
  effects.sort((a, b) => a.at - b.at);
  const state = new Map<string, string>();
  const seen = new Map<string, string[]>();
  for (const { record } of effects) {
    const o = record.op;
    if (o.type === 'get') record.output = state.get(o.key) ?? '';
    else if (o.type === 'put') state.set(o.key, o.value);
    else state.set(o.key, (state.get(o.key) ?? '') + o.value);
    if (o.type !== 'get') seen.set(o.key, [...(seen.get(o.key) ?? []), state.get(o.key)!]);
  }
  const reads = history.filter((r) => r.op.type === 'get' && r.status === 'ok');
  const fault = Math.floor(random() * 6);
  if (reads.length > 0 && fault < 5) {
    const r = reads[Math.floor(random() * reads.length)]!;
    const out = r.output ?? '';
    const values = seen.get(r.op.key) ?? [];
    const tokens = out.split(';').filter((t) => t !== '');
    if (fault === 0 && values.length > 0) r.output = values[Math.floor(random() * values.length)]; // stale (or not)
    if (fault === 1 && tokens.length > 0) r.output = out.replace(`${tokens[Math.floor(random() * tokens.length)]};`, ''); // lost update
    if (fault === 2 && tokens.length > 0) r.output = `${out}${tokens[Math.floor(random() * tokens.length)]};`; // duplicated append
    if (fault === 3) r.output = 'never-written';
    if (fault === 4) {
      // A timed-out write seen, then unseen: the read shows the value the write left before it.
      const w = history.find((h) => h.status === 'timeout' && h.op.key === r.op.key);
      if (w && w.op.type !== 'get') r.output = w.op.type === 'put' ? w.op.value : `${out}${w.op.value}`;
    }
  }
  return history;
}

describe('LinearizabilityMonitor (segments) against checkLinearizable (whole history)', () => {
  it('agrees exactly on 3000 random histories, faulty or not, cut as often as possible and in batches', () => {
    const verdicts = { true: 0, false: 0 };
    let cuts = 0;
    let maxConfigurations = 0;
    /** Violations found in a segment after a cut, with the operations before it already forgotten. */
    let afterCut = 0;
    /** Histories the whole-history search gives up on (ambiguous values, many timeouts): nothing to compare. */
    let undecided = 0;
    let givenUp = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const history = generated(seed);
      const whole = checkLinearizable(history);
      if (whole.ok === 'unknown') {
        undecided++;
        continue;
      }
      for (const every of [1, 8]) {
        const { result, monitor } = monitored(history, every);
        expect(result.ok, `seed ${seed}, cutting every ${every}: whole history ${whole.ok}`).toBe(whole.ok);
        if (whole.ok === true && result.ok === true) expect(result.operations).toBe(whole.operations);
        cuts += monitor.stats.cuts;
        givenUp += monitor.stats.cutsGivenUp;
        if (result.ok === false && result.message.includes('checked earlier')) afterCut++;
        maxConfigurations = Math.max(maxConfigurations, monitor.stats.maxConfigurations);
      }
      verdicts[String(whole.ok) as 'true' | 'false']++;
    }
    // Both verdicts are well represented, the histories are really cut, and some cuts carry several configurations.
    expect(verdicts.true).toBeGreaterThan(600);
    expect(verdicts.false).toBeGreaterThan(600);
    expect(cuts).toBeGreaterThan(10_000);
    expect(afterCut).toBeGreaterThan(300);
    expect(maxConfigurations).toBeGreaterThan(1);
    expect(undecided).toBeLessThan(30);
    expect(givenUp).toBeLessThan(cuts / 100);
  });

  it('agrees on the bench generator histories (three clients, timeouts), linearizable and with a read corrupted', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const history = randomHistory({ operations: 400, clients: 3, keys: 3, seed, timeoutRate: 0.05, maxLatency: 10 });
      const { result, monitor } = monitored(history, 8);
      expect(result.ok, `seed ${seed}`).toBe(true);
      expect(monitor.stats.cuts).toBeGreaterThan(10);
      const reads = history.filter((o) => o.op.type === 'get' && o.status === 'ok');
      reads[seed % reads.length]!.output = `${reads[seed % reads.length]!.output ?? ''}x`;
      const whole = checkLinearizable(history);
      expect(monitored(history, 8).result.ok, `corrupted seed ${seed}`).toBe(whole.ok);
    }
  });
});

describe('LinearizabilityMonitor: violations that span a segment cut', () => {
  const judge = (history: ClientOperation[]) => monitored(history, 1).result;

  it('a stale read after the cut', () => {
    const before = [op('c1', put('k', 'a'), 0, 10), read('c2', 'k', 'a', 20, 30)];
    expect(judge([...before, op('c1', put('k', 'b'), 40, 50), read('c2', 'k', 'b', 60, 70)]).ok).toBe(true);
    const r = judge([...before, op('c1', put('k', 'b'), 40, 50), read('c2', 'k', 'a', 60, 70)]);
    expect(r.ok).toBe(false);
    if (r.ok === false) expect(r.message).toMatch(/key "k" is not linearizable .*checked earlier and leave the register at "b"/);
  });

  it('a lost update and a duplicated append across the cut', () => {
    const before = [op('c1', append('k', 'x;'), 0, 10), read('c2', 'k', 'x;', 20, 30)];
    expect(judge([...before, op('c1', append('k', 'y;'), 40, 50), read('c2', 'k', 'x;y;', 60, 70)]).ok).toBe(true);
    expect(judge([...before, op('c1', append('k', 'y;'), 40, 50), read('c2', 'k', 'x;', 60, 70)]).ok).toBe(false);
    expect(judge([...before, read('c2', 'k', 'x;x;', 40, 50)]).ok).toBe(false);
  });

  it('a timed-out write may take effect after the cut, but only once and never undone', () => {
    const before = [op('c1', put('k', 'a'), 0, 10), timedOut('c3', put('k', 't'), 5), read('c2', 'k', 'a', 20, 30)];
    // Applied late: seen after the cut.
    expect(judge([...before, read('c2', 'k', 't', 40, 50)]).ok).toBe(true);
    // Seen, then gone with no write to explain it.
    expect(judge([...before, read('c2', 'k', 't', 40, 50), read('c2', 'k', 'a', 60, 70)]).ok).toBe(false);
    // An append that timed out, seen before the cut and then seen twice.
    const appended = [op('c1', put('k', 'a'), 0, 10), timedOut('c3', append('k', 't;'), 5), read('c2', 'k', 'at;', 20, 30)];
    expect(judge([...appended, op('c1', append('k', 'u;'), 40, 50), read('c2', 'k', 'at;u;', 60, 70)]).ok).toBe(true);
    expect(judge([...appended, op('c1', put('k', 'a'), 40, 50), read('c2', 'k', 'at;', 60, 70)]).ok).toBe(false);
  });

  it('carries several configurations when a cut cannot tell which timed-out write took effect', () => {
    // Two timed-out writes of the same value: the read of "t" shows one of them, either; b then overwrites it.
    const before = [
      op('c1', put('k', 'a'), 0, 10),
      timedOut('c3', put('k', 't'), 5),
      timedOut('c4', put('k', 't'), 6),
      read('c2', 'k', 't', 12, 18),
      op('c1', put('k', 'b'), 20, 30),
      read('c2', 'k', 'b', 40, 50),
    ];
    const { result, monitor } = monitored([...before, read('c2', 'k', 't', 60, 70)], 1);
    expect(result.ok).toBe(true);
    expect(monitor.stats.maxConfigurations).toBe(2);
    // The other one may still take effect after the cut, but there is no third.
    expect(judge([...before, read('c2', 'k', 't', 60, 70), op('c1', put('k', 'c'), 80, 90), read('c2', 'k', 't', 100, 110)]).ok).toBe(false);
    // A timed-out write never seen before the cut may take effect after it.
    const open = [op('c1', put('k', 'a'), 0, 10), timedOut('c3', put('k', 't'), 5), op('c1', put('k', 'b'), 20, 30), read('c2', 'k', 'b', 40, 50)];
    expect(judge([...open, read('c2', 'k', 't', 60, 70)]).ok).toBe(true);
  });
});
