import type { RaftFactory } from '../adapter/contract.ts';
import type { RunResult } from '../sim/engine.ts';
import { runScenario } from '../runner.ts';
import type { Scenario } from '../sim/scenario.ts';
import type { CheckerDefinition } from '../../invariants/types.ts';
import type { Report } from './report.ts';

export interface ReplayOutcome {
  readonly run: RunResult;
  /** The replayed run's trace hash equals the report's. */
  readonly hashMatches: boolean;
  /** The same invariant was violated at the same step. */
  readonly reproduced: boolean;
  /** The report with the replayed run's trace, hash and violation (for redrawing the HTML). */
  readonly report: Report;
}

/**
 * Re-runs a report's shrunk plan with its seed, scenario, implementation options and checkers,
 * with a full trace (as the report's trace was recorded), and compares.
 */
export function replayReport(report: Report, scenario: Scenario, factory: RaftFactory, checkers: readonly CheckerDefinition[]): ReplayOutcome {
  const run = runScenario(scenario, report.seed, {
    factory,
    checkers,
    implementationOptions: report.implementationOptions,
    plan: report.plan,
    trace: 'full',
  });
  const v = run.violation;
  const reproduced = v !== undefined && v.invariant === report.violation.invariant && v.step === report.violation.step;
  return {
    run,
    hashMatches: run.traceHash === report.traceHash,
    reproduced,
    report: {
      ...report,
      ...(v ? { violation: v } : {}),
      traceHash: run.traceHash,
      events: run.events,
      virtualMs: run.virtualMs,
      trace: run.trace,
      traceOmitted: run.traceOmitted,
    },
  };
}
