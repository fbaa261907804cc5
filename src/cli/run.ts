import cliProgress from 'cli-progress';
import { checkImplementationOptions, InputError } from '../adapter/load.ts';
import { findScenario } from '../../scenarios/index.ts';
import { writeHtml } from '../report/html.ts';
import { replayCommand, writeReport, type Report } from '../report/report.ts';
import { formatPlan } from '../report/text.ts';
import { campaignSeed } from '../sim/rng.ts';
import { ZOO_BUDGET_RUNS, ZOO_DEFAULT_RUNS } from '../zoo/run.ts';
import { parsePositiveInt, parseSeed } from './args.ts';
import type { CampaignSpec, RunSummary, Task, TaskResult } from './campaign.ts';
import { TaskRunner } from './task-runner.ts';
import { BUILTIN_CHECKERS, loadCheckers, loadImplementation, recordPath, REFERENCE } from './modules.ts';

export type { RunSummary } from './campaign.ts';

export interface RunCommandOptions {
  scenario: string;
  seed: string;
  runs?: string;
  json?: boolean;
  impl?: string;
  workers?: string;
  shard?: string;
  timeBudget?: string;
  reportsDir?: string;
  maxReports?: string;
  shrinkRuns?: string;
  checkers?: string;
  skipCheckers?: string;
  implOptions?: string;
  runTimeout?: string;
  progress?: boolean;
}

export interface ReportWritten {
  /** The failing run's seed. */
  seed: number;
  /** The seed the shrunk plan fails with (the report's, which replay runs); differs when shrinking's seed search moved it. */
  shrunkSeed: number;
  json: string;
  html: string;
  replay: string;
  originalActions: number;
  shrunkActions: number;
  fastCheck: { seed: number; path: string } | null;
}

export interface CampaignOutput {
  scenario: string;
  implementation: string;
  runs: RunSummary[];
  violations: { seed: number; invariant: string; message: string }[];
  skippedChecks: { checker: string; reason: string }[];
  /** How the seeds were chosen: run i of the campaign uses campaignSeed(base, i). */
  seeds: { base: number; shard: { index: number; count: number } | null; runIndexes: { first: number; last: number; count: number } | null; timeBudgetMs: number | null; stoppedBy: 'runs' | 'time-budget' };
  workers: number;
  reports: ReportWritten[];
  /** Wall time of the whole command. */
  wallMs: number;
  /** Wall time of the campaign's runs alone (shrinking and reports excluded): what the speed figures divide by. */
  runsWallMs: number;
}

/**
 * Runs of a campaign without --runs: the zoo's default budget, within which the default generator
 * finds every planted bug (a 100-run campaign missed 4 of the 18). About 8 s for the reference here.
 */
const DEFAULT_RUNS = ZOO_DEFAULT_RUNS;
/** Wall clock a run (or a shrink) of an implementation in worker threads may take: a run takes milliseconds. */
const DEFAULT_RUN_TIMEOUT = '60s';
/** The campaign size the summary of a smaller clean one suggests: the zoo's budget per bug. */
const WIDE_CAMPAIGN_RUNS = ZOO_BUDGET_RUNS;

/** Parses "60s", "5m", "1500ms", "1h" or a plain number of seconds. */
export function parseDuration(value: string, option = '--time-budget'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m || Number(m[1]) <= 0) throw new InputError(`${option}: "${value}" is not a duration; give e.g. 60s, 5m, 1h or 1500ms`);
  const unit = m[2] ?? 's';
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!;
}

/** Parses "i/n" (1 <= i <= n): this shard runs the run indexes k with k mod n = i - 1. */
export function parseShard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || count < 1 || index < 1 || index > count || count > 100_000) {
    throw new InputError(`--shard: "${value}" is not a shard; give i/n with 1 <= i <= n, e.g. --shard 2/4 for the second of four CI jobs`);
  }
  return { index, count };
}

/** ": liveness-after-heal 11, one-vote-per-term 1" — the invariants violated, most often first (nothing when none were). */
function countByInvariant(violations: readonly { invariant: string }[]): string {
  const counts = new Map<string, number>();
  for (const v of violations) counts.set(v.invariant, (counts.get(v.invariant) ?? 0) + 1);
  if (counts.size === 0) return '';
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return `: ${sorted.map(([invariant, n]) => `${invariant} ${n}`).join(', ')}`;
}

function parseCheckerNames(value: string | undefined): string[] {
  if (value === undefined) return [];
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) throw new InputError(`--skip-checkers: ${JSON.stringify(value)} has an empty name; give checker names separated by commas, e.g. catch-up,leadership-stability`);
  return [...new Set(names)].sort();
}

function parseImplOptions(value: string | undefined): Record<string, unknown> {
  if (value === undefined) return {};
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new InputError(`--impl-options: ${JSON.stringify(value)} is not JSON; give an object, e.g. '{"preVote":false}'`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError('--impl-options: give a JSON object, e.g. \'{"preVote":false}\'');
  return json as Record<string, unknown>;
}

/**
 * `raftsim run`: a campaign. Run i uses seed campaignSeed(base, i), so a campaign is the same on
 * any machine, with any number of workers, split over any number of shards. Failing runs are
 * shrunk and reported (the first --max-reports of them, in run order).
 */
export async function runCommand(options: RunCommandOptions): Promise<number> {
  // Validate every argument before any work.
  const scenario = findScenario(options.scenario);
  const base = parseSeed(options.seed);
  const timeBudgetMs = options.timeBudget !== undefined ? parseDuration(options.timeBudget) : null;
  const runs = options.runs !== undefined ? parsePositiveInt(options.runs, '--runs') : timeBudgetMs === null ? DEFAULT_RUNS : Number.POSITIVE_INFINITY;
  const workers = options.workers !== undefined ? parsePositiveInt(options.workers, '--workers', 256) : 1;
  const shard = options.shard !== undefined ? parseShard(options.shard) : null;
  const maxReports = options.maxReports !== undefined ? (options.maxReports === '0' ? 0 : parsePositiveInt(options.maxReports, '--max-reports', 10_000)) : 3;
  const shrinkRuns = options.shrinkRuns !== undefined ? parsePositiveInt(options.shrinkRuns, '--shrink-runs') : 400;
  const runTimeoutMs = parseDuration(options.runTimeout ?? DEFAULT_RUN_TIMEOUT, '--run-timeout');
  const reportsDir = options.reportsDir ?? 'reports';
  const spec: CampaignSpec = {
    scenario: options.scenario.endsWith('.json') ? recordPath(options.scenario) : options.scenario,
    implementation: options.impl !== undefined ? recordPath(options.impl) : REFERENCE,
    checkers: options.checkers !== undefined ? recordPath(options.checkers) : BUILTIN_CHECKERS,
    skipCheckers: parseCheckerNames(options.skipCheckers),
    implementationOptions: parseImplOptions(options.implOptions),
    shrinkRuns,
  };
  // Load once here so that a bad --impl or --checkers is a clean exit 2, not a worker crash; so is an option the implementation refuses.
  const [implementation, checkers] = await Promise.all([loadImplementation(spec.implementation), loadCheckers(spec.checkers)]);
  const known = checkers.map((c) => c.name);
  for (const name of spec.skipCheckers) {
    if (!known.includes(name)) throw new InputError(`--skip-checkers: no checker "${name}" (known: ${known.join(', ')})`);
  }
  const optionsSource = [options.implOptions !== undefined ? '--impl-options' : '', scenario.implementationOptions ? `scenario "${scenario.name}" implementationOptions` : ''].filter(Boolean).join(' or ');
  checkImplementationOptions(implementation, { ...scenario.implementationOptions, ...spec.implementationOptions }, optionsSource || 'implementation options');

  const started = performance.now();
  const deadline = timeBudgetMs === null ? Number.POSITIVE_INFINITY : started + timeBudgetMs;
  const stride = shard?.count ?? 1;
  const offset = shard ? shard.index - 1 : 0;
  let nextIndex = offset;
  const next = (): Task | undefined => {
    if (nextIndex >= runs) return undefined;
    const index = nextIndex;
    nextIndex += stride;
    return { type: 'run', spec, index, seed: campaignSeed(base, index) };
  };
  const planned = Number.isFinite(runs) ? Math.max(0, Math.ceil((runs - offset) / stride)) : null;
  const progress = makeProgress(options, planned, timeBudgetMs);
  const results: { index: number; summary: RunSummary }[] = [];
  let detail: Report[] = [];
  // Another implementation runs in worker threads, even with one worker, so that a run that never returns can be stopped (a 'hang' finding).
  const runner = new TaskRunner(workers, { isolate: spec.implementation !== REFERENCE, taskTimeoutMs: runTimeoutMs });
  let stoppedBy: 'runs' | 'time-budget' = 'runs';
  const output: CampaignOutput = {
    scenario: scenario.name,
    implementation: spec.implementation === REFERENCE ? 'reference' : spec.implementation,
    runs: [],
    violations: [],
    skippedChecks: [],
    seeds: { base, shard, runIndexes: null, timeBudgetMs, stoppedBy },
    workers,
    reports: [],
    wallMs: 0,
    runsWallMs: 0,
  };
  try {
    await runner.run(
      next,
      () => {
        if (performance.now() < deadline) return true;
        stoppedBy = 'time-budget';
        return false;
      },
      (result: TaskResult) => {
        if (result.type !== 'run') return;
        results.push(result);
        progress?.tick(results.length, results.filter((r) => r.summary.violation).length);
      },
    );
    output.runsWallMs = performance.now() - started;
    results.sort((a, b) => a.index - b.index);
    progress?.stop();
    const leftOut = spec.skipCheckers.map((checker) => ({ checker, reason: 'left out with --skip-checkers' }));
    output.skippedChecks = leftOut;
    for (const { summary } of results) {
      const { skippedChecks, ...line } = summary;
      output.runs.push(line);
      // Every run skips the same checks (the implementation's capabilities): the first that says is enough.
      if (skippedChecks && output.skippedChecks === leftOut) output.skippedChecks = [...leftOut, ...skippedChecks];
      if (line.violation) output.violations.push({ seed: line.seed, invariant: line.violation.invariant, message: line.violation.message });
    }
    if (results.length > 0) output.seeds.runIndexes = { first: results[0]!.index, last: results[results.length - 1]!.index, count: results.length };
    output.seeds.stoppedBy = stoppedBy;

    // Shrink and report the first failing runs, in run order (also spread over the workers); a hang would only hang again.
    const failing = results.filter((r) => r.summary.violation && r.summary.violation.invariant !== 'hang').slice(0, maxReports);
    if (failing.length > 0) {
      if (!options.json) process.stderr.write(`raftsim: shrinking ${failing.length} failing run(s)…\n`);
      const reports: { index: number; report: Report }[] = [];
      let i = 0;
      await runner.run(
        () => (i < failing.length ? { type: 'report', spec, index: failing[i]!.index, seed: failing[i++]!.summary.seed } : undefined),
        () => true,
        (result) => {
          if (result.type === 'report' && result.report) reports.push({ index: result.index, report: result.report });
        },
      );
      reports.sort((a, b) => a.index - b.index);
      for (const { report } of reports) {
        const json = writeReport(reportsDir, report);
        const html = writeHtml(reportsDir, report, replayCommand(json));
        output.reports.push({
          seed: report.originalSeed,
          shrunkSeed: report.seed,
          json,
          html,
          replay: replayCommand(json),
          originalActions: report.originalPlan.actions.length,
          shrunkActions: report.plan.actions.length,
          fastCheck: report.fastCheck && report.shrink.method === 'fast-check, then removal' ? { seed: report.fastCheck.seed, path: report.fastCheck.path } : null,
        });
      }
      detail = reports.map((r) => r.report);
    }
  } finally {
    progress?.stop();
    await runner.close();
  }
  output.wallMs = performance.now() - started;
  if (options.json) {
    process.stdout.write(JSON.stringify(output) + '\n');
  } else {
    printSummary(output, detail);
  }
  return output.violations.length > 0 ? 1 : 0;
}

interface Progress {
  tick(done: number, failed: number): void;
  stop(): void;
}

/** A progress bar on an interactive stderr only: never in CI logs, never with --no-progress. */
function makeProgress(options: RunCommandOptions, total: number | null, timeBudgetMs: number | null): Progress | undefined {
  if (options.progress === false || !process.stderr.isTTY || process.env.CI) return undefined;
  const byTime = total === null && timeBudgetMs !== null;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: byTime ? ' {bar} {elapsed}s of {budget}s | {runs} runs | {failed} failing' : ' {bar} {value}/{total} runs | {failed} failing | eta {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  const budgetS = timeBudgetMs === null ? 0 : Math.round(timeBudgetMs / 1000);
  bar.start(byTime ? budgetS : (total ?? 0), 0, { failed: 0, runs: 0, elapsed: 0, budget: budgetS });
  let stopped = false;
  return {
    tick(done, failed) {
      if (stopped) return;
      const elapsed = Math.round((performance.now() - started) / 1000);
      bar.update(byTime ? Math.min(elapsed, budgetS) : done, { failed, runs: done, elapsed });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

function printSummary(output: CampaignOutput, reports: Report[]): void {
  const runsS = output.runsWallMs / 1000;
  const shrinkS = (output.wallMs - output.runsWallMs) / 1000;
  const virtualMs = output.runs.reduce((sum, r) => sum + r.virtualMs, 0);
  const events = output.runs.reduce((sum, r) => sum + r.events, 0);
  const s = output.seeds;
  const seedLine =
    s.runIndexes === null
      ? 'none'
      : `run indexes ${s.runIndexes.first}..${s.runIndexes.last}${s.shard ? ` (every ${s.shard.count}th: shard ${s.shard.index}/${s.shard.count})` : ''} from base seed ${s.base}; seeds ${output.runs[0]!.seed} … ${output.runs[output.runs.length - 1]!.seed}`;
  const lines = [
    `raftsim run — scenario "${output.scenario}", implementation ${output.implementation}`,
    `  runs        ${output.runs.length}${s.stoppedBy === 'time-budget' ? ` (time budget of ${((s.timeBudgetMs ?? 0) / 1000).toFixed(0)} s reached)` : ''} on ${output.workers} worker(s)`,
    `  seeds       ${seedLine}`,
    `              (every seed is in --json; rerun one with --seed <seed> --runs 1)`,
    `  events      ${events.toLocaleString('en-US')} in ${(virtualMs / 1000).toFixed(1)} s of virtual time`,
    `  wall time   ${runsS.toFixed(2)} s of runs — ${(virtualMs / Math.max(output.runsWallMs, 1e-9)).toFixed(0)}x faster than real time, ${Math.round(events / Math.max(runsS, 1e-9)).toLocaleString('en-US')} events/s${output.reports.length > 0 ? `; then ${shrinkS.toFixed(2)} s shrinking and reporting` : ''}`,
    `  violations  ${output.violations.length}${countByInvariant(output.violations)}`,
  ];
  const knobbed = output.runs.filter((r) => r.knobs !== undefined);
  if (knobbed.length > 0) {
    const names = [...new Set(knobbed.flatMap((r) => Object.keys(r.knobs!)))].sort();
    lines.splice(5, 0, `  knobs       ${knobbed.length} of ${output.runs.length} runs drew options other than the defaults: ${names.join(', ')} (each run's in --json; --impl-options fixes one)`);
  }
  for (const skipped of output.skippedChecks) lines.push(`  skipped     ${skipped.checker}: ${skipped.reason}`);
  for (const v of output.violations.slice(0, 10)) lines.push(`  ✗ seed ${v.seed}: ${v.invariant} — ${v.message}`);
  if (output.violations.length > 10) lines.push(`  … and ${output.violations.length - 10} more`);
  for (const [i, written] of output.reports.entries()) {
    const report = reports[i]!;
    lines.push('');
    lines.push(`Seed ${written.seed}: ${report.violation.invariant} — ${report.violation.message}`);
    if (written.shrunkSeed !== written.seed) lines.push(`  (shrinking found a shorter plan under seed ${written.shrunkSeed}; the report replays that)`);
    lines.push(`  plan shrunk from ${written.originalActions} to ${written.shrunkActions} action(s)${written.fastCheck ? ` (fast-check seed ${written.fastCheck.seed}, path ${written.fastCheck.path})` : ''}:`);
    for (const line of formatPlan(report.plan)) lines.push(`    ${line}`);
    lines.push(`  report      ${written.json}`);
    lines.push(`  timeline    ${written.html}`);
  }
  if (output.violations.length === 0) {
    lines.push('OK: no invariant violated.');
    // A clean campaign short of the zoo's benchmark budget says less than it seems: bugs rarer than the zoo's need more runs.
    if (output.runs.length < WIDE_CAMPAIGN_RUNS && s.stoppedBy !== 'time-budget') {
      lines.push(`Search wider before trusting it: --runs ${WIDE_CAMPAIGN_RUNS} --workers 2, or --time-budget 10m (${DEFAULT_RUNS.toLocaleString('en-US')} runs find every bug of the zoo; a rarer bug needs more).`);
    }
  } else {
    lines.push('');
    lines.push('FAILED: see the violations above.');
    for (const written of output.reports) lines.push(`Replay: ${written.replay}`);
  }
  console.log(lines.join('\n'));
}
