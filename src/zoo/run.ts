import { ALL_CHECKERS } from '../../invariants/index.ts';
import { defaultScenario } from '../../scenarios/default.ts';
import { generatePlan } from '../faults/generate.ts';
import { shrinkFailure } from '../faults/shrink.ts';
import { createRaft, knobs } from '../raft/index.ts';
import { BUGS, bugInfo, type BugInfo } from '../raft/bugs.ts';
import { join } from 'node:path';
import { writeHtmlFile } from '../report/html.ts';
import { buildReport, replayCommand, writeFileAtomic } from '../report/report.ts';
import { campaignSeed } from '../sim/rng.ts';
import { runScenario, type RunSettings } from '../runner.ts';
import { median } from '../bench/median.ts';

/**
 * The bug zoo's hunt: for each planted bug (src/raft/bugs.ts), run the DEFAULT scenario with
 * generated fault plans (the same swarm generator `raftsim run` uses, no per-bug tuning) and every
 * built-in checker, seed after seed (run i uses campaignSeed(seed, i), as a campaign does), until
 * the first violation or the budget; then shrink the failing plan with the standard shrinker and
 * write a replayable report. Controls run the whole budget and must stay clean.
 *
 * Wall times are measured with performance.now(); they are reported, never used by a run.
 */
export interface HuntOptions {
  /** Runs per bug before giving up (controls always run all of them). Default ZOO_DEFAULT_RUNS. */
  readonly budgetRuns?: number;
  /** Base seed; run i of each hunt uses campaignSeed(seed, i). Default 1. */
  readonly seed?: number;
  /** Simulation runs one shrink may spend. Default 400. */
  readonly shrinkRuns?: number;
  /** Where reports go (default "reports"); null: shrink, but write no report. */
  readonly reportsDir?: string | null;
  /** Skip shrinking (tests that only ask "found?"). */
  readonly shrink?: boolean;
}

export interface ZooOptions extends HuntOptions {
  /** Only these bugs (default: the whole zoo, controls included). */
  readonly only?: readonly string[];
  /** Called after each bug. */
  readonly onResult?: (result: ZooBugResult) => void;
}

export interface ZooBugResult {
  readonly name: string;
  readonly control: boolean;
  readonly rule: string;
  readonly seen: string;
  /** A violation was found (for a control: a false positive). */
  readonly flagged: boolean;
  /** Runs executed, the failing one included. */
  readonly runs: number;
  /** 1-based run count at the first failure, or null. */
  readonly runsToFirstFailure: number | null;
  readonly seed: number | null;
  /** Wall ms from the start of the hunt to the end of the first failing run. */
  readonly msToFirstFailure: number | null;
  /** Wall ms of the whole hunt (runs only, shrinking excluded). */
  readonly huntMs: number;
  readonly invariant: string | null;
  readonly message: string | null;
  readonly originalActions: number | null;
  readonly shrunkActions: number | null;
  /** The seed the shrunk plan fails with (its report's); differs from `seed` when shrinking's seed search moved it. */
  readonly shrunkSeed: number | null;
  readonly shrinkRuns: number | null;
  readonly shrinkMs: number | null;
  readonly report: string | null;
  readonly replay: string | null;
}

export interface ZooResult {
  readonly budgetRuns: number;
  readonly seed: number;
  readonly bugs: readonly ZooBugResult[];
  /** Bugs (not controls) found / all bugs. */
  readonly found: number;
  readonly total: number;
  readonly missed: readonly string[];
  /** Controls that were flagged. */
  readonly falsePositives: readonly string[];
  readonly medianMsToFirstFailure: number | null;
  readonly medianRunsToFirstFailure: number | null;
  readonly maxShrunkActions: number | null;
  readonly wallMs: number;
}

/** The settings of a zoo run: the reference Raft with one bug switched on and its knobs drawn as in any campaign, every built-in checker. */
export function zooSettings(bug: string): RunSettings {
  return { factory: createRaft, knobs, checkers: ALL_CHECKERS, generatePlan, implementationOptions: { bugs: [bug] } };
}

/** Hunts one bug (or runs one control). */
export function huntBug(name: string, options: HuntOptions = {}): ZooBugResult {
  const info: BugInfo | undefined = bugInfo(name);
  if (!info) throw new Error(`unknown bug "${name}" (known: ${BUGS.map((b) => b.name).join(', ')})`);
  const budget = options.budgetRuns ?? ZOO_DEFAULT_RUNS;
  const base = options.seed ?? 1;
  const settings = zooSettings(name);
  const scenario = defaultScenario;
  const started = performance.now();
  let runs = 0;
  let failing: { seed: number; ms: number; invariant: string; message: string } | undefined;
  for (let i = 0; i < budget && failing === undefined; i++) {
    const seed = campaignSeed(base, i);
    const result = runScenario(scenario, seed, settings);
    runs++;
    if (result.violation) failing = { seed, ms: performance.now() - started, invariant: result.violation.invariant, message: result.violation.message };
  }
  const huntMs = performance.now() - started;
  const common = { name, control: info.control, rule: info.rule, seen: info.seen, runs, huntMs };
  if (!failing) {
    return {
      ...common,
      flagged: false,
      runsToFirstFailure: null,
      seed: null,
      msToFirstFailure: null,
      invariant: null,
      message: null,
      originalActions: null,
      shrunkActions: null,
      shrunkSeed: null,
      shrinkRuns: null,
      shrinkMs: null,
      report: null,
      replay: null,
    };
  }
  let shrunk: Pick<ZooBugResult, 'originalActions' | 'shrunkActions' | 'shrunkSeed' | 'shrinkRuns' | 'shrinkMs' | 'report' | 'replay'> = {
    originalActions: null,
    shrunkActions: null,
    shrunkSeed: null,
    shrinkRuns: null,
    shrinkMs: null,
    report: null,
    replay: null,
  };
  if (options.shrink !== false) {
    const shrinkStarted = performance.now();
    const result = shrinkFailure(scenario, failing.seed, settings, { maxRuns: options.shrinkRuns ?? 400 });
    if (!result) throw new Error(`zoo: seed ${failing.seed} of ${name} failed once and not when shrinking: the simulation is not deterministic`);
    const shrinkMs = performance.now() - shrinkStarted;
    let report: string | null = null;
    let replay: string | null = null;
    const dir = options.reportsDir === undefined ? 'reports' : options.reportsDir;
    if (dir !== null) {
      const built = buildReport(
        { scenario, implementation: 'reference', checkersModule: 'builtin', settings },
        result,
      );
      // One file per bug: hunts of different bugs may fail on the same seed.
      report = join(dir, `zoo-${name}-${failing.seed}.json`);
      writeFileAtomic(report, JSON.stringify(built));
      replay = replayCommand(report);
      writeHtmlFile(report.replace(/\.json$/, '.html'), built, replay);
    }
    shrunk = {
      originalActions: result.originalPlan.actions.length,
      shrunkActions: result.plan.actions.length,
      shrunkSeed: result.seed,
      shrinkRuns: result.runs,
      shrinkMs,
      report,
      replay,
    };
  }
  return {
    ...common,
    flagged: true,
    runsToFirstFailure: runs,
    seed: failing.seed,
    msToFirstFailure: failing.ms,
    invariant: failing.invariant,
    message: failing.message,
    ...shrunk,
  };
}

/** Runs per bug the zoo benchmark hunts (and the README's zoo table counts). */
export const ZOO_BUDGET_RUNS = 10_000;

/**
 * Runs per bug of `raftsim zoo` without --budget-runs: enough for every bug of the zoo (the
 * rarest first fails at run 573, see test/zoo/zoo.test.ts), and a control clean over as many.
 */
export const ZOO_DEFAULT_RUNS = 1_000;

/** The bugs a zoo hunts: `only`, or the whole zoo with its controls. */
export function zooBugNames(options: Pick<ZooOptions, 'only'>): readonly string[] {
  return options.only ?? BUGS.map((b) => b.name);
}

/** Hunts every bug of the zoo, one after the other on this thread, and runs the controls. */
export function runZoo(options: ZooOptions = {}): ZooResult {
  const started = performance.now();
  const results: ZooBugResult[] = [];
  for (const name of zooBugNames(options)) {
    const result = huntBug(name, options);
    results.push(result);
    options.onResult?.(result);
  }
  return summarizeZoo(results, options, performance.now() - started);
}

/** The zoo's figures over its hunts' results (in zoo order). */
export function summarizeZoo(results: readonly ZooBugResult[], options: HuntOptions, wallMs: number): ZooResult {
  const bugs = results.filter((r) => !r.control);
  const found = bugs.filter((r) => r.flagged);
  const shrunk = found.map((r) => r.shrunkActions).filter((n): n is number => n !== null);
  return {
    budgetRuns: options.budgetRuns ?? ZOO_DEFAULT_RUNS,
    seed: options.seed ?? 1,
    bugs: results,
    found: found.length,
    total: bugs.length,
    missed: bugs.filter((r) => !r.flagged).map((r) => r.name),
    falsePositives: results.filter((r) => r.control && r.flagged).map((r) => r.name),
    medianMsToFirstFailure: found.length > 0 ? median(found.map((r) => r.msToFirstFailure!)) : null,
    medianRunsToFirstFailure: found.length > 0 ? median(found.map((r) => r.runsToFirstFailure!)) : null,
    maxShrunkActions: shrunk.length > 0 ? Math.max(...shrunk) : null,
    wallMs,
  };
}
