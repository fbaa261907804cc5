import type { ClusterConfig, KnobSpace } from '../adapter/contract.ts';
import { parseBugs, type BugName } from './bugs.ts';

/**
 * Options of the reference Raft, parsed from `ClusterConfig.options`. Every feature that the
 * literature describes as optional can be switched, so scenarios can show what it buys.
 */
export interface RaftOptions {
  /** PreVote (thesis §9.6): a would-be candidate first asks whether it could win. Default true. */
  readonly preVote: boolean;
  /** CheckQuorum (thesis §6.2): a leader that hears from no majority for an election timeout steps down. Default true. */
  readonly checkQuorum: boolean;
  /**
   * After each failed election the timeout range is multiplied by `multiplier`, up to
   * `maxFactor` times the base; it resets on hearing from a leader or winning. Default {2, 4}:
   * four times 300 ms still lets a healed cluster elect well within the liveness bound.
   */
  readonly electionBackoff: { readonly multiplier: number; readonly maxFactor: number };
  /**
   * Take a snapshot once this many applied entries sit in the log. Default 64: small, as test
   * defaults go (etcd's tests use single digits), so that ordinary runs compact their logs and
   * send InstallSnapshot to servers that fell behind — a test subject should exercise all its code.
   */
  readonly snapshotThreshold: number;
  /** At most this many entries per AppendEntries. Default 64. */
  readonly maxEntriesPerAppend: number;
  /**
   * A new leader appends a no-op of its term at once (thesis §6.4), so it commits everything
   * before it without waiting for a client. false: Figure 2 as written — a leader appends one
   * only when a read or a membership change needs an entry of its term committed, or when it
   * inherits a joint configuration: the shape of many course implementations, where a wrong
   * commit rule shows as Figure 8 (§5.4.2). Default true.
   */
  readonly electionNoop: boolean;
  /**
   * Where a leader resumes after a rejected AppendEntries: 'term-aware' (default) jumps past its
   * own last entry of the follower's conflicting term, or to the follower's first index of it
   * when it has none of that term (etcd, MIT 6.824); 'first-of-term' always goes back to the
   * follower's first index of the conflicting term, as §5.3 of the paper describes, and so may
   * resend entries the follower already holds; 'one-step' decrements nextIndex by one (Figure 2).
   */
  readonly backoff: Backoff;
  /** Planted bugs to switch on (the bug zoo, src/raft/bugs.ts). Default none. */
  readonly bugs: ReadonlySet<BugName>;
}

export const BACKOFFS = ['term-aware', 'first-of-term', 'one-step'] as const;
export type Backoff = (typeof BACKOFFS)[number];

export const DEFAULT_RAFT_OPTIONS: RaftOptions = {
  preVote: true,
  checkQuorum: true,
  electionBackoff: { multiplier: 2, maxFactor: 4 },
  snapshotThreshold: 64,
  maxEntriesPerAppend: 64,
  electionNoop: true,
  backoff: 'term-aware',
  bugs: new Set<BugName>(),
};

/**
 * The knobs a generated run draws (the default first): every protocol variant the literature
 * allows and every size the reference accepts is a configuration users run, so each run of a
 * campaign may leave the defaults — one entry per AppendEntries makes a follower that lags
 * acknowledge an old term's entries apart from the new leader's no-op; no PreVote or no
 * CheckQuorum lets a partitioned server disrupt and a stale leader linger; a snapshot every few
 * entries sends InstallSnapshot all the time. Each value is safe: the reference passes with it.
 */
export const RAFT_KNOBS: KnobSpace = {
  preVote: [true, false],
  checkQuorum: [true, false],
  electionNoop: [true, false],
  backoff: BACKOFFS,
  electionBackoff: [DEFAULT_RAFT_OPTIONS.electionBackoff, false],
  maxEntriesPerAppend: [64, 1, 4],
  snapshotThreshold: [64, 5, 1000],
};

type Parser = (value: unknown, key: string) => unknown;

const bool: Parser = (value, key) => {
  if (typeof value !== 'boolean') throw new Error(`raft option "${key}": expected a boolean, got ${JSON.stringify(value)}`);
  return value;
};

const positiveInt: Parser = (value, key) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`raft option "${key}": expected an integer >= 1, got ${JSON.stringify(value)}`);
  }
  return value;
};

const backoffKind: Parser = (value, key) => {
  if (!(BACKOFFS as readonly unknown[]).includes(value)) throw new Error(`raft option "${key}": expected one of ${BACKOFFS.map((b) => `"${b}"`).join(', ')}, got ${JSON.stringify(value)}`);
  return value;
};

const backoff: Parser = (value, key) => {
  if (value === false) return { multiplier: 1, maxFactor: 1 };
  if (typeof value !== 'object' || value === null) throw new Error(`raft option "${key}": expected {multiplier, maxFactor} or false`);
  const given = value as Record<string, unknown>;
  for (const k of Object.keys(given)) {
    if (k !== 'multiplier' && k !== 'maxFactor') throw new Error(`raft option "${key}.${k}" is unknown (known: multiplier, maxFactor)`);
  }
  const merged = { ...DEFAULT_RAFT_OPTIONS.electionBackoff, ...given };
  if (typeof merged.multiplier !== 'number' || !(merged.multiplier >= 1)) throw new Error(`raft option "${key}.multiplier": expected a number >= 1`);
  if (typeof merged.maxFactor !== 'number' || !(merged.maxFactor >= 1)) throw new Error(`raft option "${key}.maxFactor": expected a number >= 1`);
  return merged;
};

/** One parser per known key; adding an option means adding a line here and a field above. */
const PARSERS: Record<keyof RaftOptions, Parser> = {
  preVote: bool,
  checkQuorum: bool,
  electionBackoff: backoff,
  snapshotThreshold: positiveInt,
  maxEntriesPerAppend: positiveInt,
  electionNoop: bool,
  backoff: backoffKind,
  bugs: parseBugs,
};

export function parseRaftOptions(options: ClusterConfig['options'] | undefined): RaftOptions {
  const parsed: Record<string, unknown> = { ...DEFAULT_RAFT_OPTIONS };
  for (const [key, value] of Object.entries(options ?? {})) {
    const parser = (PARSERS as Record<string, Parser | undefined>)[key];
    if (!parser) throw new Error(`unknown raft option "${key}" (known: ${Object.keys(PARSERS).join(', ')})`);
    if (value === undefined) continue;
    parsed[key] = parser(value, key);
  }
  return parsed as unknown as RaftOptions;
}
