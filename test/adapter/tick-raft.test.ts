import { describe, expect, it } from 'vitest';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { generatePlan } from '../../src/faults/generate.ts';
import { campaignSeeds, runScenario, type RunSettings } from '../../src/runner.ts';
import { createRaft } from '../../examples/tick-raft/raft.ts';

/**
 * A third Raft (examples/tick-raft), written by someone who read only the paper and the adapter
 * contract: etcd-style ticks, PreVote, CheckQuorum, ReadIndex, snapshots, single-server membership
 * changes (it refuses a change of two servers at once). Every checker and every scenario must pass
 * it: a finding here is a false positive of raftsim's, or a bug in it that its README must name.
 */
describe('the etcd-style Raft of examples/tick-raft', () => {
  const settings: RunSettings = { factory: createRaft, checkers: ALL_CHECKERS, generatePlan };

  it('passes the default campaign, every checker on', () => {
    const scenario = SCENARIOS.find((s) => s.name === 'default')!;
    for (const seed of campaignSeeds(21, 40)) {
      const result = runScenario(scenario, seed, settings);
      expect(result.violation, `seed ${seed}: ${result.violation?.message}`).toBeUndefined();
    }
  });

  const named = SCENARIOS.filter((s) => s.name !== 'default');
  it.each(named.map((s) => [s.name, s] as const))('passes the %s scenario', (_name, scenario) => {
    for (const seed of campaignSeeds(5, 3)) {
      const result = runScenario(scenario, seed, settings);
      expect(result.violation, `seed ${seed}: ${result.violation?.message}`).toBeUndefined();
    }
  });
});
