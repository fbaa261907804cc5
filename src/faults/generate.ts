import fc from 'fast-check';
import type { KnobSpace } from '../adapter/contract.ts';
import type { Scenario } from '../sim/scenario.ts';
import { planArbitrary } from './arbitraries.ts';
import type { FaultPlan } from './plan.ts';

/**
 * The plan a run of a generating scenario uses: the first value fast-check draws from the plan
 * arbitrary with `seed` as its seed. That is exactly the value `fc.check(property, { seed })` tries
 * first, so the shrinker (src/faults/shrink.ts) starts from this very plan and fast-check's
 * (seed, path) pair names the shrunk plan. `knobs`: the implementation's free knobs, drawn into
 * the plan (see planArbitrary). Deterministic: the same scenario and seed give the same
 * plan on every machine.
 */
export function generatePlan(scenario: Scenario, seed: number, knobs: KnobSpace = {}): FaultPlan {
  return fc.sample(planArbitrary(scenario, knobs), { seed: seed | 0, numRuns: 1 })[0]!;
}
