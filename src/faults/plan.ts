import type { NodeId } from '../adapter/contract.ts';

/**
 * A fault plan: plain JSON, versioned, a list of timed actions. After the last action the
 * engine heals the cluster (network whole, every node up, clocks true) so liveness can be judged.
 */
export const FAULT_PLAN_VERSION = 1;

export interface FaultPlan {
  readonly version: typeof FAULT_PLAN_VERSION;
  /**
   * Implementation options this run drew from the implementation's knobs (src/adapter/contract.ts
   * KnobSpace), only those that differ from the default; merged over the scenario's options.
   */
  readonly knobs?: Readonly<Record<string, unknown>>;
  readonly actions: readonly FaultAction[];
}

/** The same actions with these knobs (none left: the plan has no `knobs` field). */
export function withKnobs(plan: FaultPlan, knobs: Readonly<Record<string, unknown>>): FaultPlan {
  return Object.keys(knobs).length === 0 ? { version: FAULT_PLAN_VERSION, actions: plan.actions } : { version: FAULT_PLAN_VERSION, knobs, actions: plan.actions };
}

/** The same plan (its knobs kept) with other actions: what shrinking by removal tries. */
export function withActions(plan: FaultPlan, actions: readonly FaultAction[]): FaultPlan {
  return plan.knobs === undefined ? { version: FAULT_PLAN_VERSION, actions } : { version: FAULT_PLAN_VERSION, knobs: plan.knobs, actions };
}

/**
 * A node named directly, or resolved deterministically when the action fires:
 * "leader" is the live leader of the highest term (the action is skipped when there is none),
 * "follower" the first live non-leader member in node order, "crashed" the most recently
 * crashed node that is still down (so a plan can restart the leader it crashed).
 */
export type NodeRef = NodeId | 'leader' | 'follower' | 'crashed';

export const SYMBOLIC_REFS: readonly NodeRef[] = ['leader', 'follower', 'crashed'];

export interface LinkRates {
  readonly dropRate?: number;
  readonly duplicateRate?: number;
  readonly latency?: { readonly minMs: number; readonly maxMs: number };
  readonly longDelayRate?: number;
  readonly longDelay?: { readonly minMs: number; readonly maxMs: number };
}

/**
 * What an action may wait for: with `when: "elected"` it does not fire at `at` but at the first
 * step after `at` at which some node becomes leader — the moment a new leader has not yet
 * committed anything of its term, where much of Raft's subtle code runs. An armed action still
 * waiting when the fault window ends is skipped.
 */
export type FaultTrigger = 'elected';

export const FAULT_TRIGGERS: readonly FaultTrigger[] = ['elected'];

/**
 * Refinements of `when: "elected"`: `nth` waits for the nth election after `at` (default 1), so
 * one plan can strike a chain of leaders, each at its own election; `afterMs` fires that many
 * virtual ms after the election (default 0): when the new leader's first rounds are answered and
 * its first commits made, but its clients may not have found it yet.
 */
export interface ElectionWait {
  readonly when?: FaultTrigger;
  readonly nth?: number;
  readonly afterMs?: number;
}

/** Bounds of the ElectionWait fields. */
export const MAX_NTH_ELECTION = 20;
export const MAX_AFTER_ELECTION_MS = 10_000;

export type FaultAction = FaultActionBody & ElectionWait;

type FaultActionBody =
  /** A "*" in a group stands for every node that no other group names. */
  | { readonly at: number; readonly kind: 'partition'; readonly groups: readonly (readonly (NodeRef | '*')[])[] }
  | { readonly at: number; readonly kind: 'isolate'; readonly node: NodeRef }
  | { readonly at: number; readonly kind: 'cut'; readonly from: NodeRef; readonly to: NodeRef }
  | { readonly at: number; readonly kind: 'bridge'; readonly links: readonly (readonly [NodeRef, NodeRef])[] }
  | { readonly at: number; readonly kind: 'heal' }
  | { readonly at: number; readonly kind: 'crash'; readonly node: NodeRef; readonly loss?: 'all' | 'torn' | 'none' }
  | { readonly at: number; readonly kind: 'restart'; readonly node: NodeRef }
  | { readonly at: number; readonly kind: 'corrupt'; readonly node: NodeRef }
  | ({ readonly at: number; readonly kind: 'link'; readonly from?: NodeRef; readonly to?: NodeRef } & LinkRates)
  | { readonly at: number; readonly kind: 'skew'; readonly node: NodeRef; readonly rate: number }
  | { readonly at: number; readonly kind: 'membership'; readonly members: readonly NodeId[] }
  | { readonly at: number; readonly kind: 'transfer'; readonly to: NodeRef }
  | { readonly at: number; readonly kind: 'burst'; readonly operations: number }
  /**
   * The closed-loop clients' pace from now on: the pause between one operation and the next,
   * and how long one attempt waits before the client tries another node. Fields left out keep
   * their current value; the heal at the end of the fault window restores the scenario's own.
   */
  | { readonly at: number; readonly kind: 'load'; readonly thinkMs?: { readonly minMs: number; readonly maxMs: number }; readonly requestTimeoutMs?: number };

export type FaultKind = FaultActionBody['kind'];

export const FAULT_KINDS: readonly FaultKind[] = [
  'partition', 'isolate', 'cut', 'bridge', 'heal', 'crash', 'restart', 'corrupt',
  'link', 'skew', 'membership', 'transfer', 'burst', 'load',
];

export const EMPTY_PLAN: FaultPlan = { version: FAULT_PLAN_VERSION, actions: [] };
