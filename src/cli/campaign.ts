import { Piscina } from 'piscina';
import { findScenario } from '../../scenarios/index.ts';
import { generatePlan } from '../faults/generate.ts';
import { shrinkFailure } from '../faults/shrink.ts';
import { buildReport, type Report } from '../report/report.ts';
import { runScenario, type RunSettings } from '../runner.ts';
import type { Scenario } from '../sim/scenario.ts';
import { huntBug, type HuntOptions, type ZooBugResult } from '../zoo/run.ts';
import { loadCheckers, loadImplementation } from './modules.ts';

/**
 * One campaign's runs, in this thread or spread over worker threads (piscina). A task names
 * everything by string (scenario, implementation module, checker module), so a worker loads the
 * very same things; results are collected by run index, so they do not depend on the number of
 * workers or on which finished first.
 */
export interface CampaignSpec {
  /** A scenario name or a .json scenario file. */
  readonly scenario: string;
  /** "reference" or a module path. */
  readonly implementation: string;
  /** "builtin" or a module path. */
  readonly checkers: string;
  /** Checkers of that list left out (--skip-checkers). */
  readonly skipCheckers: readonly string[];
  /** Options merged over the scenario's implementation options. */
  readonly implementationOptions: Readonly<Record<string, unknown>>;
  /** Simulation runs a shrink may spend. */
  readonly shrinkRuns: number;
}

export type Task =
  | { readonly type: 'run'; readonly spec: CampaignSpec; readonly index: number; readonly seed: number }
  | { readonly type: 'report'; readonly spec: CampaignSpec; readonly index: number; readonly seed: number }
  /** One bug of the zoo hunted (raftsim zoo --workers). */
  | { readonly type: 'hunt'; readonly bug: string; readonly index: number; readonly options: HuntOptions };

/** One run's line in the --json output. */
export interface RunSummary {
  seed: number;
  /** The run's trace hash; empty for a run that never finished (a 'hang'). */
  traceHash: string;
  events: number;
  virtualMs: number;
  /** The implementation options the run drew from the knobs (those off their defaults). */
  knobs?: Record<string, unknown>;
  violation?: { invariant: string; message: string; time?: number; step?: number };
  skippedChecks?: { checker: string; reason: string }[];
}

export type TaskResult =
  | { type: 'run'; index: number; summary: RunSummary }
  | { type: 'report'; index: number; report: Report | null }
  | { type: 'hunt'; index: number; result: ZooBugResult };

interface Context {
  readonly scenario: Scenario;
  readonly scenarioFile?: string;
  readonly settings: RunSettings;
}

const contexts = new Map<string, Promise<Context>>();

export function campaignContext(spec: CampaignSpec): Promise<Context> {
  const key = JSON.stringify(spec);
  let context = contexts.get(key);
  if (!context) {
    context = (async () => {
      const scenario = findScenario(spec.scenario);
      const [{ factory, knobs }, loaded] = await Promise.all([loadImplementation(spec.implementation), loadCheckers(spec.checkers)]);
      const checkers = loaded.filter((c) => !spec.skipCheckers.includes(c.name));
      const settings: RunSettings = { factory, knobs, checkers, generatePlan, implementationOptions: spec.implementationOptions };
      return { scenario, ...(spec.scenario.endsWith('.json') ? { scenarioFile: spec.scenario } : {}), settings };
    })();
    contexts.set(key, context);
  }
  return context;
}

/** Executes one task in this thread (what a worker does). */
export async function executeTask(task: Task): Promise<TaskResult> {
  if (task.type === 'hunt') return { type: 'hunt', index: task.index, result: huntBug(task.bug, task.options) };
  const context = await campaignContext(task.spec);
  if (task.type === 'run') {
    const result = runScenario(context.scenario, task.seed, context.settings);
    const summary: RunSummary = { seed: task.seed, traceHash: result.traceHash, events: result.events, virtualMs: result.virtualMs };
    if (result.plan.knobs) summary.knobs = { ...result.plan.knobs };
    if (result.violation) summary.violation = { ...result.violation };
    if (task.index === 0 || result.skippedChecks.length > 0) summary.skippedChecks = result.skippedChecks.map((s) => ({ ...s }));
    return { type: 'run', index: task.index, summary };
  }
  const shrink = shrinkFailure(context.scenario, task.seed, context.settings, { maxRuns: task.spec.shrinkRuns });
  if (!shrink) return { type: 'report', index: task.index, report: null };
  const report = buildReport(
    {
      scenario: context.scenario,
      ...(context.scenarioFile !== undefined ? { scenarioFile: context.scenarioFile } : {}),
      implementation: task.spec.implementation,
      checkersModule: task.spec.checkers,
      settings: context.settings,
    },
    shrink,
  );
  return { type: 'report', index: task.index, report };
}

/**
 * What a task that ran past its wall-clock limit stands for: a run whose implementation never
 * returned is a 'hang' finding with its seed; a shrink that did not finish leaves no report.
 */
function timedOut(task: Task, limitMs: number): TaskResult {
  if (task.type === 'hunt') throw new Error(`zoo: the hunt of ${task.bug} did not finish within ${limitMs / 1000} s`);
  if (task.type === 'report') return { type: 'report', index: task.index, report: null };
  const message =
    `the run did not finish within ${limitMs / 1000} s of wall time: a call into the implementation that never returns (an endless loop?), ` +
    `or an implementation far slower than that; run the seed alone with --seed ${task.seed} --runs 1, or allow more with --run-timeout`;
  return { type: 'run', index: task.index, summary: { seed: task.seed, traceHash: '', events: 0, virtualMs: 0, violation: { invariant: 'hang', message } } };
}

/**
 * Runs tasks with `workers` threads, calling `onResult` as each finishes. With one worker and no
 * `isolate`, tasks run in this thread; otherwise in worker threads, where `taskTimeoutMs` (wall
 * clock) ends a task that does not finish by terminating its thread — synchronous code that never
 * returns cannot be stopped any other way.
 */
export class TaskRunner {
  private pool: Piscina | undefined;
  private readonly taskTimeoutMs: number | undefined;

  constructor(
    readonly workers: number,
    options: { readonly isolate?: boolean; readonly taskTimeoutMs?: number } = {},
  ) {
    this.taskTimeoutMs = options.taskTimeoutMs;
    if (workers > 1 || options.isolate) {
      this.pool = new Piscina({
        // worker.mjs registers tsx in its own thread, whatever started this process.
        filename: new URL('./worker.mjs', import.meta.url).href,
        minThreads: workers,
        maxThreads: workers,
      });
    }
  }

  /** One task on the pool, ended after taskTimeoutMs. */
  private async runOnPool(pool: Piscina, task: Task): Promise<TaskResult> {
    const limit = this.taskTimeoutMs;
    if (limit === undefined) return (await pool.run(task)) as TaskResult;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), limit);
    try {
      return (await pool.run(task, { signal: abort.signal })) as TaskResult;
    } catch (error) {
      if (abort.signal.aborted) return timedOut(task, limit);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Pulls tasks from `next` until it returns undefined or `more()` is false, with at most
   * 2 × workers tasks in flight (workers with a time limit); resolves when all started tasks have finished.
   */
  async run(next: () => Task | undefined, more: () => boolean, onResult: (result: TaskResult) => void): Promise<void> {
    if (!this.pool) {
      for (let task = more() ? next() : undefined; task !== undefined; task = more() ? next() : undefined) {
        onResult(await executeTask(task));
        // Let a progress bar and timers breathe between runs.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return;
    }
    const pool = this.pool;
    // Two tasks a worker keep the threads busy; with a time limit, one, so that no task's clock runs while it waits in the queue.
    const window = this.taskTimeoutMs === undefined ? this.workers * 2 : this.workers;
    await new Promise<void>((resolve, reject) => {
      let inFlight = 0;
      let exhausted = false;
      let failed = false;
      const pump = (): void => {
        while (!failed && !exhausted && inFlight < window) {
          const task = more() ? next() : undefined;
          if (task === undefined) {
            exhausted = true;
            break;
          }
          inFlight++;
          this.runOnPool(pool, task).then(
            (result) => {
              inFlight--;
              if (failed) return;
              onResult(result);
              pump();
            },
            (error: unknown) => {
              failed = true;
              reject(error);
            },
          );
        }
        if (exhausted && inFlight === 0) resolve();
      };
      pump();
    });
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}
