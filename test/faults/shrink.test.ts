import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatePlan } from '../../src/faults/generate.ts';
import { planAtPath, removeActions, shrinkFailure } from '../../src/faults/shrink.ts';
import { FAULT_PLAN_VERSION, type FaultAction, type FaultPlan } from '../../src/faults/plan.ts';
import { buildReport, loadReport, writeReport } from '../../src/report/report.ts';
import { replayReport } from '../../src/report/replay.ts';
import { runScenario, type RunSettings } from '../../src/runner.ts';
import type { Scenario } from '../../src/sim/scenario.ts';
import { defaultScenario } from '../../scenarios/default.ts';
import { createBrokenRaft } from '../support/broken-raft.ts';
import { TEST_CHECKERS } from '../support/checkers.ts';

const settings = (bug: string): RunSettings => ({ factory: createBrokenRaft, checkers: TEST_CHECKERS, generatePlan, implementationOptions: { bug } });

/** The first failing seeds of a campaign over `scenario`. */
function failingSeeds(scenario: Scenario, s: RunSettings, count: number, from = 1): number[] {
  const seeds: number[] = [];
  for (let seed = from; seeds.length < count && seed < from + 5000; seed++) if (runScenario(scenario, seed, s).violation) seeds.push(seed);
  return seeds;
}

describe('finding, shrinking, reporting and replaying a planted bug', () => {
  it('a correct election survives generated plans (no false alarms from the generator)', () => {
    for (let seed = 1; seed <= 150; seed++) expect(runScenario(defaultScenario, seed, settings('none')).violation).toBeUndefined();
  });

  it('finds the double-vote election, shrinks it to <= 3 actions, reports it, and the report replays to the same hash', () => {
    const s = settings('double-vote');
    const dir = mkdtempSync(join(tmpdir(), 'raftsim-shrink-'));
    const seeds = failingSeeds(defaultScenario, s, 5);
    expect(seeds.length).toBe(5);
    const sizes: string[] = [];
    for (const seed of seeds) {
      const shrink = shrinkFailure(defaultScenario, seed, s, { maxRuns: 300 })!;
      expect(shrink.originalViolation.invariant).toBe('election-safety');
      expect(shrink.violation.invariant).toBe('election-safety');
      expect(shrink.plan.actions.length).toBeLessThanOrEqual(3);
      expect(shrink.plan.actions.length).toBeLessThanOrEqual(shrink.originalPlan.actions.length);
      if (shrink.method === 'fast-check, then removal') {
        // The final plan is the plan fast-check shrank to, with actions removed.
        expect(shrink.plan.actions.every((a) => shrink.fastCheck!.plan.actions.includes(a))).toBe(true);
      } else {
        expect(shrink.plan.actions.every((a) => shrink.originalPlan.actions.includes(a))).toBe(true);
      }
      sizes.push(`${shrink.originalPlan.actions.length}->${shrink.plan.actions.length}`);

      const report = buildReport({ scenario: defaultScenario, seed, implementation: 'test/support/broken-raft.ts', checkersModule: 'test/support/checkers.ts', settings: s }, shrink);
      const file = writeReport(dir, report);
      const loaded = loadReport(file);
      expect(loaded.plan).toEqual(shrink.plan);
      expect(loaded.trace.at(-1)!.k).toBe('violation');
      const replay = replayReport(loaded, defaultScenario, createBrokenRaft, TEST_CHECKERS);
      expect(replay.hashMatches).toBe(true);
      expect(replay.reproduced).toBe(true);
    }
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    console.log(`shrunk plans (actions before->after): ${sizes.join(', ')}`);
  });

  it("names fast-check's shrunk plan by seed and path (removal switched off to make fast-check's result the final one)", () => {
    const s = settings('double-vote');
    const seed = failingSeeds(defaultScenario, s, 1).find((x) => generatePlan(defaultScenario, x).actions.length > 1)!;
    const shrink = shrinkFailure(defaultScenario, seed, s, { maxRuns: 300, maxRemoveRuns: 0 })!;
    expect(shrink.method).toBe('fast-check, then removal');
    expect(planAtPath(defaultScenario, shrink.fastCheck!.seed, shrink.fastCheck!.path)).toEqual(shrink.fastCheck!.plan);
    expect(shrink.plan).toEqual(shrink.fastCheck!.plan);
    expect(shrink.plan.actions.length).toBeLessThan(shrink.originalPlan.actions.length);
  });

  it('shrinks a fixed plan by removing actions, and the run seed stays fixed', () => {
    const s = settings('double-vote');
    const [seed] = failingSeeds(defaultScenario, s, 1);
    const original = runScenario(defaultScenario, seed!, s).plan;
    const fixed: Scenario = { ...defaultScenario, name: 'fixed', generate: undefined, plan: original };
    const shrink = shrinkFailure(fixed, seed!, s)!;
    expect(shrink.method).toBe('removal');
    expect(shrink.fastCheck).toBeUndefined();
    expect(shrink.plan.actions.length).toBeLessThanOrEqual(original.actions.length);
    expect(runScenario(fixed, seed!, { ...s, plan: shrink.plan }).violation?.invariant).toBe('election-safety');
  });

  it('returns undefined for a passing run', () => {
    expect(shrinkFailure(defaultScenario, 1, settings('none'))).toBeUndefined();
  });
});

describe('removal after fast-check', () => {
  const crash: FaultAction = { at: 100, kind: 'crash', node: 'n1', loss: 'all' };
  const restart: FaultAction = { at: 200, kind: 'restart', node: 'n1' };
  const isolate: FaultAction = { at: 300, kind: 'isolate', node: 'n2' };
  const heal: FaultAction = { at: 400, kind: 'heal' };
  const plan: FaultPlan = { version: FAULT_PLAN_VERSION, actions: [crash, restart, isolate, heal] };
  const has = (p: { actions: readonly FaultAction[] }, a: FaultAction): boolean => p.actions.includes(a);

  it('drops a pair of actions that only matter together (no single removal keeps the failure)', () => {
    // The failure needs the isolation; the crash and the restart must go or stay together.
    const fails = (p: FaultPlan): boolean => has(p, isolate) && has(p, crash) === has(p, restart);
    expect(removeActions(plan, fails).actions).toEqual([isolate]);
  });

  it('keeps every action that the failure needs', () => {
    const fails = (p: FaultPlan): boolean => has(p, crash) && has(p, isolate);
    expect(removeActions(plan, fails).actions).toEqual([crash, isolate]);
  });
});
