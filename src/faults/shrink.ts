import fc from 'fast-check';
import { runScenario, type RunSettings } from '../runner.ts';
import type { Scenario } from '../sim/scenario.ts';
import type { Violation } from '../../invariants/types.ts';
import { planArbitrary } from './arbitraries.ts';
import { FAULT_PLAN_VERSION, type FaultPlan } from './plan.ts';

/**
 * Shrinking a failing run. The run seed stays fixed — the network, the nodes and the clients draw
 * from the same streams — while the plan shrinks toward fewer and simpler actions. Because the
 * engine forks its random streams by purpose, removing one action perturbs the rest of the run
 * little, so a smaller plan usually keeps the failure.
 *
 * A generated plan is shrunk by fast-check itself: `fc.check` over the plan arbitrary with the run
 * seed as fast-check's seed draws, as its first value, the very plan the run used (see
 * generate.ts); the property "no violation of the same invariant" fails on it, and fast-check
 * shrinks through the arbitrary's own shrink tree. Its `counterexamplePath` together with the seed
 * name the plan it shrank to, and `planAtPath` walks back to it. fast-check shrinks along the
 * arbitrary's structure (episodes, swarm), which can leave actions that are individually
 * unnecessary, so its result is then shrunk further by removing actions (see removeActions)
 * until neither one action nor a pair can go. A fixed plan (the scenario's own, or a plan given
 * to replay) has no shrink tree and gets only that second step.
 *
 * The number of runs is capped (`maxRuns`); past the cap every candidate counts as passing, which
 * stops shrinking deterministically: the result depends on the inputs only, never on wall time.
 */
export interface ShrinkOptions {
  /** Simulation runs allowed, the first (original) one included. Default 400. */
  readonly maxRuns?: number;
  /**
   * Further runs allowed for the final removal passes, so a long fast-check phase cannot leave
   * the result unminimised. Default: four single-removal passes and one pair pass over the plan
   * fast-check returned.
   */
  readonly maxRemoveRuns?: number;
  /** Only a violation of the original invariant counts as "still failing" (default true). */
  readonly sameInvariant?: boolean;
}

export interface FastCheckTrail {
  /** The seed given to fc.check (the run seed as a signed 32-bit integer). */
  readonly seed: number;
  /** fast-check's counterexamplePath: replays the shrink steps from that seed. */
  readonly path: string;
  readonly numShrinks: number;
  /** The plan fast-check shrank to (the final plan is it, or a subsequence of it). */
  readonly plan: FaultPlan;
}

export interface ShrinkResult {
  readonly originalPlan: FaultPlan;
  readonly originalViolation: Violation;
  readonly plan: FaultPlan;
  readonly violation: Violation;
  readonly method: 'fast-check, then removal' | 'removal';
  readonly fastCheck?: FastCheckTrail;
  /** Simulation runs spent shrinking, the original one included. */
  readonly runs: number;
  /** True when the run cap stopped shrinking early. */
  readonly capped: boolean;
}

/** The seed fast-check is given for a run seed (fast-check wants a 32-bit signed integer). */
export function fastCheckSeed(runSeed: number): number {
  return runSeed | 0;
}

/**
 * Shrinks the plan of a failing (scenario, seed). Returns undefined when the run does not fail.
 * `settings.plan`, when given, is the plan to shrink; otherwise the scenario's fixed plan, or the
 * plan generated from the seed.
 */
export function shrinkFailure(scenario: Scenario, seed: number, settings: RunSettings, options: ShrinkOptions = {}): ShrinkResult | undefined {
  const maxRuns = options.maxRuns ?? 400;
  const sameInvariant = options.sameInvariant ?? true;
  const base: RunSettings = { ...settings, trace: 'hash' };
  const first = runScenario(scenario, seed, base);
  if (!first.violation) return undefined;
  const target = first.violation.invariant;
  let runs = 1;
  let capped = false;
  let limit = maxRuns;
  const fails = (plan: FaultPlan): boolean => {
    if (runs >= limit) {
      capped = true;
      return false;
    }
    runs++;
    const v = runScenario(scenario, seed, { ...base, plan }).violation;
    return v !== undefined && (!sameInvariant || v.invariant === target);
  };
  const generated = settings.plan === undefined && scenario.plan === undefined && scenario.generate !== undefined;
  let plan: FaultPlan;
  let fastCheck: FastCheckTrail | undefined;
  if (generated) {
    const fcSeed = fastCheckSeed(seed);
    let firstSeen = true;
    // Shrinking the swarm (drawn first, then chained) redraws the episodes, and a redrawn plan
    // may be longer than the one it replaces: such a candidate counts as passing without a run,
    // so every accepted step keeps or lowers the number of actions.
    let bestLength = first.plan.actions.length;
    const property = fc.property(planArbitrary(scenario), (candidate) => {
      if (firstSeen) {
        // The first value is the run's own plan, already known to fail: no need to run it again.
        firstSeen = false;
        return false;
      }
      if (candidate.actions.length > bestLength) return true;
      if (!fails(candidate)) return true;
      bestLength = candidate.actions.length;
      return false;
    });
    const details = fc.check(property, { seed: fcSeed, numRuns: 1 });
    if (!details.failed || details.counterexample === null || details.counterexamplePath === null) {
      throw new Error(`shrink: fast-check did not reproduce the failure of seed ${seed} (is the plan generator deterministic?)`);
    }
    const shrunk = details.counterexample[0];
    fastCheck = { seed: fcSeed, path: details.counterexamplePath, numShrinks: details.numShrinks, plan: shrunk };
    const n = shrunk.actions.length;
    limit = runs + (options.maxRemoveRuns ?? 4 * n + (n * (n - 1)) / 2);
    plan = removeActions(shrunk, fails);
  } else {
    plan = removeActions(first.plan, fails);
  }
  const last = runScenario(scenario, seed, { ...base, plan });
  if (!last.violation) throw new Error(`shrink: the shrunk plan of seed ${seed} no longer fails; the simulation is not deterministic`);
  return {
    originalPlan: first.plan,
    originalViolation: first.violation,
    plan,
    violation: last.violation,
    method: generated ? 'fast-check, then removal' : 'removal',
    ...(fastCheck ? { fastCheck } : {}),
    runs,
    capped,
  };
}

/**
 * Greedy minimisation: drop single actions, last first, while the failure remains (1-minimal);
 * then try dropping pairs, because some actions only matter together — a crash and the restart
 * of the node it hit, a partition and its heal — and removing either alone changes the run in
 * a way that loses the failure. After a successful pair removal, single removals are retried.
 */
export function removeActions(plan: FaultPlan, fails: (plan: FaultPlan) => boolean): FaultPlan {
  let actions = [...plan.actions];
  const without = (drop: (j: number) => boolean): FaultPlan => ({ version: FAULT_PLAN_VERSION, actions: actions.filter((_, j) => !drop(j)) });
  for (;;) {
    for (let changed = true; changed; ) {
      changed = false;
      for (let i = actions.length - 1; i >= 0; i--) {
        const candidate = without((j) => j === i);
        if (fails(candidate)) {
          actions = [...candidate.actions];
          changed = true;
        }
      }
    }
    let pairRemoved = false;
    for (let i = actions.length - 1; i >= 1 && !pairRemoved; i--) {
      for (let k = i - 1; k >= 0 && !pairRemoved; k--) {
        const candidate = without((j) => j === i || j === k);
        if (fails(candidate)) {
          actions = [...candidate.actions];
          pairRemoved = true;
        }
      }
    }
    if (!pairRemoved) return { version: FAULT_PLAN_VERSION, actions };
  }
}

/**
 * The plan that fast-check's (seed, path) names for a scenario: walks the shrink path without
 * running anything: planAtPath(scenario, fastCheck.seed, fastCheck.path) equals fastCheck.plan.
 */
export function planAtPath(scenario: Scenario, seed: number, path: string): FaultPlan {
  const details = fc.check(
    fc.property(planArbitrary(scenario), () => false),
    { seed, path, numRuns: 1, endOnFailure: true },
  );
  if (!details.failed || details.counterexample === null) throw new Error(`planAtPath: no plan at seed ${seed}, path ${path}`);
  return details.counterexample[0] as FaultPlan;
}
