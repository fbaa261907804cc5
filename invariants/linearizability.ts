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
 *
 * Reads are linearized greedily: a read that may come next (every operation that returned before
 * its call is linearized) and matches the register can be moved to the front of any valid
 * completion without changing a value or breaking a real-time order, so once it matches, nothing
 * is tried in its place — when the configuration after it fails, so does the one before. This
 * keeps bursts of concurrent reads from multiplying the explored sets (2^reads without it).
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
    let result = checkKey(key, byKey.get(key)!, budget, false);
    // Fast mode's fingerprints could in theory merge two different sets: confirm exactly.
    if (result !== undefined && result.ok === false) result = checkKey(key, byKey.get(key)!, budget, true);
    if (result !== undefined) return result;
  }
  return { ok: true, keys: keys.length, operations: total, steps: budget.used };
}

/** A 32-bit hash per operation index, XOR-ed into the fingerprint of the linearized set. */
function mix(x: number, seed: number): number {
  let h = Math.imul(x ^ seed, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Register values, interned as ids: put v → the id of v; append v to state s → a child of s.
 * Strings are built only when a get compares with them (and then kept), so a step never hashes
 * a long value.
 */
class Values {
  private readonly parent: number[] = [-1];
  private readonly piece: string[] = [''];
  private readonly text: (string | undefined)[] = [''];
  private readonly children: (Map<string, number> | undefined)[] = [undefined];
  private readonly puts = new Map<string, number>([['', 0]]);

  put(value: string): number {
    let id = this.puts.get(value);
    if (id === undefined) {
      id = this.add(-1, value);
      this.text[id] = value;
      this.puts.set(value, id);
    }
    return id;
  }

  append(state: number, value: string): number {
    if (value === '') return state;
    let map = this.children[state];
    if (!map) this.children[state] = map = new Map();
    let id = map.get(value);
    if (id === undefined) {
      id = this.add(state, value);
      map.set(value, id);
    }
    return id;
  }

  /**
   * Whether the value of `id` is `text`. Both sides are reduced to a canonical number once (one
   * hash of each string ever), so a comparison costs O(1) however long the values grow.
   */
  equals(id: number, textCanon: number): boolean {
    let canon = this.canonOfId[id];
    if (canon === undefined) this.canonOfId[id] = canon = this.canon(this.string(id));
    return canon === textCanon;
  }

  private readonly canonical = new Map<string, number>();
  private readonly canonOfId: (number | undefined)[] = [];

  canon(text: string): number {
    let c = this.canonical.get(text);
    if (c === undefined) this.canonical.set(text, (c = this.canonical.size));
    return c;
  }

  string(id: number): string {
    const known = this.text[id];
    if (known !== undefined) return known;
    const pieces: string[] = [];
    let at = id;
    while (this.text[at] === undefined) {
      pieces.push(this.piece[at]!);
      at = this.parent[at]!;
    }
    let value = this.text[at]!;
    for (let i = pieces.length - 1; i >= 0; i--) value += pieces[i]!;
    this.text[id] = value;
    return value;
  }

  private add(parent: number, piece: string): number {
    const id = this.parent.length;
    this.parent.push(parent);
    this.piece.push(piece);
    this.text.push(undefined);
    this.children.push(undefined);
    return id;
  }
}

/** A set of (hash, second fingerprint, state) triples: linear probing over typed arrays. */
class FingerprintTable {
  private slots = new Int32Array(3 * 1024);
  private used = new Uint8Array(1024);
  private count = 0;

  /** Adds the triple; returns true if it was already there. */
  addOrFind(hash: number, second: number, state: number): boolean {
    if (this.count * 2 >= this.used.length) this.grow();
    const mask = this.used.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      if (this.used[i] === 0) {
        this.used[i] = 1;
        this.slots[3 * i] = hash | 0;
        this.slots[3 * i + 1] = second | 0;
        this.slots[3 * i + 2] = state;
        this.count++;
        return false;
      }
      if (this.slots[3 * i] === (hash | 0) && this.slots[3 * i + 1] === (second | 0) && this.slots[3 * i + 2] === state) return true;
    }
  }

  private grow(): void {
    const { slots, used } = this;
    this.slots = new Int32Array(slots.length * 2);
    this.used = new Uint8Array(used.length * 2);
    this.count = 0;
    for (let i = 0; i < used.length; i++) if (used[i]) this.addOrFind(slots[3 * i]! >>> 0, slots[3 * i + 1]! >>> 0, slots[3 * i + 2]!);
  }
}

/** A frame of the search stack; frames are immutable and shared, so the deepest stack is kept by reference. */
interface Frame {
  readonly entry: Entry;
  readonly state: number;
  readonly prev: Frame | undefined;
  readonly depth: number;
  /** A read linearized as soon as it matched: no alternative is tried in its place (see checkKey). */
  readonly forced: boolean;
}

/**
 * A write that may or may not have happened and that no read observed can be left out: if it
 * took effect, every read up to the next put would show its value (a put's value as a prefix, an
 * append's token inside), and there are none, so leaving it out changes nothing any read sees.
 * Dropping such writes keeps them from being tried at every point of the search.
 */
function prune(ops: KeyOp[]): KeyOp[] {
  const outputs = new Set<string>();
  for (const k of ops) if (k.op.type === 'get') outputs.add(k.source.output ?? '');
  const observed = (value: string, type: 'put' | 'append'): boolean => {
    for (const o of outputs) if (type === 'put' ? o.startsWith(value) : o.includes(value)) return true;
    return false;
  };
  return ops.filter((k) => k.finite || k.op.type === 'get' || k.op.value === '' || observed(k.op.value, k.op.type));
}

function checkKey(key: string, all: KeyOp[], budget: { left: number; used: number }, exact: boolean): LinearizabilityResult | undefined {
  const ops = prune(all);
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
  const hashes = new Uint32Array(n);
  const hashes2 = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    hashes[i] = mix(i, 0x1234567);
    hashes2[i] = mix(i, 0x7654321);
  }
  const values = new Values();
  // Each read's output is hashed once, not at every comparison: appended values grow long.
  const readCanon = new Int32Array(n);
  for (let i = 0; i < n; i++) if (ops[i]!.op.type === 'get') readCanon[i] = values.canon(ops[i]!.source.output ?? '');
  /**
   * Explored (linearized set, value) pairs. Fast mode keeps two 32-bit fingerprints of the set and
   * the value in an open-addressing table (no allocation per step); a "not linearizable" found in
   * fast mode is confirmed in exact mode, which keeps a copy of each set.
   */
  const fingerprints = new FingerprintTable();
  const cache = new Map<number, number[]>();
  const sets: Uint32Array[] = [];
  const explored = (hash: number, second: number, state: number): boolean => {
    if (!exact) return fingerprints.addOrFind(hash, second, state);
    let bucket = cache.get(hash);
    if (bucket) {
      for (let b = 0; b < bucket.length; b += 2) {
        if (bucket[b] !== state) continue;
        const seen = sets[bucket[b + 1]!]!;
        let same = true;
        for (let w = 0; w < words && same; w++) same = seen[w] === bits[w];
        if (same) return true;
      }
    } else {
      cache.set(hash, (bucket = []));
    }
    bucket.push(state, sets.length);
    sets.push(bits.slice());
    return false;
  };

  let remaining = 0;
  for (const k of ops) if (k.finite) remaining++;
  let top: Frame | undefined;
  let state = 0;
  let h = 0;
  let h2 = 0;
  let best: Frame | undefined;
  let blocked: { op: number; state: number } | undefined;
  let entry = head.next;
  let popForced = false;

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
    if (entry === undefined || !entry.call || popForced) {
      // A return whose operation is not linearized yet: the current prefix leads nowhere.
      if (top === undefined) return violation(key, ops, best, blocked, values, budget.used);
      if (!popForced && entry !== undefined && top.depth >= (best?.depth ?? 0) && blocked === undefined) blocked = { op: entry.op, state };
      const frame: Frame = top;
      // Nothing to try in place of a forced read: the configuration below it fails too.
      popForced = frame.forced;
      top = frame.prev;
      const op = frame.entry.op;
      bits[op >>> 5]! &= ~(1 << (op & 31));
      h ^= hashes[op]!;
      h2 ^= hashes2[op]!;
      state = frame.state;
      unlift(frame.entry);
      if (ops[op]!.finite) remaining++;
      entry = frame.entry.next;
      continue;
    }
    const i = entry.op;
    const k = ops[i]!;
    const op = k.op;
    let next: number;
    if (op.type === 'get') next = values.equals(state, readCanon[i]!) ? state : -1;
    else if (op.type === 'put') next = values.put(op.value);
    else next = values.append(state, op.value);
    if (next >= 0) {
      bits[i >>> 5]! |= 1 << (i & 31);
      const nh = (h ^ hashes[i]!) >>> 0;
      const nh2 = (h2 ^ hashes2[i]!) >>> 0;
      if (!explored((nh ^ Math.imul(next + 1, 0x9e3779b1)) >>> 0, nh2, next)) {
        top = { entry, state, prev: top, depth: (top?.depth ?? 0) + 1, forced: op.type === 'get' };
        state = next;
        h = nh;
        h2 = nh2;
        lift(entry);
        if (k.finite) remaining--;
        if (top.depth > (best?.depth ?? 0)) {
          best = top;
          blocked = undefined;
        }
        entry = head.next;
        continue;
      }
      bits[i >>> 5]! &= ~(1 << (i & 31));
      // An explored configuration after a matching read: so is every alternative to the read.
      if (op.type === 'get') {
        if (top === undefined) return violation(key, ops, best, blocked, values, budget.used);
        popForced = true;
        continue;
      }
    }
    entry = entry.next;
  }
  return undefined;
}

export function describeOperation(o: HistoryOperation): string {
  const op = o.op;
  const call = op.type === 'get' ? `get(${JSON.stringify(op.key)})` : `${op.type}(${JSON.stringify(op.key)}, ${JSON.stringify(op.value)})`;
  const result = op.type === 'get' ? ` -> ${JSON.stringify(o.output ?? '')}` : '';
  const end = o.status === 'ok' ? `${o.completeTime}]` : `never returned (${o.status})`;
  return `#${o.id} ${o.client} ${call}${result} [${o.invokeTime}, ${end}`;
}

function violation(key: string, ops: KeyOp[], best: Frame | undefined, blocked: { op: number; state: number } | undefined, values: Values, steps: number): LinearizabilityResult {
  const order: number[] = [];
  for (let f = best; f; f = f.prev) order.push(f.entry.op);
  order.reverse();
  const shown = order.slice(-6).map((i) => describeOperation(ops[i]!.source));
  const prefix = order.length === 0
    ? 'no operation can come first'
    : `the longest linearizable prefix has ${order.length} operation(s), ending ${shown.join('; ')}`;
  const stuck = blocked
    ? `; after it the register holds ${JSON.stringify(values.string(blocked.state))} and ${describeOperation(ops[blocked.op]!.source)} cannot be placed before it returns`
    : '';
  return {
    ok: false,
    key,
    message: `the history of key ${JSON.stringify(key)} is not linearizable (${ops.length} operations): ${prefix}${stuck}`,
    operations: ops.map((k) => k.source),
    longestLinearized: order.map((i) => ops[i]!.source.id),
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
