import type { Command, LogView, NodeView, Role } from '../../src/adapter/contract.ts';
import type { ClientOperation } from '../../src/sim/history.ts';
import type { Checker, CheckerDefinition, ClusterInfo, ClusterStatus, RunRecord, Violation } from '../../invariants/types.ts';

export const CLUSTER: ClusterInfo = { nodes: ['n1', 'n2', 'n3'], initialMembers: ['n1', 'n2', 'n3'], electionTimeoutMaxMs: 300 };

/** A client command with a unique id. */
export function cmd(id: string, op: Command['op'] = { type: 'put', key: 'k', value: id }): Command {
  const [client, seq] = id.includes('.') ? id.split('.') : [id, '1'];
  return { id, client: client!, seq: Number(seq), op };
}

/** Log entries: [term, command] from index snapshotIndex + 1. */
export type Entries = readonly (readonly [number, unknown])[];

/** A LogView over a copy of `entries`, the first at snapshotIndex + 1. */
export function log(entries: Entries, snapshotIndex = 0, snapshotTerm = 0): LogView {
  const copy = entries.map(([t, c]) => [t, c] as const);
  return {
    snapshotIndex,
    snapshotTerm,
    lastIndex: snapshotIndex + copy.length,
    termAt: (i) => copy[i - snapshotIndex - 1]![0],
    commandAt: (i) => copy[i - snapshotIndex - 1]![1],
  };
}

/** Entries [term, cmd(id)] from a compact spec: "1:a 1:b 2:c". */
export function spec(text: string): Entries {
  return text.trim() === '' ? [] : text.trim().split(/\s+/).map((p) => {
    const [t, id] = p.split(':');
    return [Number(t), id === 'noop' ? { type: 'noop' } : cmd(id!)] as const;
  });
}

export function view(role: Role, term: number, extra: Partial<NodeView> = {}): NodeView {
  return { role, term, ...extra };
}

/**
 * A checker of its own run (a fresh ClusterInfo object): checkers created for one run share one
 * afterStep (see Observations.stepHook), so each checker a test drives by hand gets its own.
 */
export function create(def: CheckerDefinition, cluster: ClusterInfo = CLUSTER): Checker {
  return def.create({ ...cluster });
}

/** Runs steps until one returns a violation. */
export function firstViolation(steps: readonly (() => Violation | undefined)[]): Violation | undefined {
  for (const s of steps) {
    const v = s();
    if (v) return v;
  }
  return undefined;
}

export function status(time: number, up: string[], connected: [string, string][], extra: Partial<ClusterStatus> = {}): ClusterStatus {
  return { time, up, connected, whole: false, ...extra };
}

export function allPairs(nodes: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let a = 0; a < nodes.length; a++) for (let b = a + 1; b < nodes.length; b++) pairs.push([nodes[a]!, nodes[b]!]);
  return pairs;
}

export function record(partial: Partial<RunRecord>): RunRecord {
  return {
    cluster: CLUSTER,
    statuses: [status(0, ['n1', 'n2', 'n3'], allPairs(['n1', 'n2', 'n3']), { whole: true })],
    healedAt: undefined,
    endTime: 0,
    finalViews: new Map(),
    finalStates: new Map(),
    membershipChanges: [],
    ...partial,
  };
}

/**
 * Drives a checker's client hooks with a history as a run would: calls and ok answers in time
 * order (at equal times, answers first), among any other `steps`, each record handed over pending and filled in (status,
 * completion, output) when it ends, so a checker sees an outcome only once it happened.
 */
export function feed(checker: Checker, history: readonly ClientOperation[], steps: readonly { time: number; run: () => void }[] = []): void {
  // Other steps (views for afterStep) come after client events of the same time.
  const events: { time: number; order: number; run: () => void }[] = steps.map((s) => ({ ...s, order: 2 }));
  for (const done of history) {
    const live: ClientOperation = { ...done, status: 'pending' };
    delete live.completeTime;
    delete live.output;
    events.push({ time: done.invokeTime, order: 1, run: () => checker.onInvoke?.(live) });
    if (done.status === 'pending') continue;
    const end = done.completeTime ?? done.invokeTime;
    events.push({
      time: end,
      order: 0,
      run: () => {
        Object.assign(live, done);
        if (done.status === 'ok') checker.onOperationOk?.(live);
      },
    });
  }
  events.sort((a, b) => a.time - b.time || a.order - b.order);
  for (const e of events) e.run();
}

let nextOp = 0;
/** A client operation for histories. */
export function op(
  client: string,
  o: ClientOperation['op'],
  invokeTime: number,
  completeTime: number | undefined,
  extra: Partial<ClientOperation> = {},
): ClientOperation {
  return { id: nextOp++, client, seq: nextOp, op: o, invokeTime, completeTime, status: completeTime === undefined ? 'timeout' : 'ok', ...extra };
}
