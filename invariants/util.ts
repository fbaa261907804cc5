import type { Command, LogView, NodeId, NodeView } from '../src/adapter/contract.ts';
import type { ClusterInfo, RunRecord, Violation } from './types.ts';

/**
 * Helpers shared by the checkers. The log checkers of one run share one mirror per node
 * (Observations); nothing else is shared between checkers, and nothing is global.
 */

/** A framework client command, recognised by shape (the same test the framework's state machine uses). */
export function isClientCommand(value: unknown): value is Command {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Partial<Command>;
  return typeof c.id === 'string' && typeof c.client === 'string' && typeof c.seq === 'number' && typeof c.op === 'object' && c.op !== null;
}

/** JSON with object keys sorted, so equal data gives equal text whatever the key order. */
export function stableJson(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/**
 * The identity of a log entry's command. Client commands carry a framework-unique `id`, so the
 * id alone identifies them (cheap: no serialisation). Anything else (an implementation's no-op,
 * a configuration entry) has no id, so it is identified by its stable JSON: two such entries
 * are the same entry only if they hold the same data.
 */
export function commandKey(command: unknown): string {
  // The bare id (no allocation); other entries get a prefix no framework id starts with.
  if (isClientCommand(command)) return command.id;
  return `\u0000${stableJson(command)}`;
}

/** A command key for messages: the client command id, or the (shortened) JSON of anything else. */
export function showKey(key: string | undefined): string {
  if (key === undefined) return '(nothing)';
  if (!key.startsWith('\u0000')) return key;
  const json = key.slice(1);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/** "term 3 c1.4" — an entry as messages show it. */
export function showEntry(term: number | undefined, key: string | undefined): string {
  return term === undefined ? '(no entry)' : `term ${term} ${showKey(key)}`;
}

export function showTime(time: number): string {
  return `${time.toFixed(1)} ms`;
}

/** What one mirror update found: entries [from, newLast] are new or rewritten; (newLast, oldLast] are gone. */
export interface MirrorChange {
  from: number;
  oldLast: number;
  newLast: number;
  oldSnapshotIndex: number;
  /** The entries the update replaced or removed, from `from` (or above the old snapshot) to oldLast. */
  readonly replaced: { readonly index: number; readonly term: number; readonly key: string }[];
}

/** Entries of the mirror below the snapshot are dropped once this many have piled up (and at least as many as are kept). */
const DROP_AT_LEAST = 1024;

/**
 * A per-node copy of (term, command key) for every log entry above the node's snapshot, kept in
 * step with the node's LogView by comparing only the changed suffix: it scans back from the
 * end until an entry equals its copy (same term and same command key), which makes the common
 * no-change step cost two reads. The cost of an update is proportional to the number of entries
 * that changed, never to the log's length. The mirror assumes an unchanged last entry means an
 * unchanged log below it, which is what makes a step O(1): a rewrite hidden under an unchanged
 * suffix goes unseen by the mirror.
 *
 * Memory: the copy is a window (IndexWindow chunks); entries at or below the node's snapshot are
 * never read (termAt, keyAt and holds answer from the snapshot there), so they are dropped once
 * enough have piled up. A node whose snapshot goes back (a restart from an older disk) is
 * reloaded from its LogView for the entries the window no longer holds.
 */
export class LogMirror {
  private terms = new IndexWindow<number>();
  private keys = new IndexWindow<string>();
  last = 0;
  snapshotIndex = 0;
  snapshotTerm = 0;
  /** Whether the mirror was ever synchronised with a LogView. */
  seen = false;
  /** What the last update changed; one object (and one replaced list) reused, valid until the next update. */
  readonly change: MirrorChange = { from: 1, oldLast: 0, newLast: 0, oldSnapshotIndex: 0, replaced: [] };

  update(log: LogView): MirrorChange {
    const oldLast = this.last;
    const oldSnapshotIndex = this.snapshotIndex;
    const newLast = log.lastIndex;
    const snap = log.snapshotIndex;
    const { terms, keys } = this;
    const base = terms.from;
    // A snapshot gone back below the window (a restart from an older disk): reload all above it.
    let i = snap + 1 < base ? snap : newLast;
    while (i > snap) {
      if (i <= oldLast && i >= base && terms.get(i) === log.termAt(i) && keys.get(i) === commandKey(log.commandAt(i))) break;
      i--;
    }
    const from = Math.max(i + 1, snap + 1);
    const replaced = this.change.replaced;
    if (replaced.length > 0) replaced.length = 0;
    for (let j = Math.max(from, oldSnapshotIndex + 1, base); j <= oldLast; j++) {
      replaced.push({ index: j, term: terms.get(j)!, key: keys.get(j)! });
    }
    if (from < base) {
      // Reload from `from`, below the window: the new window starts there.
      this.terms = new IndexWindow();
      this.keys = new IndexWindow();
      this.terms.dropBelow(from);
      this.keys.dropBelow(from);
    }
    for (let j = from; j <= newLast; j++) {
      const term = log.termAt(j);
      // Checked once per entry copied; the engine names the node and the index (probeLogView).
      if (!Number.isInteger(term) || term < 0) throw new TypeError(`LogView.termAt(${j}) returned ${String(term)}`);
      this.terms.set(j, term);
      this.keys.set(j, commandKey(log.commandAt(j)));
    }
    // Kept below the snapshot until enough piled up: a snapshot that goes back a little is then
    // still compared entry by entry rather than reloaded.
    const drop = snap + 1 - this.terms.from;
    if (drop >= DROP_AT_LEAST && drop >= newLast - snap) {
      this.terms.dropBelow(snap + 1);
      this.keys.dropBelow(snap + 1);
    }
    this.last = newLast;
    this.snapshotIndex = snap;
    this.snapshotTerm = log.snapshotTerm;
    this.seen = true;
    const change = this.change;
    change.from = from;
    change.oldLast = oldLast;
    change.newLast = newLast;
    change.oldSnapshotIndex = oldSnapshotIndex;
    return change;
  }

  /** Term of an entry above the snapshot (snapshotIndex < index <= last), without checks. */
  term(index: number): number {
    return this.terms.get(index)!;
  }

  /** Command key of an entry above the snapshot (snapshotIndex < index <= last), without checks. */
  key(index: number): string {
    return this.keys.get(index)!;
  }

  /** Term of the entry below `index` (> snapshotIndex): the snapshot's term right above the snapshot. */
  prevTerm(index: number): number {
    return index - 1 === this.snapshotIndex ? this.snapshotTerm : this.terms.get(index - 1)!;
  }

  /** Term of the entry at index as last seen (snapshotTerm at the snapshot index; undefined if unknown). */
  termAt(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.last) return undefined;
    return this.terms.get(index);
  }

  keyAt(index: number): string | undefined {
    if (index <= this.snapshotIndex || index > this.last) return undefined;
    return this.keys.get(index);
  }

  /** True when the node holds (term, key) at index, or its snapshot covers index. */
  holds(index: number, term: number | undefined, key: string): boolean {
    if (index <= this.snapshotIndex) return true;
    if (index > this.last) return false;
    return this.keys.get(index) === key && (term === undefined || this.terms.get(index) === term);
  }

  /** How many entries the mirror has room for (its memory, for tests). */
  get held(): number {
    return this.terms.held;
  }
}

interface SharedNode {
  readonly mirror: LogMirror;
  /** Updates of the mirror so far; a subscriber that has read the latest one is at this epoch. */
  epoch: number;
  /** The LogView of the latest update. */
  log: LogView | undefined;
  /** The hook's step of the latest update (-1: the next sync updates). */
  step: number;
  /** Per subscriber: the epoch it last read. */
  readonly read: number[];
}

/** Synchronous stretches of the program, counted: one microtask ends each (it holds nothing, so no run is kept alive). */
let turn = 0;
let turnEnding = false;
function currentTurn(): number {
  if (!turnEnding) {
    turnEnding = true;
    queueMicrotask(() => {
      turnEnding = false;
      turn++;
    });
  }
  return turn;
}

/** A checker's afterStep. */
export type StepHook = (node: NodeId, view: NodeView, time: number) => Violation | undefined;

/**
 * A step checker's step as the run's one hook calls it: `slot` is the node's number in the run
 * (Observations.slotOf), so that per-node state lives in arrays rather than maps keyed by id.
 */
export type SlotStep = (node: NodeId, view: NodeView, time: number, slot: number) => Violation | undefined;

/**
 * The parts of a node's view a step checker reads (a bit mask, see Observations.stepHook): its
 * role, term and vote; its commit index; its log (bounds, last term and last command, the
 * mirror's own test for an unchanged log); its members (and whether they form a joint configuration).
 */
export const VIEW_STATE = 1;
export const VIEW_COMMIT = 2;
export const VIEW_LOG = 4;
export const VIEW_MEMBERS = 8;
/** Set at every step: a step checker that reads it is called even on an unchanged view. */
const EVERY_STEP = 16;

/** What a step checker reads of a node's view, as last seen, to tell which parts of a view changed cheaply. */
class ViewSignature {
  valid = false;
  role: NodeView['role'] = 'follower';
  term = 0;
  votedFor: NodeId | null | undefined = undefined;
  commitIndex: number | undefined = undefined;
  lastIndex = -1;
  snapshotIndex = -1;
  snapshotTerm = -1;
  lastTerm: number | undefined = undefined;
  lastCommand: unknown = undefined;
  members: readonly NodeId[] | undefined = undefined;
  joint: boolean | undefined = undefined;

  /** Compares `view` with the last one and records it; the parts that changed (all of them at the first sighting). */
  observe(view: NodeView): number {
    const log = view.log;
    const lastIndex = log ? log.lastIndex : -1;
    const snapshotIndex = log ? log.snapshotIndex : -1;
    const snapshotTerm = log ? log.snapshotTerm : -1;
    const lastTerm = log && lastIndex > snapshotIndex ? log.termAt(lastIndex) : undefined;
    const lastCommand = log && lastIndex > snapshotIndex ? log.commandAt(lastIndex) : undefined;
    let changed = 0;
    if (!this.valid) {
      changed = VIEW_STATE | VIEW_COMMIT | VIEW_LOG | VIEW_MEMBERS;
      this.valid = true;
    }
    // Compared by contents, against a copy: an implementation may build a new list for every view,
    // or hand out one list that it changes in place.
    if (!sameMembers(this.members, view.members) || this.joint !== view.joint) {
      changed |= VIEW_MEMBERS;
      this.members = view.members === undefined ? undefined : [...view.members];
      this.joint = view.joint;
    }
    if (this.role !== view.role || this.term !== view.term || this.votedFor !== view.votedFor) {
      changed |= VIEW_STATE;
      this.role = view.role;
      this.term = view.term;
      this.votedFor = view.votedFor;
    }
    if (this.commitIndex !== view.commitIndex) {
      changed |= VIEW_COMMIT;
      this.commitIndex = view.commitIndex;
    }
    if (this.lastIndex !== lastIndex || this.snapshotIndex !== snapshotIndex || this.snapshotTerm !== snapshotTerm || this.lastTerm !== lastTerm || this.lastCommand !== lastCommand) {
      changed |= VIEW_LOG;
      this.lastIndex = lastIndex;
      this.snapshotIndex = snapshotIndex;
      this.snapshotTerm = snapshotTerm;
      this.lastTerm = lastTerm;
      this.lastCommand = lastCommand;
    }
    return changed;
  }
}

/**
 * The per-run observation context the step checkers share, created once per run:
 *
 * - one afterStep for all of them (`stepHook`), which numbers the node (`slotOf`) and tells,
 *   once per step, which parts of its view changed since its previous step (VIEW_STATE,
 *   VIEW_COMMIT, VIEW_LOG, VIEW_MEMBERS). Most steps (deliveries of heartbeats and answers) change nothing,
 *   and many change only one part; a checker is called only at steps that changed a part it
 *   reads;
 * - one log mirror per node for all the log checkers (log-matching, leader-append-only,
 *   leader-completeness, durability): `sync`;
 * - the run's pruning point for per-index records: `watermark`.
 *
 * Sharing a mirror: at each step the hook runs, the first log checker to ask updates the node's
 * mirror and the others read what it found. Outside the hook's steps (onRestart, or sync called
 * by hand), a subscriber that already read the latest update (or that brings another LogView)
 * starts a new update: so one subscriber alone updates at every call. A checker the hook skipped
 * (the log unchanged) has missed no change: the step's update, whoever made it, found none.
 *
 * A run is a ClusterInfo object: the engine creates one per run and hands it to every checker.
 * Once a run's mirrors have been used, a checker created later with the same ClusterInfo (as
 * tests do with a shared constant) gets fresh ones.
 */
export class Observations {
  private static readonly runs = new WeakMap<object, Observations>();
  /** Node ids by slot: the cluster's nodes in order, then any other node as it first appears. */
  private readonly ids: NodeId[];
  /** Mirror state and view signature by slot. */
  private readonly logs: (SharedNode | undefined)[] = [];
  private readonly signatures: (ViewSignature | undefined)[] = [];
  /** The node of the latest slotOf, and its slot: steps and applies come in runs on one node. */
  private lastNode: NodeId | undefined;
  private lastSlot = -1;
  private subscribers = 0;
  private used = false;
  /** The watermark as last computed, and whether a snapshot changed since. */
  private low = 0;
  private stale = true;

  private constructor(
    private readonly cluster: readonly NodeId[],
    /** The synchronous stretch it was created in: checkers may join only within it. */
    private readonly turn: number,
  ) {
    this.ids = [...cluster];
  }

  /**
   * The context of the run `cluster` identifies. The engine creates a run's checkers one after
   * the other in one synchronous stretch; a checker created later (another run reusing the
   * ClusterInfo object, as tests do) gets a fresh context.
   */
  static forRun(cluster: Pick<ClusterInfo, 'nodes'>): Observations {
    let shared = Observations.runs.get(cluster);
    const turn = currentTurn();
    if (!shared || shared.used || shared.turn !== turn) Observations.runs.set(cluster, (shared = new Observations(cluster.nodes, turn)));
    return shared;
  }

  /** The node's number in this run, for per-node state in arrays (the same node, the same slot, for the whole run). */
  slotOf(node: NodeId): number {
    if (node === this.lastNode) return this.lastSlot;
    const ids = this.ids;
    let slot = 0;
    while (slot < ids.length && ids[slot] !== node) slot++;
    if (slot === ids.length) ids.push(node);
    this.lastNode = node;
    this.lastSlot = slot;
    return slot;
  }

  private readonly steps: SlotStep[] = [];
  /** The time of the step the hook is running (undefined at first, so the field holds any value; see the hook). */
  private stepTime: number | undefined = undefined;
  /** Per step: the view parts it reads; and all of them together. */
  private readonly reads: number[] = [];
  private readAny = 0;
  /** Steps the hook ran (past its early return), to update a mirror once per step. */
  private hookSteps = 0;

  /**
   * One afterStep for all the step checkers of a run: each registers its step function here, in
   * the order the engine creates (and so calls) them; the first gets back a hook that runs them
   * all in that order and returns the first violation, the others get undefined and expose no
   * afterStep. The engine then makes one call per step instead of one per checker (its dispatch
   * over many checker objects cost about as much as the checks themselves). A checker created
   * alone (as in tests) gets its own context and drives itself.
   *
   * `reads`: the view parts (VIEW_STATE | VIEW_COMMIT | VIEW_LOG | VIEW_MEMBERS) the step judges; it is called
   * only at steps that changed one of them (every part counts as changed at a node's first view,
   * and after a crash), which suits a checker that judges each value once, when it appears.
   * Without `reads`, the step is called at every step. The hook tells the changed parts once per
   * step for all of them.
   */
  stepHook(step: SlotStep, reads: number = EVERY_STEP): StepHook | undefined {
    this.steps.push(step);
    this.reads.push(reads);
    this.readAny |= reads;
    if (this.steps.length > 1) return undefined;
    const { steps } = this;
    return (node, view, time) => {
      const slot = this.slotOf(node);
      const changed = this.changedParts(slot, view) | EVERY_STEP;
      if ((changed & this.readAny) === 0) return undefined;
      this.hookSteps++;
      // The time passes through a field that holds any value: compiled into the engine's loop, an
      // unboxed time would otherwise be boxed again for every step called.
      this.stepTime = time;
      const reads = this.reads;
      for (let i = 0; i < steps.length; i++) {
        if ((reads[i]! & changed) === 0) continue;
        const violation = steps[i]!(node, view, this.stepTime!, slot);
        if (violation !== undefined) return violation;
      }
      return undefined;
    };
  }

  /**
   * The parts of `view` that differ from the node's view at its previous step (see above). Once
   * per step, from the hook: a crash forgets the node (`forget`), so at the first view after a
   * restart every part counts as changed.
   */
  private changedParts(slot: number, view: NodeView): number {
    this.used = true;
    let signature = this.signatures[slot];
    if (signature === undefined) this.signatures[slot] = signature = new ViewSignature();
    return signature.observe(view);
  }

  /** The node crashed or restarted: every part of its next view counts as changed, and its mirror is updated at the next sync. */
  forget(node: NodeId): void {
    const slot = this.slotOf(node);
    const signature = this.signatures[slot];
    if (signature) signature.valid = false;
    const state = this.logs[slot];
    if (state) state.step = -1;
  }

  /**
   * The pruning point of the run: the lowest snapshot index over every node of the cluster, live
   * or crashed (a crashed node counts with the snapshot of its last view; a node never seen
   * counts 0). Per-index records at or below it can be dropped: no node can show a log entry
   * there again, apply an index there again, or end the run with its state machine below it.
   * This rests on the rule Raft states and the engine's crash model enforces for durable data:
   * a node shows a snapshot only once it is durable (the reference Raft syncs it before it
   * discards the entries it covers), so a restart brings back that snapshot or a later one. A
   * node that broke this rule and came back below the point would have its entries there
   * compared with nothing (the mirror itself reloads them correctly).
   */
  watermark(): number {
    if (!this.stale) return this.low;
    this.stale = false;
    let low = Infinity;
    // The cluster's nodes hold the first slots.
    for (let slot = 0; slot < this.cluster.length; slot++) {
      const state = this.logs[slot];
      if (!state) {
        low = 0;
        break;
      }
      if (state.mirror.snapshotIndex < low) low = state.mirror.snapshotIndex;
    }
    return (this.low = low === Infinity ? 0 : low);
  }

  /** A subscriber id, to pass to sync. */
  subscribe(): number {
    return this.subscribers++;
  }

  /** The mirror of the node in `slot`, up to date with `log`; its `change` is what the latest update found. */
  sync(subscriber: number, slot: number, log: LogView): LogMirror {
    this.used = true;
    let state = this.logs[slot];
    if (state === undefined) this.logs[slot] = state = { mirror: new LogMirror(), epoch: 0, log: undefined, step: -1, read: [] };
    if (state.step !== this.hookSteps || state.read[subscriber] === state.epoch || state.log !== log) {
      const change = state.mirror.update(log);
      if (change.oldSnapshotIndex !== state.mirror.snapshotIndex || state.epoch === 0) this.stale = true;
      state.epoch++;
      state.log = log;
      state.step = this.hookSteps;
    }
    state.read[subscriber] = state.epoch;
    return state.mirror;
  }

  /** The mirror of the node in `slot` as last updated (undefined if never seen). */
  mirrorAt(slot: number): LogMirror | undefined {
    return this.logs[slot]?.mirror;
  }

  /** The node's mirror as last updated (undefined if never seen). */
  mirror(node: NodeId): LogMirror | undefined {
    const slot = this.ids.indexOf(node);
    return slot < 0 ? undefined : this.mirrorAt(slot);
  }
}

/** Records are pruned in batches of at least this many indexes (amortised O(1) per index). */
export const PRUNE_BATCH = 1024;

/** An IndexWindow holds its values in chunks of this many indexes (a power of two). */
export const INDEX_CHUNK = 1024;
const CHUNK_BITS = 10;

/** A chunk of an IndexWindow. */
type Chunk<T> = { [slot: number]: T | undefined };

/** Chunks of times: unboxed, off the collected heap. */
export const timeChunk = (): Chunk<number> => new Float64Array(INDEX_CHUNK);

/**
 * Values by log index, kept only from a base index up: dropBelow(i) forgets every index under i,
 * so a checker's per-index records take memory for the window it still needs, not for the run.
 * Reading below the base gives undefined; writing there is ignored.
 *
 * The values sit in fixed chunks of INDEX_CHUNK slots, each allocated once: a window that grows
 * with the log is never copied into a bigger array, and a dropped chunk is freed whole. (A
 * growing array was reallocated about twice over its final size, and the young generation's
 * collector copied each new backing store again: most of the checkers' garbage-collection cost.)
 * Indexes are below 2^31.
 *
 * `newChunk` makes a chunk: by default an array (undefined where nothing was set); a window of
 * times takes a Float64Array, whose numbers are stored unboxed and outside the collected heap
 * (it reads 0 where nothing was set).
 */
export class IndexWindow<T> {
  /** chunks[k] holds the indexes from (firstChunk + k) * INDEX_CHUNK. */
  private chunks: (Chunk<T> | undefined)[] = [];
  private firstChunk = 0;
  private base = 0;

  constructor(private readonly newChunk: () => Chunk<T> = () => new Array<T | undefined>(INDEX_CHUNK)) {}

  get(index: number): T | undefined {
    if (index < this.base) return undefined;
    const chunk = this.chunks[(index >> CHUNK_BITS) - this.firstChunk];
    return chunk === undefined ? undefined : chunk[index & (INDEX_CHUNK - 1)];
  }

  set(index: number, value: T): void {
    if (index < this.base) return;
    const k = (index >> CHUNK_BITS) - this.firstChunk;
    let chunk = this.chunks[k];
    if (chunk === undefined) {
      while (this.chunks.length < k) this.chunks.push(undefined);
      this.chunks[k] = chunk = this.newChunk();
    }
    chunk[index & (INDEX_CHUNK - 1)] = value;
  }

  /** The lowest index still held. */
  get from(): number {
    return this.base;
  }

  /** How many slots are held (its memory, for tests). */
  get held(): number {
    let slots = 0;
    for (const chunk of this.chunks) if (chunk) slots += INDEX_CHUNK;
    return slots;
  }

  /** Forgets the values of every index under `index`. */
  dropBelow(index: number): void {
    if (index <= this.base) return;
    this.base = index;
    // The chunks that lie wholly below `index`.
    const whole = (index >> CHUNK_BITS) - this.firstChunk;
    if (whole <= 0) return;
    if (whole >= this.chunks.length) this.chunks = [];
    else this.chunks.splice(0, whole);
    this.firstChunk += whole;
  }
}

/** The members shown by the live node with the highest (term, commitIndex) at the end of the run, if any shows members. */
export function membersAtEnd(record: Pick<RunRecord, 'finalViews'>): readonly NodeId[] | undefined {
  let best: NodeView | undefined;
  for (const view of record.finalViews.values()) {
    if (view.members === undefined) continue;
    if (best === undefined || view.term > best.term || (view.term === best.term && (view.commitIndex ?? 0) > (best.commitIndex ?? 0))) best = view;
  }
  return best?.members;
}

/** Element-wise equality of two member lists (no allocation: views may hand out a new array each step). */
export function sameMembers(a: readonly NodeId[] | undefined, b: readonly NodeId[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether a configuration is still owed liveness: its members that no storage fault hit are a
 * majority of it. A node whose disk was corrupted may rightly stay out — fenced until repaired,
 * or stopped for good as etcd does on a checksum mismatch — and the heal does not mend disks.
 */
export function undamagedMajority(members: readonly NodeId[], damaged: ReadonlySet<NodeId>): boolean {
  let undamaged = 0;
  for (const m of members) if (!damaged.has(m)) undamaged++;
  return undamaged * 2 > members.length;
}
