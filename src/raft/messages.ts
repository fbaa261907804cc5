import type { NodeId } from '../adapter/contract.ts';
import type { Config } from './membership.ts';
import type { Entry } from './log.ts';

/**
 * The wire messages. Plain data, never mutated after sending: the network may deliver one
 * object twice, so every array in a message is a fresh copy.
 */
export interface VoteRequest {
  readonly type: 'vote';
  /** For a PreVote: the term the sender would campaign in (its own term + 1), not adopted by anyone. */
  readonly term: number;
  readonly pre: boolean;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Sent after TimeoutNow: voters skip the disruptive-server guard (thesis §3.10). */
  readonly transfer: boolean;
}

export interface VoteReply {
  readonly type: 'voteReply';
  readonly term: number;
  readonly pre: boolean;
  readonly granted: boolean;
}

export interface AppendRequest {
  readonly type: 'append';
  readonly term: number;
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly leaderCommit: number;
  /** ReadIndex round the sender had started when sending; echoed in the reply. */
  readonly ctx: number;
}

export interface AppendReply {
  readonly type: 'appendReply';
  readonly term: number;
  readonly success: boolean;
  /** On success: prevLogIndex + entries.length of the request answered, the prefix now verified. */
  readonly matchIndex: number;
  /** The request's prevLogIndex, so the leader can tell stale rejections apart. */
  readonly prevLogIndex: number;
  /** On rejection: the follower's term at prevLogIndex (0 when it has no entry there) ... */
  readonly conflictTerm: number;
  /** ... and the first index of that term in its log, or its lastIndex + 1. */
  readonly conflictIndex: number;
  readonly ctx: number;
}

export interface SnapshotRequest {
  readonly type: 'snapshot';
  readonly term: number;
  readonly index: number;
  readonly lastTerm: number;
  readonly config: Config;
  readonly data: unknown;
  readonly leaderCommit: number;
  readonly ctx: number;
}

export interface SnapshotReply {
  readonly type: 'snapshotReply';
  readonly term: number;
  readonly matchIndex: number;
  readonly ctx: number;
}

export interface TimeoutNow {
  readonly type: 'timeoutNow';
  readonly term: number;
}

/** Asks a peer for the entry at `index`, which we lost, provided its entry at index + 1 has term `nextTerm`. */
export interface RepairRequest {
  readonly type: 'repair';
  readonly term: number;
  readonly index: number;
  readonly nextTerm: number;
}

export interface RepairReply {
  readonly type: 'repairReply';
  readonly term: number;
  readonly index: number;
  readonly entry: Entry;
}

export type RaftMessage = VoteRequest | VoteReply | AppendRequest | AppendReply | SnapshotRequest | SnapshotReply | TimeoutNow | RepairRequest | RepairReply;

/** Cheap shape check: anything else on the wire is ignored, never trusted. */
export function asRaftMessage(value: unknown): RaftMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as { type?: unknown; term?: unknown };
  if (!isMessageType(m.type) || typeof m.term !== 'number') return undefined;
  return value as RaftMessage;
}

function isMessageType(type: unknown): boolean {
  switch (type) {
    case 'vote':
    case 'voteReply':
    case 'append':
    case 'appendReply':
    case 'snapshot':
    case 'snapshotReply':
    case 'timeoutNow':
    case 'repair':
    case 'repairReply':
      return true;
    default:
      return false;
  }
}

export type { NodeId };
