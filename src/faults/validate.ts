import type { NodeId } from '../adapter/contract.ts';
import { FAULT_KINDS, FAULT_PLAN_VERSION, FAULT_TRIGGERS, MAX_AFTER_ELECTION_MS, MAX_NTH_ELECTION, SYMBOLIC_REFS, type FaultAction, type FaultKind, type FaultPlan } from './plan.ts';
import { errorMessage } from '../errors.ts';

/**
 * Validates a fault plan read from JSON (a scenario file, a report). Every error names where the
 * problem is (`source`, the action's index and kind, the field) and how to fix it. Returns the
 * plan unchanged when it is valid.
 */
export function validatePlan(json: unknown, nodes: readonly NodeId[], source: string): FaultPlan {
  if (!isObject(json)) throw new Error(`${source}: a fault plan must be a JSON object { "version": ${FAULT_PLAN_VERSION}, "actions": [...] }, not ${describe(json)}`);
  for (const field of Object.keys(json)) {
    if (field !== 'version' && field !== 'actions' && field !== 'knobs') {
      throw new Error(`${source}: unknown plan field "${field}"; a plan has "version", "actions" and optionally "knobs"`);
    }
  }
  if (json.version !== FAULT_PLAN_VERSION) {
    throw new Error(`${source}: plan version is ${JSON.stringify(json.version)}; this raftsim reads version ${FAULT_PLAN_VERSION} (set "version": ${FAULT_PLAN_VERSION})`);
  }
  if (!Array.isArray(json.actions)) throw new Error(`${source}: plan "actions" must be a list of actions, not ${describe(json.actions)}`);
  json.actions.forEach((action, i) => validateAction(action, nodes, `${source}: actions[${i}]`));
  if (json.knobs !== undefined && !isObject(json.knobs)) {
    throw new Error(`${source}: plan "knobs" must be an object of implementation options (option name → value), not ${describe(json.knobs)}`);
  }
  return json as unknown as FaultPlan;
}

type FieldCheck = (value: unknown, where: string, nodes: readonly NodeId[]) => void;

const FIELDS: Record<FaultKind, Record<string, { required: boolean; check: FieldCheck }>> = {
  partition: { groups: { required: true, check: checkGroups } },
  isolate: { node: { required: true, check: checkRef } },
  cut: { from: { required: true, check: checkRef }, to: { required: true, check: checkRef } },
  bridge: { links: { required: true, check: checkLinks } },
  heal: {},
  crash: { node: { required: true, check: checkRef }, loss: { required: false, check: checkLoss } },
  restart: { node: { required: true, check: checkRef } },
  corrupt: { node: { required: true, check: checkRef } },
  link: {
    from: { required: false, check: checkRef },
    to: { required: false, check: checkRef },
    dropRate: { required: false, check: checkRate },
    duplicateRate: { required: false, check: checkRate },
    longDelayRate: { required: false, check: checkRate },
    latency: { required: false, check: checkRange },
    longDelay: { required: false, check: checkRange },
  },
  skew: { node: { required: true, check: checkRef }, rate: { required: true, check: checkSkew } },
  membership: { members: { required: true, check: checkMembers } },
  transfer: { to: { required: true, check: checkRef } },
  burst: { operations: { required: true, check: checkOperations } },
  load: { thinkMs: { required: false, check: checkRange }, requestTimeoutMs: { required: false, check: checkTimeout } },
};

function validateAction(action: unknown, nodes: readonly NodeId[], where: string): asserts action is FaultAction {
  if (!isObject(action)) throw new Error(`${where}: an action must be an object { "at": <ms>, "kind": "...", ... }, not ${describe(action)}`);
  const kind = action.kind;
  if (typeof kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`${where}: unknown fault kind ${JSON.stringify(kind)}; use one of ${FAULT_KINDS.join(', ')}`);
  }
  const here = `${where} (${kind})`;
  if (typeof action.at !== 'number' || !Number.isFinite(action.at) || action.at < 0) {
    throw new Error(`${here}: "at" is ${JSON.stringify(action.at)}; give the virtual time in ms, a number >= 0`);
  }
  const fields = FIELDS[kind as FaultKind];
  for (const [field, value] of Object.entries(action)) {
    if (field === 'at' || field === 'kind') continue;
    if (field === 'when') {
      if (!(FAULT_TRIGGERS as readonly unknown[]).includes(value)) {
        throw new Error(`${here}: field "when" is ${describe(value)}; leave it out, or give ${FAULT_TRIGGERS.map((t) => `"${t}"`).join(' or ')} (fire at the first leader election after "at")`);
      }
      continue;
    }
    if (field === 'nth' || field === 'afterMs') {
      if (action.when !== 'elected') throw new Error(`${here}: field "${field}" refines when: "elected"; add "when": "elected" or leave "${field}" out`);
      if (field === 'nth' && !(Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_NTH_ELECTION)) {
        throw new Error(`${here}: field "nth" is ${describe(value)}; give an integer from 1 to ${MAX_NTH_ELECTION} (fire at the nth election after "at")`);
      }
      if (field === 'afterMs' && !(typeof value === 'number' && value >= 0 && value <= MAX_AFTER_ELECTION_MS)) {
        throw new Error(`${here}: field "afterMs" is ${describe(value)}; give virtual ms from 0 to ${MAX_AFTER_ELECTION_MS} (how long after the election to fire)`);
      }
      continue;
    }
    const spec = fields[field];
    if (!spec) {
      const known = ['at', 'kind', 'when', 'nth', 'afterMs', ...Object.keys(fields)];
      throw new Error(`${here}: unknown field "${field}"; a ${kind} action has ${known.join(', ')}`);
    }
    spec.check(value, `${here}: field "${field}"`, nodes);
  }
  for (const [field, spec] of Object.entries(fields)) {
    if (spec.required && !(field in action)) throw new Error(`${here}: missing field "${field}"`);
  }
  if (kind === 'load' && action.thinkMs === undefined && action.requestTimeoutMs === undefined) {
    throw new Error(`${here}: a load action changes nothing without "thinkMs" or "requestTimeoutMs"; give at least one`);
  }
}

function checkRef(value: unknown, where: string, nodes: readonly NodeId[]): void {
  if (typeof value === 'string' && (nodes.includes(value) || (SYMBOLIC_REFS as readonly string[]).includes(value))) return;
  if (typeof value === 'string') {
    throw new Error(`${where}: unknown node "${value}"; use one of the scenario's nodes (${nodes.join(', ')}) or ${SYMBOLIC_REFS.map((r) => `"${r}"`).join(', ')}`);
  }
  throw new Error(`${where} is ${describe(value)}; give a node id string (${nodes.join(', ')}) or ${SYMBOLIC_REFS.map((r) => `"${r}"`).join(', ')}`);
}

function checkGroups(value: unknown, where: string, nodes: readonly NodeId[]): void {
  if (!Array.isArray(value) || value.length === 0 || !value.every(Array.isArray)) {
    throw new Error(`${where} is ${describe(value)}; give a non-empty list of groups, each a list of nodes, e.g. [["n1","n2"],["n3"]]`);
  }
  // "*" stands for every node that no other group names (src/faults/plan.ts).
  value.forEach((group: unknown[], g) => group.forEach((ref, i) => ref === '*' || checkRef(ref, `${where}[${g}][${i}]`, nodes)));
}

function checkLinks(value: unknown, where: string, nodes: readonly NodeId[]): void {
  if (!Array.isArray(value) || !value.every((pair) => Array.isArray(pair) && pair.length === 2)) {
    throw new Error(`${where} is ${describe(value)}; give a list of node pairs that stay connected, e.g. [["n1","n2"],["n2","n3"]]`);
  }
  value.forEach((pair: unknown[], p) => pair.forEach((ref, i) => checkRef(ref, `${where}[${p}][${i}]`, nodes)));
}

function checkMembers(value: unknown, where: string, nodes: readonly NodeId[]): void {
  if (!Array.isArray(value) || value.length === 0) throw new Error(`${where} is ${describe(value)}; give the new voting members, a non-empty list of node ids`);
  for (const member of value) {
    if (typeof member !== 'string' || !nodes.includes(member)) {
      throw new Error(`${where}: unknown node ${JSON.stringify(member)}; members must be node ids of the scenario (${nodes.join(', ')}); "leader"/"follower" are not allowed here`);
    }
  }
  if (new Set(value).size !== value.length) throw new Error(`${where} lists a node twice`);
}

function checkLoss(value: unknown, where: string): void {
  if (value !== 'all' && value !== 'torn' && value !== 'none') {
    throw new Error(`${where} is ${describe(value)}; use "all" (lose unsynced writes), "torn" (keep a random prefix of them) or "none"`);
  }
}

function checkRate(value: unknown, where: string): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new Error(`${where} is ${describe(value)}; give a probability from 0 to 1`);
}

function checkRange(value: unknown, where: string): void {
  const r = value as { minMs?: unknown; maxMs?: unknown };
  if (!isObject(value) || Object.keys(value).some((k) => k !== 'minMs' && k !== 'maxMs') || typeof r.minMs !== 'number' || typeof r.maxMs !== 'number' || !(r.minMs >= 0 && r.minMs <= r.maxMs && Number.isFinite(r.maxMs))) {
    throw new Error(`${where} is ${describe(value)}; give { "minMs": a, "maxMs": b } with 0 <= a <= b`);
  }
}

function checkSkew(value: unknown, where: string): void {
  if (typeof value !== 'number' || !(value > 0 && value <= 100)) throw new Error(`${where} is ${describe(value)}; give a clock rate > 0 (1 = true time, 2 = twice as fast)`);
}

function checkTimeout(value: unknown, where: string): void {
  if (typeof value !== 'number' || !(value >= 1 && value <= 60_000)) throw new Error(`${where} is ${describe(value)}; give a number of virtual milliseconds from 1 to 60000`);
}

function checkOperations(value: unknown, where: string): void {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 10_000) throw new Error(`${where} is ${describe(value)}; give a whole number of operations from 1 to 10000`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Parses plan JSON text: bad JSON and a bad plan both give an Error naming `source`. */
export function parsePlanText(text: string, nodes: readonly NodeId[], source: string): FaultPlan {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${errorMessage(error)}); fix the syntax`);
  }
  return validatePlan(json, nodes, source);
}
