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
import type { CheckerDefinition } from '../../invariants/types.ts';

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

      const report = buildReport({ scenario: defaultScenario, implementation: 'test/support/broken-raft.ts', checkersModule: 'test/support/checkers.ts', settings: s }, shrink);
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
    const shrink = shrinkFailure(defaultScenario, seed, s, { maxRuns: 300, maxRemoveRuns: 0, seedSearchAbove: Infinity })!;
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

describe('the seed search: a plan 1-minimal under its seed may shrink under another', () => {
  // A made-up failure that needs three isolations, or two when the first leader of the run is
  // `lucky` — a coincidence the seed decides, as which node leads decides many real failures.
  const isolations: FaultAction[] = [1000, 2000, 3000].map((at, i) => ({ at, kind: 'isolate', node: `n${i + 3}` }));
  const firstLeaderOf = (seed: number): string => {
    let first = '';
    const probe: CheckerDefinition = { name: 'first-leader', description: '', scope: 'step', needs: [], create: () => ({
      afterStep: (node, view) => void (first ||= view.role === 'leader' ? node : ''),
    }) };
    runScenario({ ...defaultScenario, name: 'probe', generate: undefined, plan: { version: FAULT_PLAN_VERSION, actions: [] } }, seed, { ...settings('none'), checkers: [probe] });
    return first;
  };
  const seed = 5;
  const lucky = ['n1', 'n2', 'n3', 'n4', 'n5'].find((n) => n !== firstLeaderOf(seed))!;
  const madeUp: CheckerDefinition = { name: 'made-up', description: 'fires on enough isolations', scope: 'run', needs: [], create: () => {
    let first = '';
    return {
      afterStep: (node, view) => void (first ||= view.role === 'leader' ? node : ''),
      finish: (record) => {
        const isolated = record.statuses.filter((s) => s.connected.length < 10 && s.up.length === 5).length;
        return isolated >= (first === lucky ? 2 : 3) ? { invariant: 'made-up', message: `${isolated} isolations, first leader ${first}` } : undefined;
      },
    };
  } };
  const scenario: Scenario = { ...defaultScenario, name: 'isolations', generate: undefined, plan: { version: FAULT_PLAN_VERSION, actions: isolations } };
  const s: RunSettings = { ...settings('none'), checkers: [madeUp] };

  it('moves to a seed where fewer actions fail, and the report replays it', () => {
    expect(runScenario(scenario, seed, s).violation?.invariant).toBe('made-up');
    const kept = shrinkFailure(scenario, seed, s, { seedSearchAbove: Infinity })!;
    expect(kept.plan.actions).toHaveLength(3);
    expect(kept.seed).toBe(kept.originalSeed);

    const shrink = shrinkFailure(scenario, seed, s, { seedSearchAbove: 2 })!;
    expect(shrink.plan.actions).toHaveLength(2);
    expect(shrink.seed).not.toBe(shrink.originalSeed);
    expect(shrink.originalSeed).toBe(seed);
    expect(shrink.seed).not.toBe(seed);
    expect(firstLeaderOf(shrink.seed)).toBe(lucky);
    const report = buildReport({ scenario, implementation: 'test/support/broken-raft.ts', checkersModule: 'inline', settings: s }, shrink);
    expect(report).toMatchObject({ seed: shrink.seed, originalSeed: seed });
    const replay = replayReport(report, scenario, createBrokenRaft, [madeUp]);
    expect(replay.reproduced).toBe(true);
    expect(replay.hashMatches).toBe(true);
  });

  it('spends at most maxSeedRuns: with none to spend, the plan and its seed stay as removal left them', () => {
    const kept = shrinkFailure(scenario, seed, s, { seedSearchAbove: Infinity })!;
    const none = shrinkFailure(scenario, seed, s, { seedSearchAbove: 2, maxSeedRuns: 0 })!;
    expect([none.seed, none.plan, none.runs]).toEqual([kept.seed, kept.plan, kept.runs]);
    const searched = shrinkFailure(scenario, seed, s, { seedSearchAbove: 2 })!;
    expect(searched.plan.actions.length).toBeLessThan(kept.plan.actions.length);
  });

  it('is deterministic: the same failure shrinks to the same plan and seed', () => {
    const a = shrinkFailure(scenario, seed, s, { seedSearchAbove: 2 })!;
    const b = shrinkFailure(scenario, seed, s, { seedSearchAbove: 2 })!;
    expect([b.seed, b.plan, b.runs]).toEqual([a.seed, a.plan, a.runs]);
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
