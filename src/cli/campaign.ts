import { findScenario } from '../../scenarios/index.ts';
import { generatePlan } from '../faults/generate.ts';
import { shrinkFailure } from '../faults/shrink.ts';
import { buildReport, type Report } from '../report/report.ts';
import { runScenario, type RunSettings } from '../runner.ts';
import type { Scenario } from '../sim/scenario.ts';
import { huntBug, type HuntOptions, type ZooBugResult } from '../zoo/run.ts';
import { loadCheckers, loadImplementation } from './modules.ts';

/**
 * A campaign's tasks (a run, a shrink and its report, a zoo hunt) and how one executes, in
 * whichever thread task-runner.ts gives it. A task names everything by string (scenario,
 * implementation module, checker module), so a worker loads the very same things; results are
 * collected by run index, so they do not depend on the number of workers or on which finished first.
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
