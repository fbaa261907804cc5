/**
 * The adapter contract: everything an implementation may see of the simulator (NodeHost)
 * and everything the simulator may ask of an implementation (RaftNode). The engine talks to
 * a node only through these types, and so does the reference Raft in src/raft.
 */

export type NodeId = string;

/**
 * A client command, opaque to Raft. The framework wraps every client operation so that each
 * command has a unique `id`; implementations store commands as given and hand them back
 * through `host.apply`. Commands are plain JSON data, deeply frozen by the framework.
 */
export interface Command {
  readonly id: string;
  readonly client: string;
  readonly seq: number;
  readonly op: KvOperation;
}

export type KvOperation =
  | { readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly type: 'append'; readonly key: string; readonly value: string }
  | { readonly type: 'get'; readonly key: string };

/** What `propose` and `changeMembership` answer. */
export type ProposeResult =
  | { readonly accepted: true; readonly index: number; readonly term: number }
  | { readonly accepted: false; readonly leaderHint?: NodeId };

/** Value a read returns where the stored value failed its checksum (see DurableStorage). */
export interface CorruptedValue {
  readonly $corrupted: true;
  readonly key: string;
}

export function isCorrupted(value: unknown): value is CorruptedValue {
  return typeof value === 'object' && value !== null && (value as { $corrupted?: unknown }).$corrupted === true;
}

/**
 * A node's disk. Writes are buffered until `sync()`; a crash loses the unsynced ones (or, with a
 * torn-write fault, keeps only a prefix of them). Values are copied on `put`, so later mutation
 * by the caller does not change what is stored — except a deeply frozen plain value, which
 * cannot change and is stored as it is (and handed back by `get`, still frozen). A
 * storage-corruption fault replaces a synced
 * value by a `CorruptedValue` marker: the model of a checksum mismatch that the node detects on
 * read (test with `isCorrupted`). A node may repair what it lost, fence itself, or stop: one
 * that throws in the step in which it read a corrupted value is kept down for the rest of the
 * run (fail-stop, as etcd panics on a checksum mismatch) and is not a finding.
 */
export interface DurableStorage {
  get(key: string): unknown;
  put(key: string, value: unknown): void;
  delete(key: string): void;
  /** Keys with this prefix, in insertion-independent sorted order. */
  keys(prefix?: string): string[];
  sync(): void;
}

/** What the simulator gives each node. */
export interface NodeHost {
  readonly id: NodeId;
  /** The node's own clock in milliseconds: virtual time, scaled by any clock-rate skew. */
  now(): number;
  /** Sends a message; the network may drop, delay, duplicate or reorder it. Never mutate it afterwards. */
  send(to: NodeId, message: unknown): void;
  /** Fires `fire` after `delayMs` of this node's clock. Returns a handle for clearTimer. */
  setTimer(delayMs: number, fire: () => void): number;
  clearTimer(timer: number): void;
  /** This node's seeded random stream, [0, 1). */
  random(): number;
  readonly storage: DurableStorage;
  /** Hands a committed entry to the state machine; indexes must be consecutive. */
  apply(index: number, command: unknown): void;
  /** The state machine at the last applied index, for log compaction. */
  snapshot(): Snapshot;
  /** Installs a snapshot: the state machine becomes it, and the next apply is snapshot.index + 1. */
  restore(snapshot: Snapshot): void;
}

/** A state-machine snapshot. Opaque to Raft; plain JSON. */
export interface Snapshot {
  readonly index: number;
  readonly data: unknown;
}

export type Role = 'follower' | 'candidate' | 'leader' | 'learner' | 'precandidate';

/**
 * A read-only window on a node's log that costs O(1) to produce: checkers read only the
 * entries they need, so per-step checking does not grow with the log's length.
 */
export interface LogView {
  /** Index of the last entry covered by a snapshot (0 when none). Entries at or below it are gone. */
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly lastIndex: number;
  /** Term of the entry at index, for snapshotIndex < index <= lastIndex. */
  termAt(index: number): number;
  /** Command at index (a framework `Command` or the implementation's own, such as a no-op). */
  commandAt(index: number): unknown;
}

/** What `inspect()` returns. Fields an implementation cannot expose are left out. */
export interface NodeView {
  readonly role: Role;
  readonly term: number;
  readonly votedFor?: NodeId | null;
  readonly commitIndex?: number;
  /** Voting members of the configuration this node currently uses (both halves in a joint one). */
  readonly members?: readonly NodeId[];
  /**
   * True while that configuration is a joint one (C_old,new), false while it is not. An
   * implementation that changes membership by joint consensus sets it, so that a checker can tell
   * the joint phase from a single-server change (see invariants/config-after-term-commit.ts); one
   * that changes one server at a time sets it false. Left out, after a membership change any member
   * list may be the union of a joint configuration, and the quorum checkers (current-term-commit,
   * election-quorum) can ask only the smallest quorum of any joint configuration of that size: two
   * of four, where `joint: false` asks a majority.
   */
  readonly joint?: boolean;
  readonly log?: LogView;
}

/** What an implementation gives back for each node. */
export interface RaftNode {
  receive(from: NodeId, message: unknown): void;
  propose(command: Command): ProposeResult;
  /** Optional capability: change the voting membership to exactly `members`. */
  changeMembership?(members: readonly NodeId[]): ProposeResult;
  /**
   * Optional capability: a linearizable read. Returns false when this node cannot serve it
   * (not the leader). Otherwise calls `ready(readIndex)` once a read of state at index >= readIndex
   * is linearizable; it may never call it (for example after stepping down).
   */
  read?(ready: (readIndex: number) => void): boolean;
  /** Optional capability: hand leadership to `target` (thesis §3.10). */
  transferLeadership?(target: NodeId): boolean;
  inspect(): NodeView;
  /** The node crashed: it must do nothing more. */
  stop?(): void;
}

export interface TimingConfig {
  readonly electionTimeoutMinMs: number;
  readonly electionTimeoutMaxMs: number;
  readonly heartbeatMs: number;
}

export interface ClusterConfig {
  /** Every server that may ever take part, including those not yet members. */
  readonly nodes: readonly NodeId[];
  /** The voting members the cluster starts with. Others start empty and wait to be added. */
  readonly initialMembers: readonly NodeId[];
  readonly timing: TimingConfig;
  /** Implementation-specific options (for the reference Raft: feature switches and planted bugs). */
  readonly options: Readonly<Record<string, unknown>>;
}

export type RaftFactory = (host: NodeHost, config: ClusterConfig) => RaftNode;

/**
 * Optional export `knobs` beside the factory: for each implementation option, the values a
 * generated run may give it, its default first. Every value must be one a correct implementation
 * runs safely with (a batch size, a snapshot threshold, an optional protocol feature switched
 * off): a run of a generating scenario draws one value per knob, as FoundationDB's simulator
 * randomises its knobs, so that a campaign explores the implementation's configurations as well
 * as its faults. Options given with --impl-options or by the scenario are not drawn.
 */
export type KnobSpace = Readonly<Record<string, readonly unknown[]>>;

/**
 * Optional export `validateOptions` beside the factory: throws an Error naming the option when
 * `options` (some of config.options) hold one the implementation does not know or accept. The
 * CLI calls it before a campaign with the options the scenario and --impl-options fix, and with
 * each knob value alone, so a typo is a usage error (exit 2) rather than a finding in every run.
 */
export type OptionsValidator = (options: Readonly<Record<string, unknown>>) => void;

/** Optional static description of an implementation, exported beside its factory. */
export interface ImplementationInfo {
  readonly name: string;
  readonly version?: string;
}
