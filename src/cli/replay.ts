import { findScenario } from '../../scenarios/index.ts';
import { InputError } from '../adapter/load.ts';
import { replayReport, type ReplayOutcome } from '../report/replay.ts';
import { writeHtmlFile } from '../report/html.ts';
import { describeSeed, loadReport, replayCommand, validateReportPlans, type Report } from '../report/report.ts';
import { formatPlan, formatTrace } from '../report/text.ts';
import { parseScenario, type Scenario } from '../sim/scenario.ts';
import { loadCheckers, loadImplementation, recordPath, REFERENCE } from './modules.ts';
import { errorMessage } from '../errors.ts';

export interface ReplayCommandOptions {
  verbose?: boolean;
  html?: boolean;
  impl?: string;
  json?: boolean;
}

/** The scenario a report was made with: its own copy if it came from a file, else by name. */
export function reportScenario(report: Report, source: string): Scenario {
  if (report.scenario.definition !== undefined) {
    try {
      return parseScenario(report.scenario.definition, `${source}: scenario`);
    } catch (error) {
      throw new InputError(`replay: ${errorMessage(error)}`);
    }
  }
  try {
    return findScenario(report.scenario.name);
  } catch {
    throw new InputError(`replay: ${source} names scenario "${report.scenario.name}", which this raftsim does not have; run "raftsim list", or use the raftsim version that wrote it (${report.frameworkVersion})`);
  }
}

/**
 * `raftsim replay <report.json>`: re-runs the report's shrunk plan with its seed, scenario,
 * implementation options and checkers, and checks the trace hash.
 * Exit 0: the hash matches and the same violation happens again. Exit 1: it does not (the trace
 * diverged — another implementation or raftsim version, or non-determinism). Exit 2: a bad report.
 */
export async function replayCommandMain(file: string, options: ReplayCommandOptions): Promise<number> {
  const report = loadReport(file);
  const scenario = reportScenario(report, file);
  validateReportPlans(report, scenario, file);
  const implementation = options.impl !== undefined ? recordPath(options.impl) : report.implementation;
  const [{ factory }, loaded] = await Promise.all([loadImplementation(implementation === 'reference' ? REFERENCE : implementation), loadCheckers(report.checkers.module, 'report checkers.module')]);
  // The checkers that ran, as recorded (a campaign may have left some out with --skip-checkers).
  const names = report.checkers.names;
  const missing = names.filter((name) => !loaded.some((c) => c.name === name));
  if (missing.length > 0) {
    throw new InputError(`replay: ${file} ran checker(s) ${missing.join(', ')}, which ${report.checkers.module} does not have; use the raftsim version that wrote it (${report.frameworkVersion})`);
  }
  const outcome = replayReport(report, scenario, factory, loaded.filter((c) => names.includes(c.name)));
  if (options.html) {
    writeHtmlFile(htmlPath(file), outcome.report, replayCommand(file));
  }
  if (options.json) {
    process.stdout.write(
      JSON.stringify({
        report: file,
        seed: report.seed,
        expectedHash: report.traceHash,
        traceHash: outcome.run.traceHash,
        hashMatches: outcome.hashMatches,
        reproduced: outcome.reproduced,
        violation: outcome.run.violation ?? null,
      }) + '\n',
    );
  } else {
    printReplay(report, outcome, file, options);
  }
  return outcome.hashMatches && outcome.reproduced ? 0 : 1;
}

function printReplay(report: Report, outcome: ReplayOutcome, file: string, options: ReplayCommandOptions): void {
  const lines: string[] = [];
  lines.push(`raftsim replay — ${file}`);
  lines.push(`  scenario ${report.scenario.name}, seed ${describeSeed(report)}, implementation ${report.implementation}, raftsim ${report.frameworkVersion}`);
  lines.push(`  plan (${report.plan.actions.length} action(s), shrunk from ${report.originalPlan.actions.length}):`);
  for (const line of formatPlan(report.plan)) lines.push(`    ${line}`);
  lines.push('');
  lines.push(options.verbose ? 'Trace (every event):' : 'Trace (state changes, faults, client operations, the violation; --verbose for every event):');
  for (const line of formatTrace(outcome.run.trace, options.verbose === true)) lines.push(line);
  if (outcome.run.traceOmitted > 0) lines.push(`… ${outcome.run.traceOmitted} more events not recorded`);
  lines.push('');
  const v = outcome.run.violation;
  lines.push(v ? `Violation: ${v.invariant} — ${v.message} (at ${v.time?.toFixed(3)} ms, step ${v.step})` : 'No violation this time.');
  if (outcome.hashMatches) {
    lines.push(`Trace hash ${outcome.run.traceHash} matches the report.`);
  } else {
    lines.push(`MISMATCH: trace hash ${outcome.run.traceHash}, the report has ${report.traceHash}. The run diverged from the recorded one`);
    lines.push('  (another implementation or raftsim version, changed implementation options, or non-determinism in the implementation).');
  }
  if (outcome.hashMatches && !outcome.reproduced) lines.push(`The violation differs from the report's (${report.violation.invariant}).`);
  lines.push(outcome.hashMatches && outcome.reproduced ? 'REPRODUCED.' : 'NOT REPRODUCED.');
  if (options.html) lines.push(`Timeline redrawn: ${htmlPath(file)}`);
  console.log(lines.join('\n'));
}

function htmlPath(file: string): string {
  return file.endsWith('.json') ? `${file.slice(0, -5)}.html` : `${file}.html`;
}
