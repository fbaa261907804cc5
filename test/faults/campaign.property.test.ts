import { fc, test } from '@fast-check/vitest';
import { describe } from 'vitest';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import { generatePlan } from '../../src/faults/generate.ts';
import { shrinkFailure } from '../../src/faults/shrink.ts';
import { createRaft, knobs } from '../../src/raft/index.ts';
import { writeHtml } from '../../src/report/html.ts';
import { buildReport, replayCommand, writeReport } from '../../src/report/report.ts';
import { runScenario, type RunSettings } from '../../src/runner.ts';
import { SCENARIOS } from '../../scenarios/index.ts';

/**
 * The CI property suite: the reference Raft under generated fault plans, every checker on.
 * The budget is small by default (the whole suite stays within minutes on 2 cores);
 * RAFTSIM_RUNS widens it, RAFTSIM_SEED pins fast-check's seed (the run seeds follow from it).
 * A failure is shrunk and reported like `raftsim run` does, and the error names the seed and the
 * replay command; fast-check adds its own seed and path to re-run exactly this case.
 */
const RUNS = process.env.RAFTSIM_RUNS ? Number(process.env.RAFTSIM_RUNS) : 12;
const SEED = process.env.RAFTSIM_SEED ? Number(process.env.RAFTSIM_SEED) : undefined;
// With its knobs, as `npm start` runs it: each run draws the reference's options too.
const settings: RunSettings = { factory: createRaft, knobs, checkers: ALL_CHECKERS, generatePlan };

// The run seed is not shrunk (a smaller seed is not a simpler run); the plan is, by shrinkFailure.
const runSeed = fc.noShrink(fc.integer({ min: 0, max: 0xffffffff }));

describe('property: no invariant is violated under generated fault plans', () => {
  for (const scenario of SCENARIOS.filter((s) => s.generate !== undefined)) {
    test.prop([runSeed], { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) })(`${scenario.name}`, (seed) => {
      const result = runScenario(scenario, seed, settings);
      if (!result.violation) return;
      const shrink = shrinkFailure(scenario, seed, settings, { maxRuns: 200 });
      let where = '';
      if (shrink) {
        const report = buildReport({ scenario, implementation: 'reference', checkersModule: 'builtin', settings }, shrink);
        const file = writeReport('reports', report);
        writeHtml('reports', report, replayCommand(file));
        where = `\nshrunk to ${shrink.plan.actions.length} action(s); report ${file}\nreplay: ${replayCommand(file)}`;
      }
      throw new Error(
        `scenario ${scenario.name}, run seed ${seed}: ${result.violation.invariant} — ${result.violation.message}` +
          `\nre-run: npm run raftsim -- run --scenario ${scenario.name} --seed ${seed} --runs 1${where}`,
      );
    });
  }
});
