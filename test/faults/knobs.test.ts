import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KnobSpace } from '../../src/adapter/contract.ts';
import { checkImplementationOptions, parseKnobs } from '../../src/adapter/load.ts';
import { planArbitrary } from '../../src/faults/arbitraries.ts';
import { generatePlan } from '../../src/faults/generate.ts';
import type { FaultPlan } from '../../src/faults/plan.ts';
import { planAtPath, resetKnobs, shrinkFailure } from '../../src/faults/shrink.ts';
import { validatePlan } from '../../src/faults/validate.ts';
import { createRaft, knobs as referenceKnobs, validateOptions as validateReferenceOptions } from '../../src/raft/index.ts';
import { campaignSeeds, freeKnobs, runScenario, type RunSettings } from '../../src/runner.ts';
import { defaultScenario } from '../../scenarios/default.ts';
import { ALL_CHECKERS } from '../../invariants/index.ts';

const KNOBS: KnobSpace = { batch: [64, 1, 4], preVote: [true, false], fixed: ['only'] };
const seeds = campaignSeeds(1, 400);

describe('knobs: implementation options drawn per run', () => {
  it('draw after the actions: a seed gives the same actions with knobs as without', () => {
    for (const seed of seeds.slice(0, 100)) {
      expect(generatePlan(defaultScenario, seed, KNOBS).actions).toEqual(generatePlan(defaultScenario, seed).actions);
    }
  });

  it('keep each default about half the time, name only values other than the default, and never draw a one-value knob', () => {
    const drawn = seeds.map((seed) => generatePlan(defaultScenario, seed, KNOBS).knobs ?? {});
    const batch = drawn.map((k) => k.batch);
    const preVote = drawn.map((k) => k.preVote);
    for (const values of [batch, preVote]) {
      const left = values.filter((v) => v !== undefined).length / values.length;
      expect(left).toBeGreaterThan(0.4);
      expect(left).toBeLessThan(0.6);
    }
    expect(new Set(batch.filter((v) => v !== undefined))).toEqual(new Set([1, 4]));
    expect(new Set(preVote.filter((v) => v !== undefined))).toEqual(new Set([false]));
    expect(drawn.some((k) => 'fixed' in k)).toBe(false);
    // A plan with no knob off its default has no knobs field at all.
    expect(seeds.map((seed) => generatePlan(defaultScenario, seed, KNOBS)).some((p) => !('knobs' in p))).toBe(true);
  });

  it('are not drawn when the scenario says generate.knobs = false, nor for options the scenario or the caller fixes', () => {
    const noKnobs = { ...defaultScenario, generate: { knobs: false } };
    for (const seed of seeds.slice(0, 50)) expect(generatePlan(noKnobs, seed, KNOBS).knobs).toBeUndefined();
    const settings: RunSettings = { factory: createRaft, checkers: [], knobs: KNOBS, implementationOptions: { batch: 8 } };
    expect(Object.keys(freeKnobs({ ...defaultScenario, implementationOptions: { preVote: true } }, settings))).toEqual(['fixed']);
  });

  it('reach the implementation: a run gets the drawn options merged over the scenario, and the caller\'s fixed ones win', () => {
    const seen: unknown[] = [];
    const spy: RunSettings['factory'] = (host, config) => (seen.push(config.options), createRaft(host, config));
    const seed = seeds.find((s) => generatePlan(defaultScenario, s, referenceKnobs).knobs?.maxEntriesPerAppend !== undefined)!;
    const drawn = generatePlan(defaultScenario, seed, referenceKnobs).knobs!;
    runScenario({ ...defaultScenario, faultWindowMs: 100, settleMs: 0 }, seed, { factory: spy, checkers: [], knobs: referenceKnobs, plan: { version: 1, knobs: drawn, actions: [] } });
    expect(seen[0]).toEqual(drawn);
    seen.length = 0;
    runScenario({ ...defaultScenario, faultWindowMs: 100, settleMs: 0 }, seed, { factory: spy, checkers: [], plan: { version: 1, knobs: drawn, actions: [] }, implementationOptions: { maxEntriesPerAppend: 7 } });
    expect((seen[0] as Record<string, unknown>).maxEntriesPerAppend).toBe(7);
  });

  it('runs with knobs are deterministic: the same seed gives the same trace hash', () => {
    const settings: RunSettings = { factory: createRaft, knobs: referenceKnobs, checkers: ALL_CHECKERS, generatePlan };
    for (const seed of seeds.slice(0, 5)) {
      expect(runScenario(defaultScenario, seed, settings).traceHash).toBe(runScenario(defaultScenario, seed, settings).traceHash);
    }
  });

  it('are part of what fast-check shrinks, so a (seed, path) names the knobs too', () => {
    const seed = seeds[3]!;
    let first: FaultPlan | undefined;
    fc.check(fc.property(planArbitrary(defaultScenario, KNOBS), (p) => ((first ??= p), true)), { seed: seed | 0, numRuns: 1 });
    expect(first).toEqual(generatePlan(defaultScenario, seed, KNOBS));
    expect(planAtPath(defaultScenario, seed | 0, '0', KNOBS)).toEqual(first);
  });
});

describe('resetKnobs', () => {
  const plan: FaultPlan = { version: 1, knobs: { batch: 1, preVote: false, snapshot: 5 }, actions: [{ at: 10, kind: 'heal' }] };

  it('puts back to the default every knob the failure does not need', () => {
    const needsBatch = (p: FaultPlan): boolean => p.knobs?.batch === 1;
    expect(resetKnobs(plan, needsBatch)).toEqual({ version: 1, knobs: { batch: 1 }, actions: plan.actions });
  });

  it('drops the knobs field when the failure needs none, and keeps all when it needs all', () => {
    expect(resetKnobs(plan, () => true)).toEqual({ version: 1, actions: plan.actions });
    expect(resetKnobs(plan, (p) => Object.keys(p.knobs ?? {}).length === 3)).toEqual(plan);
  });

  it('is part of shrinking: a zoo bug that needs a knob keeps it, and only it', () => {
    // figure8-commit-old-term shows (by current-term-commit) when a leader without the election
    // no-op commits an old entry by counting: the shrunk plan must keep electionNoop=false.
    const settings: RunSettings = { factory: createRaft, knobs: referenceKnobs, checkers: ALL_CHECKERS, generatePlan, implementationOptions: { bugs: ['figure8-commit-old-term'] } };
    const seed = seeds.find((s) => runScenario(defaultScenario, s, settings).violation !== undefined)!;
    const result = shrinkFailure(defaultScenario, seed, settings, { maxRuns: 50, maxSeedRuns: 0 })!;
    expect(result.plan.knobs).toEqual({ electionNoop: false });
  });
});

describe('knob validation', () => {
  it('accepts a plan with knobs and names a knobs field that is not an object', () => {
    expect(validatePlan({ version: 1, knobs: { batch: 1 }, actions: [] }, ['n1'], 'p')).toBeDefined();
    expect(() => validatePlan({ version: 1, knobs: [1], actions: [] }, ['n1'], 'p')).toThrow(/plan "knobs" must be an object/);
  });

  it('names the bad knob of an implementation module and the fix', () => {
    expect(parseKnobs(undefined, 'm')).toEqual({});
    expect(() => parseKnobs([1, 2], 'm')).toThrow(/must be an object \{ option: \[default/);
    expect(() => parseKnobs({ batch: [] }, 'm')).toThrow(/knob "batch" must be a non-empty list/);
    expect(() => parseKnobs({ batch: 64 }, 'm')).toThrow(/knob "batch" must be a non-empty list/);
    expect(() => parseKnobs({ clock: [() => 1] }, 'm')).toThrow(/knob "clock" value \[0\] is not plain JSON/);
    expect(() => parseKnobs({ rate: [1, Number.NaN] }, 'm')).toThrow(/knob "rate" value \[1\]/);
  });

  it("checks the fixed options, and every knob value alone, against the implementation's validateOptions", () => {
    const reference = { factory: createRaft, knobs: referenceKnobs, validateOptions: validateReferenceOptions };
    expect(() => checkImplementationOptions(reference, { preVote: false, bugs: ['skip-prevlog-check'] }, '--impl-options')).not.toThrow();
    expect(() => checkImplementationOptions(reference, { snapshotThreshold: 0 }, '--impl-options')).toThrow(/^--impl-options: raft option "snapshotThreshold"/);
    expect(() => checkImplementationOptions({ ...reference, knobs: { ...referenceKnobs, preVote: [true, 'sometimes'] } }, {}, 'x')).toThrow(
      /the implementation's knob "preVote" value \[1\]: raft option "preVote"/,
    );
    // Without validateOptions nothing can be checked ahead: a refused option shows in the runs.
    expect(() => checkImplementationOptions({ factory: createRaft, knobs: {} }, { preVot: false }, 'x')).not.toThrow();
  });
});
