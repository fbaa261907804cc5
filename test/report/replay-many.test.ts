import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatePlan } from '../../src/faults/generate.ts';
import { shrinkFailure } from '../../src/faults/shrink.ts';
import { buildReport, loadReport, writeReport } from '../../src/report/report.ts';
import { replayReport } from '../../src/report/replay.ts';
import { campaignSeeds, runScenario, type RunSettings } from '../../src/runner.ts';
import type { Scenario } from '../../src/sim/scenario.ts';
import { createBrokenRaft } from '../support/broken-raft.ts';
import { TEST_CHECKERS } from '../support/checkers.ts';

// A short run keeps 100 shrinks and replays within seconds.
const scenario: Scenario = { name: 'replay-many', description: '', nodes: 5, faultWindowMs: 2000, settleMs: 1000, generate: {} };
const settings: RunSettings = { factory: createBrokenRaft, checkers: TEST_CHECKERS, generatePlan, implementationOptions: { bug: 'double-vote' } };

describe('replay', () => {
  it('100 reports of random failing runs replay to 100 matching hashes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftsim-replay-'));
    const files: string[] = [];
    for (const seed of campaignSeeds(7, 3000)) {
      if (files.length === 100) break;
      if (!runScenario(scenario, seed, settings).violation) continue;
      const shrink = shrinkFailure(scenario, seed, settings, { maxRuns: 15 })!;
      const report = buildReport({ scenario, scenarioFile: 'replay-many.json', implementation: 'test/support/broken-raft.ts', checkersModule: 'test/support/checkers.ts', settings }, shrink);
      files.push(writeReport(dir, report));
    }
    expect(files.length).toBe(100);
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(100);
    let matches = 0;
    for (const file of files) {
      const report = loadReport(file);
      const outcome = replayReport(report, scenario, createBrokenRaft, TEST_CHECKERS);
      if (outcome.hashMatches && outcome.reproduced) matches++;
    }
    expect(matches).toBe(100);
  });
});
