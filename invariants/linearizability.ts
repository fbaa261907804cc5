import type { KvOperation } from '../src/adapter/contract.ts';
import type { ClientOperation } from '../src/sim/history.ts';
import type { Checker, CheckerDefinition, RunRecord } from './types.ts';

/** What the search needs of a client operation (a ClientOperation fits). */
export type HistoryOperation = Pick<ClientOperation, 'id' | 'client' | 'op' | 'invokeTime' | 'completeTime' | 'status' | 'output'>;

export interface LinearizabilityOptions {
  /** Search steps allowed over all keys before giving up with `ok: 'unknown'`. */
  readonly maxSteps?: number;
}

export type LinearizabilityResult =
  | { readonly ok: true; readonly keys: number; readonly operations: number; readonly steps: number }
  | {
      readonly ok: false;
      readonly key: string;
      readonly message: string;
      /** The operations on that key that took part in the search. */
      readonly operations: readonly HistoryOperation[];
      /** Ids of the longest sequence of operations the search could linearize. */
      readonly longestLinearized: readonly number[];
      readonly steps: number;
    }
  | { readonly ok: 'unknown'; readonly key: string; readonly message: string; readonly steps: number };

export const DEFAULT_MAX_STEPS = 5_000_000;

/** One event of the history: a call, or the return of an operation that completed. */
interface Entry {
  readonly call: boolean;
  readonly op: number;
  readonly time: number;
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

interface KeyOp {
  readonly source: HistoryOperation;
  readonly op: KvOperation;
  readonly finite: boolean;
}

/**
 * Linearizability of a key-value history, by the Wing–Gong–Lowe search with memoisation as
 * Porcupine does it: the history is split per key (each key is an independent register, so the
 * whole history is linearizable iff every key's is), events are kept in a doubly linked list
 * ordered by time, and the search repeatedly linearizes the first call it can, lifting the call
 * and its return out of the list, backtracking when it meets a return whose call is not yet
 * linearized. A (set of linearized operations, register value) pair already explored is never
 * explored again. Model: get returns the value ("" when absent), put replaces, append concatenates.
 *
 * Outcomes: `fail` operations never happened and are dropped; gets that did not complete are
 * dropped (no effect, nothing observed); writes that timed out or are still pending may have
 * taken effect at any time after their invocation, so they get no return event (they may be
 * linearized anywhere after their call, or last, which no later operation observes).
 * Events at equal times: calls come before returns, so touching operations count as concurrent
 * (the permissive reading). The search stops with `ok: 'unknown'` after `maxSteps` steps.
 */
export function checkLinearizable(history: readonly HistoryOperation[], options: LinearizabilityOptions = {}): LinearizabilityResult {
  const byKey = new Map<string, KeyOp[]>();
  let total = 0;
  for (const source of history) {
    if (source.status === 'fail') continue;
    const op = source.op;
    const finite = source.status === 'ok';
    if (op.type === 'get' && !finite) continue;
    let list = byKey.get(op.key);
    if (!list) byKey.set(op.key, (list = []));
    list.push({ source, op, finite });
    total++;
  }
  const budget = { left: options.maxSteps ?? DEFAULT_MAX_STEPS, used: 0 };
  const keys = [...byKey.keys()].sort();
  for (const key of keys) {
    const result = checkKey(key, byKey.get(key)!, budget);
    if (result !== undefined) return result;
  }
  return { ok: true, keys: keys.length, operations: total, steps: budget.used };
}

/** Two independent 32-bit hashes per operation index, for the linearized-set fingerprint. */
function mix(x: number, seed: number): number {
  let h = Math.imul(x ^ seed, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function checkKey(key: string, ops: KeyOp[], budget: { left: number; used: number }): LinearizabilityResult | undefined {
  const n = ops.length;
  const events: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const k = ops[i]!;
    const call: Entry = { call: true, op: i, time: k.source.invokeTime, match: undefined, prev: undefined, next: undefined };
    events.push(call);
    if (k.finite) {
      const ret: Entry = { call: false, op: i, time: k.source.completeTime ?? k.source.invokeTime, match: undefined, prev: undefined, next: undefined };
      call.match = ret;
      events.push(ret);
    }
  }
  events.sort((a, b) => a.time - b.time || (a.call === b.call ? a.op - b.op : a.call ? -1 : 1));
  const head: Entry = { call: false, op: -1, time: -Infinity, match: undefined, prev: undefined, next: undefined };
  let tail = head;
  for (const e of events) {
    tail.next = e;
    e.prev = tail;
    tail = e;
  }

  const words = (n + 31) >>> 5;
  const bits = new Uint32Array(words);
  const hashA = new Uint32Array(n);
  const hashB = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    hashA[i] = mix(i, 0x1234567);
    hashB[i] = mix(i, 0x7654321);
  }
  const stateIds = new Map<string, number>();
  const intern = (s: string): number => {
    let id = stateIds.get(s);
    if (id === undefined) stateIds.set(s, (id = stateIds.size));
    return id;
  };
  const cache = new Map<string, Uint32Array[]>();
  const sameBits = (a: Uint32Array): boolean => {
    for (let w = 0; w < words; w++) if (a[w] !== bits[w]) return false;
    return true;
  };

  let remaining = 0;
  for (const k of ops) if (k.finite) remaining++;
  const stack: { entry: Entry; state: string }[] = [];
  let state = '';
  let h1 = 0;
  let h2 = 0;
  let best: number[] = [];
  let blocked: { op: number; state: string } | undefined;
  let entry = head.next;

  const lift = (e: Entry) => {
    e.prev!.next = e.next;
    if (e.next) e.next.prev = e.prev;
    const m = e.match;
    if (m) {
      m.prev!.next = m.next;
      if (m.next) m.next.prev = m.prev;
    }
  };
  const unlift = (e: Entry) => {
    const m = e.match;
    if (m) {
      m.prev!.next = m;
      if (m.next) m.next.prev = m;
    }
    e.prev!.next = e;
    if (e.next) e.next.prev = e;
  };

  while (remaining > 0) {
    if (budget.left-- <= 0) {
      return {
        ok: 'unknown',
        key,
        message: `linearizability of key ${JSON.stringify(key)} (${n} operations) is unknown: the search budget ran out after ${budget.used} steps`,
        steps: budget.used,
      };
    }
    budget.used++;
    if (entry === undefined || !entry.call) {
      // A return whose operation is not linearized yet: the current prefix leads nowhere.
      if (stack.length === 0) {
        return violation(key, ops, best, blocked, budget.used);
      }
      if (entry !== undefined && stack.length >= best.length && blocked === undefined) blocked = { op: entry.op, state };
      const top = stack.pop()!;
      const op = top.entry.op;
      bits[op >>> 5]! &= ~(1 << (op & 31));
      h1 ^= hashA[op]!;
      h2 ^= hashB[op]!;
      state = top.state;
      unlift(top.entry);
      if (ops[op]!.finite) remaining++;
      entry = top.entry.next;
      continue;
    }
    const i = entry.op;
    const k = ops[i]!;
    const next = step(state, k);
    if (next !== undefined) {
      bits[i >>> 5]! |= 1 << (i & 31);
      const n1 = h1 ^ hashA[i]!;
      const n2 = h2 ^ hashB[i]!;
      const cacheKey = `${n1},${n2},${intern(next)}`;
      let seen = cache.get(cacheKey);
      const explored = seen !== undefined && seen.some(sameBits);
      if (!explored) {
        if (!seen) cache.set(cacheKey, (seen = []));
        seen.push(bits.slice());
        stack.push({ entry, state });
        state = next;
        h1 = n1;
        h2 = n2;
        lift(entry);
        if (k.finite) remaining--;
        if (stack.length > best.length) {
          best = stack.map((s) => s.entry.op);
          blocked = undefined;
        }
        entry = head.next;
        continue;
      }
      bits[i >>> 5]! &= ~(1 << (i & 31));
    }
    entry = entry.next;
  }
  return undefined;
}

function step(state: string, k: KeyOp): string | undefined {
  const op = k.op;
  switch (op.type) {
    case 'put':
      return op.value;
    case 'append':
      return state + op.value;
    case 'get':
      return (k.source.output ?? '') === state ? state : undefined;
  }
}

export function describeOperation(o: HistoryOperation): string {
  const op = o.op;
  const call = op.type === 'get' ? `get(${JSON.stringify(op.key)})` : `${op.type}(${JSON.stringify(op.key)}, ${JSON.stringify(op.value)})`;
  const result = op.type === 'get' ? ` -> ${JSON.stringify(o.output ?? '')}` : '';
  const end = o.status === 'ok' ? `${o.completeTime}]` : `never returned (${o.status})`;
  return `#${o.id} ${o.client} ${call}${result} [${o.invokeTime}, ${end}`;
}

function violation(key: string, ops: KeyOp[], best: number[], blocked: { op: number; state: string } | undefined, steps: number): LinearizabilityResult {
  const shown = best.slice(-6).map((i) => describeOperation(ops[i]!.source));
  const prefix = best.length === 0
    ? 'no operation can come first'
    : `the longest linearizable prefix has ${best.length} operation(s), ending ${shown.join('; ')}`;
  const stuck = blocked
    ? `; after it the register holds ${JSON.stringify(blocked.state)} and ${describeOperation(ops[blocked.op]!.source)} cannot be placed before it returns`
    : '';
  return {
    ok: false,
    key,
    message: `the history of key ${JSON.stringify(key)} is not linearizable (${ops.length} operations): ${prefix}${stuck}`,
    operations: ops.map((k) => k.source),
    longestLinearized: best.map((i) => ops[i]!.source.id),
    steps,
  };
}

/** The run-level checker over the clients' history. An `unknown` outcome is not a violation. */
export const linearizability: CheckerDefinition = {
  name: 'linearizability',
  description: "the clients' key-value history is linearizable (Wing–Gong–Lowe search per key, with memoisation)",
  scope: 'run',
  needs: [],
  create(): Checker {
    return {
      finish(record: RunRecord) {
        const result = checkLinearizable(record.history);
        if (result.ok !== false) return undefined;
        return { invariant: 'linearizability', message: result.message };
      },
    };
  },
};
