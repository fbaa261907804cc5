import { describe, expect, it } from 'vitest';
import { livenessAfterHeal } from '../../invariants/liveness-after-heal.ts';
import { progressUnderMajority } from '../../invariants/progress-under-majority.ts';
import type { ClusterStatus } from '../../invariants/types.ts';
import type { ClientOperation } from '../../src/sim/history.ts';
import { allPairs, create, feed, record, status, view } from './helpers.ts';
import { Rng } from '../../src/sim/rng.ts';

/**
 * Liveness-after-heal and progress-under-majority keep only what can matter of the clients'
 * history (stalls), not the history: on random histories their verdicts and messages equal
 * those of the whole-history rules they had before, restated here.
 */

const ALL = ['n1', 'n2', 'n3'];
const BOUND = 3000; // 10 maximal election timeouts of the test cluster
const WINDOW = 6000; // 20 of them

/** A seeded stream of floats in [0, 1), the simulator's own generator. */
function seeded(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/** Client operations over [0, span]: some stretches quiet, some slow, writes that time out, fail or are still pending. */
function history(random: () => number, span: number): ClientOperation[] {
  const out: ClientOperation[] = [];
  let time = random() * 500;
  for (let id = 0; time < span; id++) {
    const write = random() < 0.7;
    const slow = random() < 0.15;
    const latency = slow ? random() * 8000 : random() * 50;
    const fate = random();
    const status: ClientOperation['status'] = fate < 0.75 ? 'ok' : fate < 0.85 ? 'timeout' : fate < 0.95 ? 'fail' : 'pending';
    const o: ClientOperation = {
      id,
      client: `c${1 + Math.floor(random() * 3)}`,
      seq: id,
      op: write ? { type: 'put', key: 'k', value: `v${id}` } : { type: 'get', key: 'k' },
      invokeTime: Math.round(time),
      status,
      ...(status === 'pending' ? {} : { completeTime: Math.round(time + latency) }),
      ...(!write && status === 'ok' ? { output: '' } : {}),
    };
    out.push(o);
    time += random() < 0.1 ? random() * 9000 : random() * 300;
  }
  return out;
}

const writesOf = (h: readonly ClientOperation[]) => h.filter((o) => o.op.type !== 'get');

describe('liveness-after-heal without the history', () => {
  it('gives the verdict and message of the whole-history rule on 3000 random runs', () => {
    let fired = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const random = seeded(seed);
      const span = 20_000;
      const h = history(random, span);
      const healedAt = Math.round(random() * 12_000);
      const endTime = healedAt + BOUND + Math.round(random() * 5000);
      const advances: number[] = [];
      for (let t = random() * 2000; t < span; t += random() < 0.4 ? random() * 8000 : random() * 400) advances.push(Math.round(t));
      const c = create(livenessAfterHeal);
      c.afterStep!('n1', view('leader', 1, { commitIndex: 0 }), 0);
      // Commit advances and client events interleaved in time, as a run delivers them.
      feed(c, h, advances.map((t, i) => ({ time: t, run: () => c.afterStep!('n1', view('leader', 1, { commitIndex: i + 1 }), t) })));
      const got = c.finish!(record({ healedAt, endTime }));
      // The rule over the whole history, as it was.
      const deadline = healedAt + BOUND;
      const committed =
        advances.some((t) => t > healedAt && t <= deadline) ||
        writesOf(h).some((o) => o.status === 'ok' && o.invokeTime >= healedAt && (o.completeTime ?? Infinity) <= deadline);
      const demand = writesOf(h).filter((o) => o.invokeTime >= healedAt && o.invokeTime <= deadline - BOUND / 2);
      if (committed || demand.length === 0) {
        expect(got, `seed ${seed}`).toBeUndefined();
        continue;
      }
      fired++;
      expect(got?.message, `seed ${seed}`).toMatch(new RegExp(`, ${demand.length} client write\\(s\\) invoked by .* \\(first: ${demand[0]!.client} #${demand[0]!.id}\\), none completed ok`));
    }
    expect(fired).toBeGreaterThan(10);
  });
});

describe('progress-under-majority without the history', () => {
  it('gives the verdict and message of the whole-history rule on 3000 random runs', () => {
    let fired = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const random = seeded(seed + 100_000);
      const span = 40_000;
      const h = history(random, span);
      const statuses: ClusterStatus[] = [status(0, ALL, allPairs(ALL), { whole: true })];
      for (let t = random() * 3000; t < span; t += 1000 + random() * 12_000) {
        const cut = random() < 0.6;
        statuses.push(status(Math.round(t), ALL, cut ? [['n1', 'n2']] : allPairs(ALL), { whole: !cut }));
      }
      const endTime = span;
      const c = create(progressUnderMajority);
      feed(c, h);
      const got = c.finish!(record({ statuses, endTime }));
      // The rule over the whole history, as it was, for the first window that fails.
      const writes = writesOf(h);
      let expected: string | undefined;
      // Windows: maximal runs of statuses with the same group (n1,n2 when n3 is cut off, else all three).
      const groups = statuses.map((st) => (st.connected.length === 1 ? 'n1,n2' : 'n1,n2,n3'));
      for (let i = 0; i < statuses.length && expected === undefined; ) {
        let j = i + 1;
        while (j < statuses.length && groups[j] === groups[i]) j++;
        const start = statuses[i]!.time;
        const end = j < statuses.length ? statuses[j]!.time : endTime;
        i = j;
        if (end - start < WINDOW) continue;
        const d = writes.find((o) => o.invokeTime >= start && o.invokeTime <= end - WINDOW / 2);
        if (!d) continue;
        if (writes.some((o) => o.status === 'ok' && o.completeTime !== undefined && o.completeTime >= start && o.completeTime <= end)) continue;
        expected = `no client write completed from ${start.toFixed(1)} ms to ${end.toFixed(1)} ms although ${groups[i - 1]} (a majority) were up and connected throughout and write #${d.id} of ${d.client} was invoked at ${d.invokeTime.toFixed(1)} ms`;
      }
      if (expected === undefined) {
        expect(got, `seed ${seed}`).toBeUndefined();
        continue;
      }
      fired++;
      expect(got?.message, `seed ${seed}`).toBe(expected);
    }
    expect(fired).toBeGreaterThan(10);
  });
});
