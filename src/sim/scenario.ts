import type { NodeId, TimingConfig } from '../adapter/contract.ts';
import type { FaultPlan } from '../faults/plan.ts';
import type { CheckerDefinition } from '../../invariants/types.ts';
import type { WorkloadConfig } from './clients.ts';
import type { LinkBehaviour } from './network.ts';

/**
 * A named scenario: the cluster, its timings and network, the clients' workload, and the faults:
 * a fixed plan, or (with `generate`) a fresh plan drawn from the seed for every run.
 */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Server ids, or a count (n1..nN). */
  readonly nodes: number | readonly NodeId[];
  /** Voting members at start (default: all nodes); the others wait to be added. */
  readonly initialMembers?: readonly NodeId[];
  readonly timing?: Partial<TimingConfig>;
  readonly network?: Partial<LinkBehaviour>;
  readonly workload?: Partial<WorkloadConfig> | false;
  /** Virtual ms during which faults happen; the cluster is healed at its end. */
  readonly faultWindowMs: number;
  /** Virtual ms the run goes on after the heal (default: 10 maximal election timeouts + 2 s). */
  readonly settleMs?: number;
  /** A fixed fault plan, the same for every seed. */
  readonly plan?: FaultPlan;
  /** Draw a fault plan from each run's seed (see src/faults). */
  readonly generate?: Readonly<Record<string, unknown>>;
  /** Options for the implementation (for the reference Raft: feature switches). */
  readonly implementationOptions?: Readonly<Record<string, unknown>>;
  /** What this scenario checks beyond the global invariants. */
  readonly checks?: readonly CheckerDefinition[];
  /** Seeds the test suite runs this scenario for. */
  readonly testRuns?: number;
}

export function nodeIds(nodes: Scenario['nodes']): NodeId[] {
  return typeof nodes === 'number' ? Array.from({ length: nodes }, (_, i) => `n${i + 1}`) : [...nodes];
}
