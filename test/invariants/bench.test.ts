import { describe, expect, it } from 'vitest';
import { checkLinearizable } from '../../invariants/linearizability.ts';
import { benchCheckers, benchEngine, benchLinearizability, randomHistory } from '../../src/bench/checkers.ts';

describe('checker benchmarks', () => {
  it('generated linearizable histories pass; corrupting one read makes them fail', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const h = randomHistory({ operations: 400, clients: 5, keys: 2, seed });
      expect(checkLinearizable(h).ok).toBe(true);
      const bad = h.map((o) => ({ ...o }));
      const read = bad.filter((o) => o.op.type === 'get' && o.status === 'ok' && (o.output ?? '') !== '').at(-1)!;
      read.output = `${read.output}x`;
      expect(checkLinearizable(bad).ok).toBe(false);
    }
  });

  it('benchCheckers and benchLinearizability report their figures', async () => {
    const steps = await benchCheckers({ prefill: 2000, steps: 5000, rounds: 1, engine: false });
    expect(steps.overheadRatio).toBeGreaterThan(0);
    expect(steps.syntheticStepOverheadRatio).toBe(steps.overheadRatio); // no engine bench here
    expect(steps.tenThousandEntryLogOverheadRatio).toBeUndefined();
    expect(steps.logLengthTo).toBeGreaterThanOrEqual(2000);
    const lin = benchLinearizability();
    expect(lin.ops10kMs).toBeGreaterThan(0);
    expect(lin.concurrent10Ms).toBeGreaterThan(0);
  });

  it('benchEngine times one real run with the step checkers on and off (same trace hash), its log never compacted', async () => {
    const engine = await benchEngine({ rounds: 1, virtualMs: 3000 });
    expect(engine).toBeDefined();
    expect(engine!.ratio).toBeGreaterThan(0);
    expect(engine!.events).toBeGreaterThan(1000);
    expect(engine!.logLength).toBeGreaterThan(64); // past the default snapshot threshold: nothing compacted it
  });
});
