import type { KnobSpace, RaftFactory } from './adapter/contract.ts';
import { EMPTY_PLAN, type FaultPlan } from './faults/plan.ts';
import type { CheckerDefinition } from '../invariants/types.ts';
import { DEFAULT_TIMING, Simulation, type RunResult, type SimulationOptions } from './sim/engine.ts';
import { campaignSeed } from './sim/rng.ts';
import { nodeIds, type Scenario } from './sim/scenario.ts';
import type { TraceMode } from './sim/trace.ts';

export interface RunSettings {
  readonly factory: RaftFactory;
  /** The implementation's knobs (its module's `knobs` export): generated plans draw the free ones. */
  readonly knobs?: KnobSpace;
  /** The global checkers; the scenario's own checks are added to them. */
  readonly checkers: readonly CheckerDefinition[];
  readonly trace?: TraceMode;
  /** Keep the clients' whole history in the result (it grows with virtual time; a full trace keeps it anyway). */
  readonly keepHistory?: boolean;
  /** Runs this plan instead of the scenario's (replay, shrinking). */
  readonly plan?: FaultPlan;
  /** Extra implementation options, merged over the scenario's (the bug zoo's switches). */
  readonly implementationOptions?: Readonly<Record<string, unknown>>;
  /** Draws a plan for a scenario with `generate` (src/faults), with the free knobs. */
  readonly generatePlan?: (scenario: Scenario, seed: number, knobs: KnobSpace) => FaultPlan;
}

/** The plan a run of `scenario` with `seed` uses. */
export function planFor(scenario: Scenario, seed: number, settings: RunSettings): FaultPlan {
  if (settings.plan) return settings.plan;
  if (scenario.plan) return scenario.plan;
  if (scenario.generate && settings.generatePlan) return settings.generatePlan(scenario, seed, freeKnobs(scenario, settings));
  return EMPTY_PLAN;
}

/** The implementation's knobs that a generated plan may draw: those neither the scenario nor the settings fix. */
export function freeKnobs(scenario: Scenario, settings: RunSettings): KnobSpace {
  const fixed = { ...scenario.implementationOptions, ...settings.implementationOptions };
  return Object.fromEntries(Object.entries(settings.knobs ?? {}).filter(([name]) => !(name in fixed)));
}

export function simulationOptions(scenario: Scenario, seed: number, settings: RunSettings): SimulationOptions {
  const plan = planFor(scenario, seed, settings);
  return {
    seed,
    factory: settings.factory,
    nodes: nodeIds(scenario.nodes),
    ...(scenario.initialMembers ? { initialMembers: scenario.initialMembers } : {}),
    timing: { ...DEFAULT_TIMING, ...scenario.timing },
    implementationOptions: { ...scenario.implementationOptions, ...plan.knobs, ...settings.implementationOptions },
    ...(scenario.network ? { network: scenario.network } : {}),
    ...(scenario.workload !== undefined ? { workload: scenario.workload } : {}),
    plan,
    faultWindowMs: scenario.faultWindowMs,
    ...(scenario.settleMs !== undefined ? { settleMs: scenario.settleMs } : {}),
    checkers: [...settings.checkers, ...(scenario.checks ?? [])],
    trace: settings.trace ?? 'hash',
    ...(settings.keepHistory ? { keepHistory: true } : {}),
  };
}

/** One run: the scenario, one seed, one plan. */
export function runScenario(scenario: Scenario, seed: number, settings: RunSettings): RunResult & { plan: FaultPlan } {
  const options = simulationOptions(scenario, seed, settings);
  return { ...new Simulation(options).run(), plan: options.plan! };
}

/** The seeds of a campaign: the same base and count always give the same seeds. */
export function campaignSeeds(base: number, runs: number): number[] {
  return Array.from({ length: runs }, (_, i) => campaignSeed(base, i));
}
