import { describe, expect, it } from 'vitest';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { generatePlan } from '../../src/faults/generate.ts';
import { createRaft } from '../../src/raft/index.ts';
import { campaignSeeds, runScenario, type RunSettings } from '../../src/runner.ts';

const settings: RunSettings = { factory: createRaft, checkers: ALL_CHECKERS, generatePlan };
const base = Number(process.env.RAFTSIM_SEED ?? 1);

/**
 * Every named scenario against the reference Raft, for its test budget of seeds (200 by default),
 * with every global checker and the scenario's own expectations. RAFTSIM_RUNS overrides the
 * budget, RAFTSIM_SEED the base seed. The scenarios are dealt over `parts` test files so that
 * vitest runs them on every core.
 */
export function scenarioSuite(part: number, parts: number): void {
  const mine = SCENARIOS.filter((_, i) => i % parts === part);
  describe.each(mine.map((s) => [s.name, s] as const))('scenario %s', (_name, scenario) => {
    const runs = Number(process.env.RAFTSIM_RUNS ?? scenario.testRuns ?? 200);

    it(`passes ${runs} seeds with no violation`, { timeout: 900_000 }, () => {
      const failures: string[] = [];
      for (const seed of campaignSeeds(base, runs)) {
        const result = runScenario(scenario, seed, settings);
        expect(result.skippedChecks).toEqual([]);
        if (result.violation) {
          failures.push(`seed ${seed}: ${result.violation.invariant}: ${result.violation.message}\n  reproduce: npx raftsim run --scenario ${scenario.name} --seed ${seed} --runs 1`);
        }
      }
      expect(failures).toEqual([]);
    });
  });
}
