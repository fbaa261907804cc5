import fc from 'fast-check';
import type { KnobSpace } from '../adapter/contract.ts';
import { freeKnobs, runScenario, type RunSettings } from '../runner.ts';
import { campaignSeed } from '../sim/rng.ts';
import type { Scenario } from '../sim/scenario.ts';
import type { Violation } from '../../invariants/types.ts';
import { planArbitrary } from './arbitraries.ts';
import { withActions, withKnobs, type FaultPlan } from './plan.ts';

/**
 * Shrinking a failing run. The run seed stays fixed — the network, the nodes and the clients draw
 * from the same streams — while the plan shrinks toward fewer and simpler actions. Because the
 * engine forks its random streams by purpose, removing one action perturbs the rest of the run
 * little, so a smaller plan usually keeps the failure.
 *
 * Two shrinkers run and the shorter result wins:
 *  - removal (removeActions): delta-debugging-style removal of chunks, single actions and pairs
 *    from the failing plan. It works on any plan (the scenario's own, one given to replay) and
 *    costs tens of runs;
 *  - for a generated plan, fast-check itself: `fc.check` over the plan arbitrary with the run
 *    seed as fast-check's seed draws, as its first value, the very plan the run used (see
 *    generate.ts); the property "no violation of the same invariant" fails on it, and fast-check
 *    shrinks through the arbitrary's shrink tree (episodes, swarm, and simpler values). Its
 *    `counterexamplePath` together with the seed name the plan it shrank to (`planAtPath` walks
 *    back to it), and removal then finishes it.
 *
 * When both leave more than `seedSearchAbove` actions, a seed search follows: a plan that is
 * 1-minimal for one run seed is often not for another, because which node leads, which vote
 * splits and which message is late all come from the seed, and a longer plan is mostly there to
 * recreate, by force, a coincidence that another seed gives for free. So other seeds are tried in
 * turn (the run's campaign from its seed on), each with every single removal from the current
 * plan; the first removal that still fails is taken with its seed, removal runs again there, and
 * the search goes on with the next seeds until the plan is short enough or the search's runs are
 * spent. Seeds are the outer loop because the coincidence that lets one action go is rare (for
 * joint-consensus-union-quorum's 6-action plan, one seed in a hundred freed one action and none
 * freed the other five): trying every removal on each seed finds the first lucky seed, whichever
 * action it frees. The result then names the seed it fails with (`seed`), which differs from the
 * run's.
 *
 * Knobs the plan drew (implementation options, see FaultPlan.knobs) are then put back to their
 * defaults one at a time while the failure remains (`resetKnobs`), so a report names only the
 * options the failure needs.
 *
 * Runs are capped (`maxRuns` for fast-check, `maxRemoveRuns` for each removal, `maxSeedRuns` for
 * the seed search); past a cap every candidate counts as passing, which stops shrinking
 * deterministically: the result depends on the inputs only, never on wall time.
 */
export interface ShrinkOptions {
  /** Simulation runs fast-check's shrinking may spend, the original run included. Default 400. */
  readonly maxRuns?: number;
  /**
   * Runs each removal may spend. Default: enough for four single-removal passes and one pair
   * pass over the plan it starts from.
   */
  readonly maxRemoveRuns?: number;
  /** Only a violation of the original invariant counts as "still failing" (default true). */
  readonly sameInvariant?: boolean;
  /**
   * The seed search runs only when removal and fast-check leave more actions than this.
   * Default 3: a plan that short is read at a glance, and keeping the run's seed keeps the
   * report next to the campaign that found it.
   */
  readonly seedSearchAbove?: number;
  /** Runs the seed search may spend. Default 1,500 (seconds on one core for the default scenario). */
  readonly maxSeedRuns?: number;
}

export interface FastCheckTrail {
  /** The seed given to fc.check (the run seed as a signed 32-bit integer). */
  readonly seed: number;
  /** fast-check's counterexamplePath: replays the shrink steps from that seed. */
  readonly path: string;
  readonly numShrinks: number;
  /** The plan fast-check shrank to (with method 'fast-check, then removal', the final plan is it or a subsequence of it). */
  readonly plan: FaultPlan;
}

export interface ShrinkResult {
  /** The seed the shrunk plan fails with: the run's own, unless the seed search moved it. */
  readonly seed: number;
  /** The failing run's seed, which `originalPlan` fails with. */
  readonly originalSeed: number;
  readonly originalPlan: FaultPlan;
  readonly originalViolation: Violation;
  readonly plan: FaultPlan;
  readonly violation: Violation;
  /** Which shrinker's result won (see the comment at the top). */
  readonly method: 'fast-check, then removal' | 'removal';
  /** fast-check's shrinking, when it ran (also when removal alone got further). */
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
/** A "still fails?" test with a run budget. */
interface BudgetedTest {
  (plan: FaultPlan, runSeed?: number): boolean;
  /** True once the budget is used up: every later call answers "no" without a run. */
  spent(): boolean;
}

export function shrinkFailure(scenario: Scenario, seed: number, settings: RunSettings, options: ShrinkOptions = {}): ShrinkResult | undefined {
  const maxRuns = options.maxRuns ?? 400;
  const sameInvariant = options.sameInvariant ?? true;
  const base: RunSettings = { ...settings, trace: 'hash' };
  const first = runScenario(scenario, seed, base);
  if (!first.violation) return undefined;
  const target = first.violation.invariant;
  let runs = 1;
  let capped = false;
  /** A "still fails?" test that allows `budget` runs, then answers "no" (deterministically); `spent()` tells when it has. */
  const failsWithin = (budget: number): BudgetedTest => {
    let left = budget;
    const fails = (plan: FaultPlan, runSeed = seed): boolean => {
      if (left <= 0) {
        capped = true;
        return false;
      }
      left--;
      runs++;
      const v = runScenario(scenario, runSeed, { ...base, plan }).violation;
      return v !== undefined && (!sameInvariant || v.invariant === target);
    };
    return Object.assign(fails, { spent: () => left <= 0 });
  };
  const removalBudget = (n: number): number => options.maxRemoveRuns ?? 4 * n + (n * (n - 1)) / 2;
  // Removal alone is cheap (tens of runs) and often gets furthest; fast-check's structured
  // shrinking sometimes finds a smaller plan removal cannot reach. Both run; the shorter wins.
  const removed = removeActions(first.plan, failsWithin(removalBudget(first.plan.actions.length)));
  const generated = settings.plan === undefined && scenario.plan === undefined && scenario.generate !== undefined;
  let plan = removed;
  let method: ShrinkResult['method'] = 'removal';
  let fastCheck: FastCheckTrail | undefined;
  if (generated && removed.actions.length > 1) {
    const fails = failsWithin(maxRuns - 1);
    const fcSeed = fastCheckSeed(seed);
    let firstSeen = true;
    // Shrinking the swarm (drawn first, then chained) redraws the episodes, and a redrawn plan
    // may be longer than the one it replaces: such a candidate counts as passing without a run,
    // so every accepted step keeps or lowers the number of actions.
    let bestLength = first.plan.actions.length;
    const property = fc.property(planArbitrary(scenario, freeKnobs(scenario, settings)), (candidate) => {
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
    const viaFastCheck = removeActions(shrunk, failsWithin(removalBudget(shrunk.actions.length)));
    if (viaFastCheck.actions.length < removed.actions.length) {
      plan = viaFastCheck;
      method = 'fast-check, then removal';
    }
  }
  plan = resetKnobs(plan, failsWithin(Object.keys(plan.knobs ?? {}).length));
  let shrunkSeed = seed;
  const seedSearchAbove = options.seedSearchAbove ?? 3;
  if (plan.actions.length > seedSearchAbove) {
    const searchFails = failsWithin(options.maxSeedRuns ?? 1500);
    // Run 0 of the campaign is the run's own seed, where removal already found nothing to drop.
    // The seeds are unbounded: the search's budget ends it.
    for (let i = 1; !searchFails.spent() && plan.actions.length > seedSearchAbove; i++) {
      const other = campaignSeed(seed, i);
      if (other === shrunkSeed) continue;
      for (let drop = plan.actions.length - 1; drop >= 0; drop--) {
        const candidate = withActions(plan, plan.actions.filter((_, j) => j !== drop));
        if (!searchFails(candidate, other)) continue;
        shrunkSeed = other;
        const failsThere = failsWithin(removalBudget(candidate.actions.length));
        plan = removeActions(candidate, (p) => failsThere(p, other));
        break;
      }
    }
  }
  const last = runScenario(scenario, shrunkSeed, { ...base, plan });
  if (!last.violation) throw new Error(`shrink: the shrunk plan of seed ${shrunkSeed} no longer fails; the simulation is not deterministic`);
  return {
    seed: shrunkSeed,
    originalSeed: seed,
    originalPlan: first.plan,
    originalViolation: first.violation,
    plan,
    violation: last.violation,
    method,
    ...(fastCheck ? { fastCheck } : {}),
    runs,
    capped,
  };
}

/**
 * Greedy minimisation by removal, as delta debugging does (Zeller's ddmin): first whole chunks of
 * the time-ordered plan (halves, then quarters, …) — in a long plan most episodes are unrelated to
 * the failure, and removing them together costs one run where one-by-one costs one each — then
 * single actions until no single removal keeps the failure (1-minimal), then pairs, because some
 * actions only matter together (a crash and the restart of the node it hit, a partition and its
 * heal) and removing either alone loses the failure. After a successful pair removal the single
 * removals are retried.
 */
export function removeActions(plan: FaultPlan, fails: (plan: FaultPlan) => boolean): FaultPlan {
  let actions = [...plan.actions];
  const without = (drop: (j: number) => boolean): FaultPlan => withActions(plan, actions.filter((_, j) => !drop(j)));
  for (let chunks = 2; Math.ceil(actions.length / chunks) > 1; chunks *= 2) {
    const size = Math.ceil(actions.length / chunks);
    // From the end backward, so a removal never shifts the chunks still to try.
    for (let end = actions.length; end > 0; end -= size) {
      const from = Math.max(0, end - size);
      const candidate = without((j) => j >= from && j < end);
      if (fails(candidate)) actions = [...candidate.actions];
    }
  }
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
    if (!pairRemoved) return withActions(plan, actions);
  }
}

/**
 * Puts each knob the plan drew back to the implementation's default (drops it from `knobs`) while
 * the failure remains, so that the knobs a shrunk plan still names are the ones the failure needs.
 */
export function resetKnobs(plan: FaultPlan, fails: (plan: FaultPlan) => boolean): FaultPlan {
  let knobs = { ...plan.knobs };
  for (const name of Object.keys(knobs)) {
    const { [name]: _default, ...rest } = knobs;
    if (fails(withKnobs(plan, rest))) knobs = rest;
  }
  return withKnobs(plan, knobs);
}

/**
 * The plan that fast-check's (seed, path) names for a scenario: walks the shrink path without
 * running anything: planAtPath(scenario, fastCheck.seed, fastCheck.path, knobs) equals
 * fastCheck.plan, `knobs` being the free knobs the run drew from (runner.ts freeKnobs).
 */
export function planAtPath(scenario: Scenario, seed: number, path: string, knobs: KnobSpace = {}): FaultPlan {
  const details = fc.check(
    fc.property(planArbitrary(scenario, knobs), () => false),
    { seed, path, numRuns: 1, endOnFailure: true },
  );
  if (!details.failed || details.counterexample === null) throw new Error(`planAtPath: no plan at seed ${seed}, path ${path}`);
  return details.counterexample[0] as FaultPlan;
}
