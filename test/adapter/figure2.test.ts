import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import { defaultScenario } from '../../scenarios/default.ts';
import { generatePlan } from '../../src/faults/generate.ts';
import { campaignSeeds, runScenario, type RunSettings } from '../../src/runner.ts';
import { createRaft, knobs } from '../../examples/figure2-raft/raft.ts';

/**
 * A second, independently written Raft (examples/figure2-raft): every checker must pass it, so a
 * checker that flags a correct implementation other than the reference fails here; and a bug
 * planted in it must be found, through the CLI as a user would run it.
 */
describe('the Figure 2 Raft of examples/figure2-raft', () => {
  it('passes the default campaign with its knob drawn, every checker on', () => {
    const settings: RunSettings = { factory: createRaft, knobs, checkers: ALL_CHECKERS, generatePlan };
    for (const seed of campaignSeeds(11, 60)) {
      const result = runScenario(defaultScenario, seed, settings);
      expect(result.violation, `seed ${seed}: ${result.violation?.message}`).toBeUndefined();
    }
  });

  it('with a planted bug (entries acknowledged before they are synced), a campaign fails and says why', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--impl', 'examples/figure2-raft/raft.ts', '--runs', '40', '--json', '--max-reports', '0'], {
      encoding: 'utf8',
      env: { ...process.env, CI: '1', MUTANT: 'log-no-sync' },
      timeout: 120_000,
    });
    expect(run.status).toBe(1);
    const violations = JSON.parse(run.stdout).violations as { invariant: string; message: string }[];
    expect(violations.map((v) => v.invariant)).toContain('committed-quorum');
  });
});
