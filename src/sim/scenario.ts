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

const SCENARIO_FIELDS: Record<string, (v: unknown) => boolean> = {
  name: (v) => typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v),
  description: (v) => typeof v === 'string',
  nodes: (v) => (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 64) || isStringList(v),
  initialMembers: isStringList,
  timing: isNumberRecord,
  network: isPlainObject,
  workload: (v) => v === false || isPlainObject(v),
  faultWindowMs: (v) => typeof v === 'number' && v >= 0 && Number.isFinite(v),
  settleMs: (v) => typeof v === 'number' && v >= 0 && Number.isFinite(v),
  plan: isPlainObject,
  generate: isPlainObject,
  implementationOptions: isPlainObject,
  testRuns: (v) => Number.isInteger(v) && (v as number) >= 0,
};

const FIELD_HINTS: Record<string, string> = {
  name: 'a string of letters, digits, ".", "_" or "-"',
  nodes: 'a node count from 1 to 64, or a list of node id strings',
  initialMembers: 'a list of node id strings',
  timing: 'an object of numbers: electionTimeoutMinMs, electionTimeoutMaxMs, heartbeatMs',
  faultWindowMs: 'a number of virtual milliseconds >= 0',
  settleMs: 'a number of virtual milliseconds >= 0',
  workload: 'false, or an object (clients, keys, thinkMs, mix, requestTimeoutMs, operationTimeoutMs, retryBackoffMs)',
};

/**
 * Validates a scenario read from JSON. Errors name the field and what it should be. The fault
 * plan inside, if any, is validated by src/faults.
 */
export function parseScenario(value: unknown, source: string): Scenario {
  if (!isPlainObject(value)) throw new Error(`${source}: a scenario must be a JSON object`);
  for (const [field, v] of Object.entries(value)) {
    const check = SCENARIO_FIELDS[field];
    if (!check) throw new Error(`${source}: unknown field "${field}"; known fields: ${Object.keys(SCENARIO_FIELDS).join(', ')}`);
    if (!check(v)) throw new Error(`${source}: field "${field}" is ${JSON.stringify(v)}; it must be ${FIELD_HINTS[field] ?? 'of the documented type'}`);
  }
  for (const required of ['name', 'nodes', 'faultWindowMs']) {
    if (!(required in value)) throw new Error(`${source}: missing field "${required}" (${FIELD_HINTS[required]})`);
  }
  const scenario = { description: '', ...value } as unknown as Scenario;
  const ids = nodeIds(scenario.nodes);
  for (const member of scenario.initialMembers ?? []) {
    if (!ids.includes(member)) throw new Error(`${source}: initialMembers names "${member}", which is not among nodes ${ids.join(', ')}`);
  }
  const t = scenario.timing;
  if (t && t.electionTimeoutMinMs !== undefined && t.electionTimeoutMaxMs !== undefined && t.electionTimeoutMinMs > t.electionTimeoutMaxMs) {
    throw new Error(`${source}: timing.electionTimeoutMinMs (${t.electionTimeoutMinMs}) exceeds timing.electionTimeoutMaxMs (${t.electionTimeoutMaxMs})`);
  }
  return scenario;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringList(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x.length > 0) && new Set(v).size === v.length;
}

function isNumberRecord(v: unknown): boolean {
  return isPlainObject(v) && Object.values(v).every((x) => typeof x === 'number' && x > 0);
}
