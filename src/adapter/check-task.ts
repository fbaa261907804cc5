import type { Scenario } from '../sim/scenario.ts';
import { simulationOptions } from '../runner.ts';
import { Simulation } from '../sim/engine.ts';
import { generatePlan } from '../faults/generate.ts';
import { findScenario } from '../../scenarios/index.ts';
import { adapterViewChecker, paranoidFactory, trapGlobals } from './conformance.ts';
import { loadFactory } from './load.ts';

/** One conformance run of `raftsim check-adapter`, executed in a fresh worker thread (check.ts). */
export interface CheckTask {
  readonly module: string;
  readonly scenario: string;
  /** Seeds run one after the other in this thread; the last one's result is compared across threads. */
  readonly seeds: readonly number[];
}

export interface CheckRunResult {
  readonly seed: number;
  readonly traceHash: string;
  readonly events: number;
  readonly violation?: { readonly invariant: string; readonly message: string; readonly time?: number; readonly step?: number };
  /** Wall-clock / randomness globals called during the run: name, count, first stack. */
  readonly leaks: readonly { readonly name: string; readonly count: number; readonly stack: string }[];
  readonly capabilities: readonly string[];
}

export async function runCheckTask(task: CheckTask): Promise<CheckRunResult[]> {
  const factory = paranoidFactory(await loadFactory(task.module));
  const scenario: Scenario = findScenario(task.scenario);
  const results: CheckRunResult[] = [];
  for (const seed of task.seeds) {
    const options = simulationOptions(scenario, seed, { factory, checkers: [adapterViewChecker], generatePlan, trace: 'hash' });
    // The plan is drawn before the traps go in: fast-check is not on the simulation path.
    const simulation = new Simulation(options);
    const traps = trapGlobals();
    let result;
    try {
      result = simulation.run();
    } finally {
      traps.restore();
    }
    results.push({
      seed,
      traceHash: result.traceHash,
      events: result.events,
      ...(result.violation ? { violation: { invariant: result.violation.invariant, message: result.violation.message, time: result.violation.time, step: result.violation.step } } : {}),
      leaks: [...traps.calls].map(([name, { count, stack }]) => ({ name, count, stack })),
      capabilities: result.capabilities,
    });
  }
  return results;
}
