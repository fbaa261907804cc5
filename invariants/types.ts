import type { Command, NodeId, NodeView } from '../src/adapter/contract.ts';
import type { ClientOperation } from '../src/sim/history.ts';

/** What a checker may need from an implementation; a missing one switches the checker off. */
export type Capability = 'log' | 'commitIndex' | 'votedFor' | 'members' | 'read' | 'membership' | 'transfer';

export interface Violation {
  readonly invariant: string;
  readonly message: string;
  /** Virtual time and step at which it was detected (filled in by the engine). */
  time?: number;
  step?: number;
}

/** Facts about the run a checker is created for. */
export interface ClusterInfo {
  readonly nodes: readonly NodeId[];
  readonly initialMembers: readonly NodeId[];
  readonly electionTimeoutMaxMs: number;
}

/** A change in the connectivity or liveness of the cluster, recorded by the engine. */
export interface ClusterStatus {
  readonly time: number;
  readonly up: readonly NodeId[];
  /** Node pairs that can reach each other both ways, each pair once, sorted. */
  readonly connected: readonly (readonly [NodeId, NodeId])[];
  /** True when every node is up, every link is whole and every clock is true. */
  readonly whole: boolean;
  /**
   * Optional: true while some link has non-default rates (drops, delays, duplicates) or some
   * clock is skewed. Progress checks do not judge such stretches. Undefined means not reported.
   */
  readonly impaired?: boolean;
}

/** What a run leaves for the run-level checks. */
export interface RunRecord {
  readonly cluster: ClusterInfo;
  /**
   * The clients' whole history, only when the run was asked to keep it (SimulationOptions.keepHistory,
   * or a full trace): it grows with virtual time. Checkers follow it through onInvoke and
   * onOperationOk instead.
   */
  readonly history?: readonly ClientOperation[];
  /** Every connectivity change, first at time 0. */
  readonly statuses: readonly ClusterStatus[];
  /** When the fault plan ended and the cluster was healed (undefined if the run stopped first). */
  readonly healedAt: number | undefined;
  readonly endTime: number;
  /** Final views of live nodes, and the state of their state machines. */
  readonly finalViews: ReadonlyMap<NodeId, NodeView>;
  readonly finalStates: ReadonlyMap<NodeId, { readonly appliedIndex: number; readonly entries: readonly [string, string][] }>;
  /** Every membership change the plan asked a leader for, in order, and whether it accepted it. */
  readonly membershipChanges: readonly MembershipChange[];
}

/** A membership fault action as the leader answered it (a refusal is legitimate: one change at a time, single-server changes only, …). */
export interface MembershipChange {
  readonly time: number;
  readonly leader: NodeId;
  readonly members: readonly NodeId[];
  readonly accepted: boolean;
}

/**
 * A live checker for one run. The engine calls the hooks it has: `afterStep` after every event
 * with the node the event changed and that node's fresh view; `finish` once at the end.
 * Each hook returns a violation, or undefined when all is well.
 *
 * The ClusterInfo object a checker is created with identifies its run: the built-in checkers
 * created with one ClusterInfo in one synchronous stretch (as the engine creates a run's
 * checkers) share one observation context, and their afterSteps run behind the first one's (the
 * others have none; see Observations in util.ts). To drive checkers separately by hand, create
 * each with its own ClusterInfo object.
 */
export interface Checker {
  afterStep?(node: NodeId, view: NodeView, time: number): Violation | undefined;
  /** A node applied `command` at `index` (the engine has already checked index order). */
  onApply?(node: NodeId, index: number, command: unknown, time: number): Violation | undefined;
  /** A node installed a snapshot up to `index`; its state machine holds `entries`. */
  onRestore?(node: NodeId, index: number, time: number): Violation | undefined;
  /** A client got an ok for a write that `node` applied at `index`. */
  onAcknowledged?(command: Command, node: NodeId, index: number, time: number): Violation | undefined;
  /**
   * A client invoked `operation`. The record is live: the client fills in its status, completion
   * time and output when it ends, so a checker that keeps it sees its outcome later (an operation
   * that fails or times out is not announced otherwise).
   */
  onInvoke?(operation: ClientOperation): void;
  /** A client operation completed ok (its record is complete). */
  onOperationOk?(operation: ClientOperation): void;
  onCrash?(node: NodeId, time: number): void;
  /**
   * Optional: a storage fault (corruption) hit `node`'s synced data. Persistent state may then be
   * lost through no fault of the implementation; checkers of persistence excuse that node's next
   * restart. The engine calls it when a 'corrupt' fault damages a value.
   */
  onStorageFault?(node: NodeId, time: number): void;
  /** A node restarted; `view` is its first view. */
  onRestart?(node: NodeId, view: NodeView, time: number): Violation | undefined;
  finish?(record: RunRecord): Violation | undefined;
}

export interface CheckerDefinition {
  /** Kebab-case, used on the command line and in reports. */
  readonly name: string;
  readonly description: string;
  /** 'step' checkers watch every step; 'run' checkers judge the run at its end. */
  readonly scope: 'step' | 'run';
  readonly needs: readonly Capability[];
  create(cluster: ClusterInfo): Checker;
}
