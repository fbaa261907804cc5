import type { KvOperation } from '../src/adapter/contract.ts';
import type { ClientOperation } from '../src/sim/history.ts';
import type { Checker, CheckerDefinition } from './types.ts';
import { showTime } from './util.ts';

/** What the search needs of a client operation (a ClientOperation fits). */
export type HistoryOperation = Pick<ClientOperation, 'id' | 'client' | 'op' | 'invokeTime' | 'completeTime' | 'status' | 'output'>;

export interface LinearizabilityOptions {
  /** Search steps allowed over all keys (for LinearizabilityMonitor: per search of a segment) before giving up with `ok: 'unknown'`. */
  readonly maxSteps?: number;
  /** LinearizabilityMonitor only: operations a key's segment must hold before it is cut (default 1024). */
  readonly segmentMinOperations?: number;
  /**
   * A key the search over exact values does not settle quickly is searched with values told apart
   * only as reads can (ObservableValues: the same verdict, far fewer steps under bursts of
   * concurrent writes), and over exact values again only when that finds no linearization.
   * Default true; false searches over exact values only, the reference tests compare with.
   */
  readonly verdictFirst?: boolean;
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

/** ObservableValues' id for every value no read still to come can show, and its answer for a configuration with no completion. */
const GARBAGE = 0;
const DEAD = -1;

/**
 * Register values as a search that only asks "linearizable or not" sees them, with what the reads
 * still to be linearized allow. A value no such read can show, as it is or extended by appends, is
 * GARBAGE: all such values behave alike from there (no read matches one, an append keeps it one, a
 * put replaces it), so the memo stops telling apart the many orders of concurrent writes that no
 * read has seen. A configuration is DEAD when some read still to come shows an output that neither
 * the value (by appends) nor any put left to linearize can lead to: no completion exists, so the
 * search does not enter it, instead of finding that out at the read's return after trying every
 * order of the writes concurrent with it. Neither changes the verdict, only the work.
 * Values are ids as in Values; equality with a read's output is a lookup, no string is built.
 */
class ObservableValues {
  private readonly outputs: string[] = [];
  private readonly outputIndex = new Map<string, number>();
  /** Per output: reads showing it not linearized yet, and puts not linearized yet whose value is a prefix of it. */
  private readonly unread: number[] = [];
  private readonly sources: number[] = [];
  /** Outputs some read still has to show that no put left can lead to. */
  private stranded = 0;
  /** Per id: the value's length, the outputs it is a prefix of, and the one it equals (-1 if none). */
  private readonly length: number[] = [0];
  private readonly prefixOf: number[][] = [[]];
  private readonly equalOutput: number[] = [-1];
  private readonly children: (Map<string, number> | undefined)[] = [undefined];
  private readonly puts = new Map<string, number>();

  /** A read showing `text`, not linearized yet; the number `equals` takes. Every read must be given before the first put or append. */
  read(text: string): number {
    let output = this.outputIndex.get(text);
    if (output === undefined) {
      this.outputIndex.set(text, (output = this.outputs.length));
      this.outputs.push(text);
      this.unread.push(0);
      this.sources.push(0);
      this.stranded++;
    }
    this.unread[output]!++;
    return output;
  }

  /** A put of `value` that is left to linearize (once every read is given); the id it sets. */
  source(value: string): number {
    const id = this.put(value);
    this.returnPut(id);
    return id;
  }

  put(value: string): number {
    let id = this.puts.get(value);
    if (id === undefined) {
      id = this.add(value.length, this.outputsStartingWith(value));
      this.puts.set(value, id);
    }
    return id;
  }

  /** The outputs in lexicographic order (once every read is given): those with a given prefix are a run of it. */
  private sorted: number[] | undefined;

  private outputsStartingWith(prefix: string): number[] {
    const outputs = this.outputs;
    const sorted = (this.sorted ??= outputs.map((_, o) => o).sort((a, b) => (outputs[a]! < outputs[b]! ? -1 : 1)));
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (outputs[sorted[middle]!]! < prefix) low = middle + 1;
      else high = middle;
    }
    const found: number[] = [];
    for (let at = low; at < sorted.length && outputs[sorted[at]!]!.startsWith(prefix); at++) found.push(sorted[at]!);
    return found;
  }

  append(state: number, value: string): number {
    if (value === '' || state === GARBAGE) return state;
    let map = this.children[state];
    if (!map) this.children[state] = map = new Map();
    let id = map.get(value);
    if (id === undefined) {
      const at = this.length[state]!;
      const prefixOf = this.prefixOf[state]!.filter((o) => this.outputs[o]!.startsWith(value, at));
      id = this.add(at + value.length, prefixOf);
      map.set(value, id);
    }
    return id;
  }

  equals(id: number, output: number): boolean {
    return this.equalOutput[id] === output;
  }

  /** A read of `output` was linearized. */
  takeRead(output: number): void {
    if (--this.unread[output]! === 0 && this.sources[output] === 0) this.stranded--;
  }

  returnRead(output: number): void {
    if (this.unread[output]!++ === 0 && this.sources[output] === 0) this.stranded++;
  }

  /** A put that sets `id` was linearized. */
  takePut(id: number): void {
    for (const o of this.prefixOf[id]!) if (--this.sources[o]! === 0 && this.unread[o]! > 0) this.stranded++;
  }

  returnPut(id: number): void {
    for (const o of this.prefixOf[id]!) if (this.sources[o]!++ === 0 && this.unread[o]! > 0) this.stranded--;
  }

  /** The register holding `id` after the reads and puts taken so far: `id`, GARBAGE or DEAD. */
  settle(id: number): number {
    const prefixOf = this.prefixOf[id]!;
    let shown = 0;
    let strandedShown = 0;
    for (let p = 0; p < prefixOf.length; p++) {
      const o = prefixOf[p]!;
      if (this.unread[o]! === 0) continue;
      shown++;
      if (this.sources[o] === 0) strandedShown++;
    }
    if (strandedShown < this.stranded) return DEAD;
    return shown > 0 ? id : GARBAGE;
  }

  private add(length: number, prefixOf: number[]): number {
    if (prefixOf.length === 0) return GARBAGE;
    const id = this.length.length;
    this.length.push(length);
    this.prefixOf.push(prefixOf);
    let equal = -1;
    for (const o of prefixOf) if (this.outputs[o]!.length === length) equal = o;
    this.equalOutput.push(equal);
    this.children.push(undefined);
    return id;
  }
}

/** A set of (hash, second fingerprint, state) triples: linear probing over typed arrays. */
class FingerprintTable {
  private slots: Int32Array;
  private used: Uint8Array;
  private count = 0;

  /** Sized for `expected` entries (it grows as needed): a short segment's search stays cheap to set up. */
  constructor(expected: number) {
    let size = 16;
    while (size < 2 * expected) size *= 2;
    this.slots = new Int32Array(3 * size);
    this.used = new Uint8Array(size);
  }

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
 * Which operations the search places: every completed one, and a write that may or may not have
 * happened only if some read of `ops` observed it. Such a write that no read observed can be left
 * out: if it took effect, every read up to the next put would show its value (a put's value as a
 * prefix, an append's token inside), and there are none, so leaving it out changes nothing any
 * read sees. Leaving such writes out keeps them from being tried at every point of the search.
 */
function placed(ops: readonly KeyOp[]): boolean[] {
  if (ops.every((k) => k.finite)) return ops.map(() => true);
  const outputs = new Set<string>();
  for (const k of ops) if (k.op.type === 'get') outputs.add(k.source.output ?? '');
  const observed = (value: string, type: 'put' | 'append'): boolean => {
    for (const o of outputs) if (type === 'put' ? o.startsWith(value) : o.includes(value)) return true;
    return false;
  };
  return ops.map((k) => k.finite || k.op.type === 'get' || k.op.value === '' || observed(k.op.value, k.op.type));
}

/** Where a search starts: the register's value, and the configurations of writes already applied. */
interface SearchStart {
  readonly state: string;
  /** Per configuration, the indices (into the searched operations) of writes that already took effect. */
  readonly configurations: readonly (readonly number[])[];
}

const FROM_EMPTY: SearchStart = { state: '', configurations: [[]] };

/** The steps the search over exact values is first given per operation and per search (see linearizes). */
const QUICK_STEPS_PER_OPERATION = 2;
const QUICK_STEPS_PER_SEARCH = 64;

/** What a `verdictOnly` search returns for a history it cannot linearize. */
const NOT_LINEARIZABLE: LinearizabilityResult = { ok: false, key: '', message: 'not linearizable', operations: [], longestLinearized: [], steps: 0 };

/**
 * The search over one key's operations `ops`, of which only the `place`d ones are put in the list
 * (the others stay unapplied). Without `onEnd` it stops at the first complete linearization
 * (undefined). With `onEnd` it is exhaustive: `onEnd` gets the set of applied operations (a bit per
 * index) at every distinct configuration reached right after the last completed operation, and
 * the result is undefined if there was at least one. Exhaustive searches must be `exact`; they do
 * not apply a write that may or may not have happened where `dominated` says the applied set would
 * contain one already reported (what follows could only give ends containing it too).
 * `verdictOnly` searches tell values apart only as reads can (ObservableValues) and return
 * NOT_LINEARIZABLE instead of a described violation.
 */
function searchKey(
  key: string,
  ops: readonly KeyOp[],
  place: readonly boolean[],
  start: SearchStart,
  budget: { left: number; used: number },
  exact: boolean,
  verdictOnly: boolean,
  onEnd?: (applied: Uint32Array) => void,
  dominated?: (applied: Uint32Array) => boolean,
): LinearizabilityResult | undefined {
  const n = ops.length;
  const events: Entry[] = [];
  const calls: (Entry | undefined)[] = new Array<Entry | undefined>(n);
  for (let i = 0; i < n; i++) {
    if (!place[i]) continue;
    const k = ops[i]!;
    const call: Entry = { call: true, op: i, time: k.source.invokeTime, match: undefined, prev: undefined, next: undefined };
    calls[i] = call;
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
  const observable = verdictOnly ? new ObservableValues() : undefined;
  const exactValues = verdictOnly ? undefined : new Values();
  const values = observable ?? exactValues!;
  // Each read's output is hashed once, not at every comparison: appended values grow long.
  const readCanon = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const output = ops[i]!.source.output ?? '';
    if (ops[i]!.op.type === 'get') readCanon[i] = observable ? observable.read(output) : exactValues!.canon(output);
  }
  const startState = values.put(start.state);
  /** verdictOnly: the value each placed put sets, to tell `observable` what is left to linearize. */
  const putValue = new Int32Array(n).fill(-1);
  if (observable) {
    for (let i = 0; i < n; i++) {
      const op = ops[i]!.op;
      if (place[i] && op.type === 'put') putValue[i] = observable.source(op.value);
    }
  }
  const take = (i: number) => {
    if (ops[i]!.op.type === 'get') observable!.takeRead(readCanon[i]!);
    else if (putValue[i]! >= 0) observable!.takePut(putValue[i]!);
  };
  const giveBack = (i: number) => {
    if (ops[i]!.op.type === 'get') observable!.returnRead(readCanon[i]!);
    else if (putValue[i]! >= 0) observable!.returnPut(putValue[i]!);
  };
  /**
   * Explored (linearized set, value) pairs. Fast mode keeps two 32-bit fingerprints of the set and
   * the value in an open-addressing table (no allocation per step); a "not linearizable" found in
   * fast mode is confirmed in exact mode, which keeps a copy of each set.
   */
  const fingerprints = new FingerprintTable(Math.min(1024, 4 * n));
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

  let finite = 0;
  for (const k of ops) if (k.finite) finite++;
  let best: Frame | undefined;
  let blocked: { op: number; state: number } | undefined;
  let ended = false;
  for (const applied of start.configurations) {
    bits.fill(0);
    let h = 0;
    let h2 = 0;
    for (const a of applied) {
      bits[a >>> 5]! |= 1 << (a & 31);
      h ^= hashes[a]!;
      h2 ^= hashes2[a]!;
      if (calls[a]) lift(calls[a]!);
    }
    let remaining = finite;
    let top: Frame | undefined;
    let state = startState;
    if (observable) {
      for (const a of applied) take(a);
      state = observable.settle(startState);
    }
    let entry = head.next;
    let popForced = false;
    let atEnd = false;
    while (state !== DEAD) {
      if (remaining === 0) {
        if (!onEnd) return undefined;
        // Writes left unapplied can still take effect later: what follows decides, so go on.
        onEnd(bits);
        ended = atEnd = true;
      }
      if (budget.left-- <= 0) {
        return {
          ok: 'unknown',
          key,
          message: `linearizability of key ${JSON.stringify(key)} (${n} operations) is unknown: the search budget ran out after ${budget.used} steps`,
          steps: budget.used,
        };
      }
      budget.used++;
      if (atEnd || entry === undefined || !entry.call || popForced) {
        // A return whose operation is not linearized yet (or a recorded end): backtrack.
        if (top === undefined) break;
        if (!atEnd && !popForced && entry !== undefined && top.depth >= (best?.depth ?? 0) && blocked === undefined) blocked = { op: entry.op, state };
        atEnd = false;
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
        if (observable) giveBack(op);
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
      if (next >= 0) bits[i >>> 5]! |= 1 << (i & 31);
      if (next >= 0 && !k.finite && dominated?.(bits)) {
        bits[i >>> 5]! &= ~(1 << (i & 31));
        next = -1;
      }
      if (next >= 0) {
        if (observable) {
          take(i);
          next = observable.settle(next);
        }
        const nh = (h ^ hashes[i]!) >>> 0;
        const nh2 = (h2 ^ hashes2[i]!) >>> 0;
        if (next !== DEAD && !explored((nh ^ Math.imul(next + 1, 0x9e3779b1)) >>> 0, nh2, next)) {
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
        if (observable) giveBack(i);
        // An explored configuration (or a dead one) after a matching read: so is every alternative to the read.
        if (op.type === 'get') {
          if (top === undefined) break;
          popForced = true;
          continue;
        }
      }
      entry = entry.next;
    }
    for (let a = applied.length - 1; a >= 0; a--) {
      if (calls[applied[a]!]) unlift(calls[applied[a]!]!);
      if (observable) giveBack(applied[a]!);
    }
  }
  if (ended) return undefined;
  return exactValues ? violation(key, ops, place, best, blocked, exactValues, budget.used) : NOT_LINEARIZABLE;
}

export function describeOperation(o: HistoryOperation): string {
  const op = o.op;
  const call = op.type === 'get' ? `get(${JSON.stringify(op.key)})` : `${op.type}(${JSON.stringify(op.key)}, ${JSON.stringify(op.value)})`;
  const result = op.type === 'get' ? ` -> ${JSON.stringify(o.output ?? '')}` : '';
  const end = o.status === 'ok' ? `${o.completeTime}]` : `never returned (${o.status})`;
  return `#${o.id} ${o.client} ${call}${result} [${o.invokeTime}, ${end}`;
}

function violation(
  key: string,
  ops: readonly KeyOp[],
  place: readonly boolean[],
  best: Frame | undefined,
  blocked: { op: number; state: number } | undefined,
  values: Values,
  steps: number,
): LinearizabilityResult {
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
  const searched = ops.filter((_, i) => place[i]).map((k) => k.source);
  return {
    ok: false,
    key,
    message: `the history of key ${JSON.stringify(key)} is not linearizable (${searched.length} operations): ${prefix}${stuck}`,
    operations: searched,
    longestLinearized: order.map((i) => ops[i]!.source.id),
    steps,
  };
}

/** A key's operation as the search sees it; undefined for one that takes no part (failed, or a read that never returned). */
function keyOp(source: HistoryOperation): KeyOp | undefined {
  if (source.status === 'fail') return undefined;
  const finite = source.status === 'ok';
  if (source.op.type === 'get' && !finite) return undefined;
  return { source, op: source.op, finite };
}

/**
 * The search for one key from `start`, in fast mode and, if that says "not linearizable", again in
 * exact mode (fast mode's fingerprints could in theory merge two different sets).
 */
function decideKey(key: string, ops: readonly KeyOp[], start: SearchStart, budget: { left: number; used: number }, verdictFirst: boolean): LinearizabilityResult | undefined {
  const place = placed(ops);
  const result = linearizes(key, ops, place, start, budget, verdictFirst);
  if (result === undefined || result.ok !== false) return result;
  return searchKey(key, ops, place, start, budget, true, false);
}

/**
 * The search in fast mode. With `verdictFirst`, a key's search over exact values is first given
 * QUICK_STEPS_PER_OPERATION steps an operation: a nearly sequential history (nine keys in ten of
 * the default scenario's) needs about one, and the exact search sets up cheaper than the
 * verdict-only one. A key it does not settle in those goes to a `verdictOnly` search (see
 * checkLinearizable); if that finds no linearization, to the search over exact values with the
 * budget as if neither trial had run, so that a history that does not linearize (or runs out of
 * budget) is told as before.
 */
function linearizes(
  key: string,
  ops: readonly KeyOp[],
  place: readonly boolean[],
  start: SearchStart,
  budget: { left: number; used: number },
  verdictFirst: boolean,
): LinearizabilityResult | undefined {
  if (!verdictFirst) return searchKey(key, ops, place, start, budget, false, false);
  const quickSteps = QUICK_STEPS_PER_OPERATION * ops.length + QUICK_STEPS_PER_SEARCH;
  const quick = { left: Math.min(budget.left, quickSteps), used: budget.used };
  const result = searchKey(key, ops, place, start, quick, false, false);
  if (result?.ok !== 'unknown' || budget.left <= quickSteps) {
    // Settled (or the whole budget ran out): exactly what the search over exact values alone gives.
    budget.left -= quick.used - budget.used;
    budget.used = quick.used;
    return result;
  }
  const trial = { left: budget.left - (quick.used - budget.used), used: quick.used };
  if (searchKey(key, ops, place, start, trial, false, true) === undefined) {
    budget.left = trial.left;
    budget.used = trial.used;
    return undefined;
  }
  return searchKey(key, ops, place, start, budget, false, false);
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
 *
 * Bursts of concurrent writes are the other blow-up (the default scenario's burst clients: a
 * dozen puts and appends at one instant, 2^writes sets times their orders' values). So a key the
 * search does not settle in a few steps an operation (see linearizes) is searched next with
 * values told apart only as the reads still to come can (ObservableValues), which enters no
 * configuration a read rules out and merges the values no read can show. A linearization it finds
 * is a real one (it applies the operations as they are; merged values match no read), so
 * "linearizable" stands; anything else is left to the search over exact values, which gives the
 * verdict and its description as before.
 *
 * This checks a whole history at once; a run checks its history as it goes (LinearizabilityMonitor).
 */
export function checkLinearizable(history: readonly HistoryOperation[], options: LinearizabilityOptions = {}): LinearizabilityResult {
  const byKey = new Map<string, KeyOp[]>();
  let total = 0;
  for (const source of history) {
    const k = keyOp(source);
    if (k === undefined) continue;
    let list = byKey.get(k.op.key);
    if (!list) byKey.set(k.op.key, (list = []));
    list.push(k);
    total++;
  }
  const budget = { left: options.maxSteps ?? DEFAULT_MAX_STEPS, used: 0 };
  const keys = [...byKey.keys()].sort();
  for (const key of keys) {
    const result = decideKey(key, byKey.get(key)!, FROM_EMPTY, budget, options.verdictFirst ?? true);
    if (result !== undefined) return result;
  }
  return { ok: true, keys: keys.length, operations: total, steps: budget.used };
}

/**
 * Operations a key's segment holds at least before it is cut. Cuts bound memory, not time: a
 * search run in the middle of a simulation costs more than the same search at its end (measured:
 * cutting every 8 operations made linearizability some 25-45% dearer in CPU time), and a
 * thousand operations cost little memory, so a short run (the default scenario's ~130 operations
 * a key) is not cut at all and only long ones are.
 */
const SEGMENT_MIN_OPERATIONS = 1024;
/**
 * Steps a cut's exhaustive search may take. One that needs more (many timed-out writes that reads
 * cannot tell apart: never seen with the simulated clients, whose values are unique) is given up
 * and the segment kept whole, to be cut later or searched at the end like the whole history.
 */
const CUT_MAX_STEPS = 50_000;

/** One key's history as the monitor keeps it: the operations since the last cut, and what the cut left. */
class KeyStream {
  /** Operations invoked since the last cut, in invocation order (live records: the clients fill in their outcome). */
  segment: HistoryOperation[] = [];
  /** Those of the segment last seen pending. */
  unsettled: HistoryOperation[] = [];
  /** The completed operation of the segment invoked last; the latest return of the others; the latest of all. */
  lastCompleted: HistoryOperation | undefined;
  othersReturned = -Infinity;
  allReturned = -Infinity;
  /** The register's value at the last cut (the same in every configuration: a cut follows a read or a put). */
  state = '';
  /** Writes of earlier segments that may or may not have happened, and that some configuration has not applied. */
  open: HistoryOperation[] = [];
  /** The configurations reachable at the last cut: for each, the indices in `open` of the writes it applied. */
  configurations: number[][] = [[]];
  /** The segment length from which to try a cut again, after one was given up. */
  retryAt = 0;
  /** When the last cut was made (for messages). */
  cutAt: number | undefined;
  /** A verdict other than "linearizable so far" was reached: nothing more is kept. */
  judged = false;
}

/**
 * Linearizability checked as the history grows, so that a run keeps only each key's recent
 * operations, not its whole history. Every verdict equals checkLinearizable's on the whole
 * history (test/invariants/linearizability-segments.test.ts checks that on random histories).
 *
 * A key's history is cut, before a new call, at a point where no operation of that key is in
 * flight (every completed operation returned strictly before the call, none is pending) and the
 * completed operation invoked last, X, started after every other one returned and is a read or a
 * put. Every linearization then orders the segment's completed operations before the next
 * segment's, with X last, so the register holds X's value at the cut whatever the order. What
 * differs between linearizations is which writes that may or may not have happened (timed out)
 * took effect: they stay open forever, and one left unapplied may still take effect later. So
 * the exhaustive search of a segment (Porcupine has no such mode; it checks whole histories)
 * collects every configuration reachable right after X, as the set of open writes applied; the
 * next segment's search starts from all of them, sharing one memo (a configuration is part of
 * the searched set, so two starts that meet have the same future).
 *
 * Why this stays small. (1) Applying a write after X is the same as applying it at the start of
 * the next segment, so configurations are taken right after X. (2) A configuration that applied
 * a subset of what another applied (same register value, more writes still available) can do
 * everything the other can: only the minimal ones are kept, and a write every configuration
 * applied is forgotten. (3) An open write no read of the segment observed is not placed in that
 * segment's search (the rule of `placed`): had it taken effect before X, a put must have
 * overwritten it before X (or X, a read, would show it), so leaving it unapplied gives the same
 * value with more writes available — it survives, unapplied, in every configuration. Hence the
 * configurations differ only in open writes that some read of the segment observed, and in
 * practice there are one or a few; in the worst case (many observed open writes, read orders
 * that cannot tell them apart) there can be exponentially many, but each was a distinct explored
 * configuration of the segment's search, so the step budget bounds them. What grows without a
 * bound is only the list of writes that timed out and were never observed (they may still be).
 * A key with no cut point (a stretch of overlapping operations, or only appends) keeps its
 * segment until one comes.
 */
export class LinearizabilityMonitor {
  private readonly keys = new Map<string, KeyStream>();
  private readonly maxSteps: number;
  private readonly segmentMinOperations: number;
  private readonly verdictFirst: boolean;
  private failure: LinearizabilityResult | undefined;
  private unknown: LinearizabilityResult | undefined;
  private operations = 0;
  private steps = 0;
  /** How the segments went, for tests and the bench: cuts made and given up, and the most configurations and open writes a cut left. */
  readonly stats = { cuts: 0, cutsGivenUp: 0, maxConfigurations: 1, maxOpenWrites: 0 };

  constructor(options: LinearizabilityOptions = {}) {
    this.maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    this.segmentMinOperations = options.segmentMinOperations ?? SEGMENT_MIN_OPERATIONS;
    this.verdictFirst = options.verdictFirst ?? true;
  }

  /** A client invoked `operation`; its record is read again later, once it has completed. */
  invoked(operation: HistoryOperation): void {
    if (this.failure) return;
    const key = operation.op.key;
    let stream = this.keys.get(key);
    if (!stream) this.keys.set(key, (stream = new KeyStream()));
    if (stream.judged) return;
    if (stream.segment.length >= this.segmentMinOperations && stream.segment.length >= stream.retryAt) this.cutIfPossible(key, stream, operation.invokeTime);
    stream.segment.push(operation);
    stream.unsettled.push(operation);
  }

  /** The verdict on everything invoked so far, operations still pending included (as checkLinearizable treats them). */
  finish(): LinearizabilityResult {
    for (const key of [...this.keys.keys()].sort()) {
      if (this.failure) break;
      const stream = this.keys.get(key)!;
      if (stream.judged) continue;
      const ops = this.segmentOps(stream);
      this.operations += ops.length - stream.open.length;
      const budget = { left: this.maxSteps, used: 0 };
      const result = decideKey(key, ops, { state: stream.state, configurations: stream.configurations }, budget, this.verdictFirst);
      this.steps += budget.used;
      if (result !== undefined) this.judge(stream, result);
    }
    if (this.failure) return this.failure;
    if (this.unknown) return this.unknown;
    return { ok: true, keys: this.keys.size, operations: this.operations, steps: this.steps };
  }

  private settle(stream: KeyStream): void {
    let pending = 0;
    for (const o of stream.unsettled) {
      if (o.status === 'pending') {
        stream.unsettled[pending++] = o;
        continue;
      }
      if (o.status !== 'ok') continue;
      const returned = o.completeTime ?? o.invokeTime;
      const last = stream.lastCompleted;
      if (last === undefined || o.invokeTime > last.invokeTime) {
        if (last !== undefined) stream.othersReturned = Math.max(stream.othersReturned, last.completeTime ?? last.invokeTime);
        stream.lastCompleted = o;
      } else {
        stream.othersReturned = Math.max(stream.othersReturned, returned);
      }
      stream.allReturned = Math.max(stream.allReturned, returned);
    }
    stream.unsettled.length = pending;
  }

  private cutIfPossible(key: string, stream: KeyStream, callTime: number): void {
    this.settle(stream);
    const last = stream.lastCompleted;
    if (stream.unsettled.length > 0 || last === undefined || last.op.type === 'append') return;
    if (stream.othersReturned >= last.invokeTime || stream.allReturned >= callTime) return;
    const ops = this.segmentOps(stream);
    const search = this.minimalEnds(key, ops, stream);
    if (search === 'too costly') {
      // Keep the segment, and try again once it has doubled.
      stream.retryAt = 2 * stream.segment.length;
      this.stats.cutsGivenUp++;
      return;
    }
    if (!Array.isArray(search)) {
      this.judge(stream, search);
      return;
    }
    this.operations += ops.length - stream.open.length;
    const minimal = search;
    // The open writes after the cut: those of before and the segment's, less those every configuration applied.
    const appliedBy = new Map<number, number>();
    for (const m of minimal) for (const i of m) appliedBy.set(i, (appliedBy.get(i) ?? 0) + 1);
    const index = new Map<number, number>();
    const open: HistoryOperation[] = [];
    for (let i = 0; i < ops.length; i++) {
      if (ops[i]!.finite || appliedBy.get(i) === minimal.length) continue;
      index.set(i, open.length);
      open.push(ops[i]!.source);
    }
    stream.open = open;
    stream.configurations = minimal.map((m) => m.filter((i) => index.has(i)).map((i) => index.get(i)!));
    this.stats.cuts++;
    this.stats.maxConfigurations = Math.max(this.stats.maxConfigurations, stream.configurations.length);
    this.stats.maxOpenWrites = Math.max(this.stats.maxOpenWrites, open.length);
    stream.state = last.op.type === 'get' ? (last.output ?? '') : last.op.value;
    stream.cutAt = last.completeTime;
    stream.segment = [];
    stream.retryAt = 0;
    stream.lastCompleted = undefined;
    stream.othersReturned = stream.allReturned = -Infinity;
  }

  /**
   * The configurations reachable right after the segment's last completed operation, as minimal
   * sets of applied writes (indices into `ops`; a configuration that applied less can do all the
   * others can), or the verdict when there are none or the budget ran out. First, from each start,
   * the segment without any further write that may or may not have happened: if that linearizes,
   * the start itself is the one minimal end it can give (the usual case, and as cheap as the
   * whole-history search, with the same budget). Only the starts where it does not are searched
   * exhaustively, within CUT_MAX_STEPS: 'too costly' if that is not enough.
   */
  private minimalEnds(key: string, ops: readonly KeyOp[], stream: KeyStream): number[][] | LinearizabilityResult | 'too costly' {
    const ends: number[][] = [];
    const contains = (applied: Uint32Array, end: readonly number[]) => end.every((i) => (applied[i >>> 5]! & (1 << (i & 31))) !== 0);
    const add = (end: number[]) => {
      const members = new Set(end);
      for (let e = ends.length - 1; e >= 0; e--) if (ends[e]!.every((i) => members.has(i))) return;
      for (let e = ends.length - 1; e >= 0; e--) if (end.every((i) => ends[e]!.includes(i))) ends.splice(e, 1);
      ends.push(end);
    };
    const completed = ops.map((k) => k.finite);
    const rest: number[][] = [];
    for (const configuration of stream.configurations) {
      const budget = { left: this.maxSteps, used: 0 };
      const result = linearizes(key, ops, completed, { state: stream.state, configurations: [configuration] }, budget, this.verdictFirst);
      this.steps += budget.used;
      if (result === undefined) add([...configuration]);
      else if (result.ok === 'unknown') return result;
      else rest.push(configuration);
    }
    const starts = rest.filter((c) => !ends.some((end) => end.every((i) => c.includes(i))));
    if (starts.length === 0) return ends;
    const budget = { left: Math.min(this.maxSteps, CUT_MAX_STEPS), used: 0 };
    const result = searchKey(
      key,
      ops,
      placed(ops),
      { state: stream.state, configurations: starts },
      budget,
      true,
      false,
      (bits) => {
        const applied: number[] = [];
        for (let i = 0; i < ops.length; i++) if (!ops[i]!.finite && (bits[i >>> 5]! & (1 << (i & 31))) !== 0) applied.push(i);
        add(applied);
      },
      (bits) => ends.some((end) => contains(bits, end)),
    );
    this.steps += budget.used;
    if (result?.ok === 'unknown') return 'too costly';
    if (result !== undefined && ends.length === 0) return result;
    return ends;
  }

  /** The operations a search of the stream's segment takes: the open writes of before (first, so their indices are the configurations'), then the segment's. */
  private segmentOps(stream: KeyStream): KeyOp[] {
    const ops: KeyOp[] = stream.open.map((source) => ({ source, op: source.op, finite: false }));
    for (const source of stream.segment) {
      const k = keyOp(source);
      if (k !== undefined) ops.push(k);
    }
    return ops;
  }

  private judge(stream: KeyStream, result: LinearizabilityResult): void {
    if (stream.cutAt !== undefined && result.ok !== true) {
      const open = stream.open.length > 0 ? `, with ${stream.open.length} timed-out write(s) still free to take effect` : '';
      const before = `its operations that returned by ${showTime(stream.cutAt)} were checked earlier and leave the register at ${JSON.stringify(stream.state)}${open}`;
      result = { ...result, message: `${result.message} (${before})` };
    }
    stream.judged = true;
    stream.segment = [];
    stream.unsettled = [];
    stream.open = [];
    if (result.ok === false) this.failure ??= result;
    else if (result.ok === 'unknown') this.unknown ??= result;
  }
}

/** The run-level checker over the clients' history, checked as it grows. An `unknown` outcome is not a violation. */
export const linearizability: CheckerDefinition = {
  name: 'linearizability',
  description: "the clients' key-value history is linearizable (Wing–Gong–Lowe search per key, with memoisation)",
  scope: 'run',
  needs: [],
  create(): Checker {
    const monitor = new LinearizabilityMonitor();
    return {
      onInvoke(operation) {
        monitor.invoked(operation);
      },
      finish() {
        const result = monitor.finish();
        if (result.ok !== false) return undefined;
        return { invariant: 'linearizability', message: result.message };
      },
    };
  },
};
