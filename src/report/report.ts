import { readFileSync, renameSync, writeFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../adapter/load.ts';
import type { FastCheckTrail, ShrinkResult } from '../faults/shrink.ts';
import type { FaultPlan } from '../faults/plan.ts';
import { validatePlan } from '../faults/validate.ts';
import { runScenario, type RunSettings } from '../runner.ts';
import type { SkippedCheck } from '../sim/engine.ts';
import { nodeIds, type Scenario } from '../sim/scenario.ts';
import type { TraceEntry } from '../sim/trace.ts';
import type { Capability, Violation } from '../../invariants/types.ts';
import { errorMessage } from '../errors.ts';

/**
 * The JSON report of a failing run: everything a replay needs (framework version, scenario, seed,
 * implementation and its options, the checkers, the shrunk plan) and everything a reader wants
 * (the original plan and violation, fast-check's seed and path, the full trace of the shrunk run
 * and its hash). The trace hash is that of a `trace: 'full'` run, which also hashes message types,
 * so it differs from the hash a campaign prints for the same seed in its default 'hash' mode.
 */
export const REPORT_FORMAT = 'raftsim-report';
export const REPORT_VERSION = 2;

export interface ReportScenario {
  readonly name: string;
  /** The scenario file it came from, when not a named scenario. */
  readonly file?: string;
  /** The scenario object itself, for a scenario read from a file (replay needs no file then). */
  readonly definition?: unknown;
}

export interface Report {
  readonly format: typeof REPORT_FORMAT;
  readonly reportVersion: typeof REPORT_VERSION;
  readonly frameworkVersion: string;
  readonly scenario: ReportScenario;
  /** The seed the shrunk plan fails with (replay runs it). */
  readonly seed: number;
  /** The seed of the failing run the shrink started from, which `originalPlan` fails with; differs from `seed` when the shrink's seed search moved it. */
  readonly originalSeed: number;
  /** The scenario's servers, in order (the HTML's lanes). */
  readonly nodes: readonly string[];
  /** The module path given with --impl, or "reference". */
  readonly implementation: string;
  readonly implementationOptions: Readonly<Record<string, unknown>>;
  /** Where the checkers came from ("builtin" = invariants/index.ts ALL_CHECKERS, or a module path) and which ran. */
  readonly checkers: { readonly module: string; readonly names: readonly string[] };
  readonly fastCheck: FastCheckTrail | null;
  readonly shrink: { readonly method: ShrinkResult['method']; readonly runs: number; readonly capped: boolean };
  readonly originalPlan: FaultPlan;
  readonly originalViolation: Violation;
  readonly plan: FaultPlan;
  readonly violation: Violation;
  readonly traceMode: 'full';
  readonly traceHash: string;
  readonly events: number;
  readonly virtualMs: number;
  readonly capabilities: readonly Capability[];
  readonly skippedChecks: readonly SkippedCheck[];
  readonly traceOmitted: number;
  readonly trace: readonly TraceEntry[];
}

let cachedVersion: string | undefined;

/** raftsim's version, from package.json. */
export function frameworkVersion(): string {
  if (cachedVersion === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    cachedVersion = pkg.version ?? '0.0.0';
  }
  return cachedVersion;
}

export interface ReportContext {
  readonly scenario: Scenario;
  /** Set when the scenario came from a JSON file. */
  readonly scenarioFile?: string;
  readonly implementation: string;
  readonly checkersModule: string;
  /** The settings of the failing run (factory, checkers, extra implementation options). */
  readonly settings: RunSettings;
}

/** The report's seed for people: the replayed seed, and the failing run's when shrinking moved it. */
export function describeSeed(report: Pick<Report, 'seed' | 'originalSeed'>): string {
  return report.seed === report.originalSeed ? `${report.seed}` : `${report.seed} (the failing run was seed ${report.originalSeed}; shrinking found a shorter plan under seed ${report.seed})`;
}

/** Re-runs the shrunk plan with a full trace and assembles the report. */
export function buildReport(context: ReportContext, shrink: ShrinkResult): Report {
  const { scenario, settings } = context;
  const { seed } = shrink;
  const run = runScenario(scenario, seed, { ...settings, plan: shrink.plan, trace: 'full' });
  if (!run.violation) throw new Error(`report: the shrunk plan of seed ${seed} did not fail when re-run with a full trace`);
  return {
    format: REPORT_FORMAT,
    reportVersion: REPORT_VERSION,
    frameworkVersion: frameworkVersion(),
    scenario: {
      name: scenario.name,
      ...(context.scenarioFile !== undefined ? { file: context.scenarioFile, definition: jsonSafe(scenario) } : {}),
    },
    seed,
    originalSeed: shrink.originalSeed,
    nodes: nodeIds(scenario.nodes),
    implementation: context.implementation,
    implementationOptions: { ...scenario.implementationOptions, ...settings.implementationOptions },
    checkers: { module: context.checkersModule, names: settings.checkers.map((c) => c.name) },
    fastCheck: shrink.fastCheck ?? null,
    shrink: { method: shrink.method, runs: shrink.runs, capped: shrink.capped },
    originalPlan: shrink.originalPlan,
    originalViolation: shrink.originalViolation,
    plan: shrink.plan,
    violation: run.violation,
    traceMode: 'full',
    traceHash: run.traceHash,
    events: run.events,
    virtualMs: run.virtualMs,
    capabilities: run.capabilities,
    skippedChecks: run.skippedChecks,
    traceOmitted: run.traceOmitted,
    trace: run.trace,
  };
}

/** The command that replays a report file, as every summary and timeline prints it. */
export function replayCommand(file: string): string {
  return `npm run raftsim -- replay ${file}`;
}

/** `<scenario>-<seed>`, the base name of a report's files (the seed of the failing run, as the campaign printed it). */
export function reportBaseName(scenario: string, seed: number): string {
  return `${scenario}-${seed}`;
}

/** Writes `dir/<scenario>-<seed>.json` atomically (temp file, then rename); returns its path. */
export function writeReport(dir: string, report: Report): string {
  const file = join(dir, `${reportBaseName(report.scenario.name, report.originalSeed)}.json`);
  writeFileAtomic(file, JSON.stringify(report));
  return file;
}

let tempCounter = 0;

export function writeFileAtomic(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.tmp-${process.pid}-${tempCounter++}`;
  try {
    writeFileSync(temp, content);
    renameSync(temp, file);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // the temp file was never written
    }
    throw error;
  }
}

/** Reads and validates a report; every problem is an InputError (exit 2) naming the file and field. */
export function loadReport(file: string): Report {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new InputError(`replay: cannot read ${file}; give the path of a report written by "raftsim run" (reports/<scenario>-<seed>.json)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`replay: ${file} is not valid JSON (${errorMessage(error)}); was it truncated? Re-run "raftsim run" to write it again`);
  }
  try {
    return validateReport(json, file);
  } catch (error) {
    throw new InputError(`replay: ${errorMessage(error)}`);
  }
}

export function validateReport(json: unknown, source: string): Report {
  const fail = (field: string, want: string): never => {
    throw new Error(`${source}: report field "${field}" ${field in (json as object) ? 'is invalid' : 'is missing'}; it must be ${want}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${source}: a report must be a JSON object written by "raftsim run"`);
  const r = json as Record<string, unknown>;
  if (r.format !== REPORT_FORMAT) fail('format', `"${REPORT_FORMAT}" (this file is not a raftsim report)`);
  if (r.reportVersion !== REPORT_VERSION) fail('reportVersion', `${REPORT_VERSION}; this report was written by another raftsim version (${String(r.frameworkVersion)})`);
  if (typeof r.frameworkVersion !== 'string') fail('frameworkVersion', 'a version string');
  const scenario = r.scenario as Record<string, unknown> | undefined;
  if (typeof scenario !== 'object' || scenario === null || typeof scenario.name !== 'string') fail('scenario', 'an object with a "name"');
  for (const field of ['seed', 'originalSeed']) if (!Number.isSafeInteger(r[field]) || (r[field] as number) < 0) fail(field, 'an integer seed >= 0');
  if (!Array.isArray(r.nodes) || !r.nodes.every((n) => typeof n === 'string')) fail('nodes', 'the list of node ids');
  if (typeof r.implementation !== 'string' || r.implementation.length === 0) fail('implementation', '"reference" or a module path');
  if (typeof r.implementationOptions !== 'object' || r.implementationOptions === null || Array.isArray(r.implementationOptions)) fail('implementationOptions', 'an object');
  const checkers = r.checkers as Record<string, unknown> | undefined;
  if (typeof checkers !== 'object' || checkers === null || typeof checkers.module !== 'string' || !Array.isArray(checkers.names)) fail('checkers', 'an object { module, names }');
  if (r.fastCheck !== null && (typeof r.fastCheck !== 'object' || typeof (r.fastCheck as FastCheckTrail).seed !== 'number' || typeof (r.fastCheck as FastCheckTrail).path !== 'string')) {
    fail('fastCheck', 'null or { seed, path, numShrinks }');
  }
  for (const field of ['violation', 'originalViolation']) {
    const v = r[field] as Record<string, unknown> | undefined;
    if (typeof v !== 'object' || v === null || typeof v.invariant !== 'string' || typeof v.message !== 'string') fail(field, 'an object { invariant, message, time, step }');
  }
  if (typeof r.traceHash !== 'string' || !/^[0-9a-f]{16}$/.test(r.traceHash)) fail('traceHash', 'a 16-digit hex trace hash');
  if (!Array.isArray(r.trace)) fail('trace', 'a list of trace entries');
  for (const field of ['events', 'virtualMs', 'traceOmitted']) if (typeof r[field] !== 'number') fail(field, 'a number');
  // Plans are checked against the scenario's nodes once the scenario is known (validateReportPlans).
  for (const field of ['plan', 'originalPlan']) {
    const p = r[field] as Record<string, unknown> | undefined;
    if (typeof p !== 'object' || p === null || !Array.isArray(p.actions)) fail(field, 'a fault plan { version, actions }');
  }
  return json as Report;
}

/** Checks the report's plans against the scenario's nodes (unknown nodes, kinds, fields). */
export function validateReportPlans(report: Report, scenario: Scenario, source: string): void {
  const nodes = nodeIds(scenario.nodes);
  try {
    validatePlan(report.plan, nodes, `${source}: plan`);
    validatePlan(report.originalPlan, nodes, `${source}: originalPlan`);
  } catch (error) {
    throw new InputError(`replay: ${errorMessage(error)}`);
  }
}

/** A scenario object without its functions (checks), fit for JSON. */
function jsonSafe(scenario: Scenario): unknown {
  const { checks: _checks, ...rest } = scenario;
  return JSON.parse(JSON.stringify(rest));
}
