/**
 * The bug zoo: realistic Raft bugs planted in the reference Raft behind switches, so that raftsim
 * can be measured on bugs that real implementations shipped. One switch, one bug, all off by
 * default; each planted change in node.ts is a small guarded branch
 * (`if (this.bug('...'))`) commented with the rule it breaks and where the bug was seen.
 *
 * Turn bugs on with the `bugs` option of the reference Raft:
 *   raftsim run --impl-options '{"bugs":["vote-not-persisted"]}'
 *
 * Controls are deviations from the paper that are actually safe: the framework must never flag
 * them (a violation there is a false positive of raftsim, not a bug of the Raft).
 */
export interface BugInfo {
  readonly name: string;
  /** The Raft rule the planted change breaks (for a control: why the deviation is safe). */
  readonly rule: string;
  /** Where the bug was seen in the wild. */
  readonly seen: string;
  /** True for a safe deviation that must never be flagged. */
  readonly control: boolean;
}

export const BUGS = [
  {
    name: 'vote-not-persisted',
    rule: 'currentTerm and votedFor are on stable storage before answering any RPC (Figure 2)',
    seen: 'hashicorp/raft #507 (vote persisted asynchronously)',
    control: false,
  },
  {
    name: 'vote-count-not-set',
    rule: 'a candidate wins with votes from a majority of distinct servers (§5.2); duplicated or retransmitted grants must not count twice',
    seen: 'akka-raft #45 (votes counted, not voters)',
    control: false,
  },
  {
    name: 'weak-uptodate-check',
    rule: 'election restriction (§5.4.1): compare last term first, then length',
    seen: 'jgroups-raft #14 (log length only)',
    control: false,
  },
  {
    name: 'candidate-no-retry',
    rule: 'a candidate whose election times out starts a new election (§5.2)',
    seen: 'a common student-implementation bug (MIT 6.824 TA notes: a candidate that waits forever on a split vote)',
    control: false,
  },
  {
    name: 'skip-prevlog-check',
    rule: 'AppendEntries rejects when the log has no entry at prevLogIndex with prevLogTerm — heartbeats included (Figure 2)',
    seen: 'akka-raft #32 (heartbeats skipped the consistency check)',
    control: false,
  },
  {
    name: 'commit-beyond-verified-prefix',
    rule: 'a follower sets commitIndex = min(leaderCommit, index of last NEW entry), never past what the request verified (Figure 2)',
    seen: 'atomix/copycat #265 (commitIndex = min(leaderCommit, lastLogIndex))',
    control: false,
  },
  {
    name: 'figure8-commit-old-term',
    rule: 'a leader commits by counting replicas only entries of its own term (§5.4.2, Figure 8)',
    seen: 'logcabin #44; the Raft paper\'s Figure 8',
    control: false,
  },
  {
    name: 'apply-uncommitted',
    rule: 'only committed entries are applied to the state machine (§5.3)',
    seen: 'a recurring bug in toy implementations (apply on append)',
    control: false,
  },
  {
    name: 'ack-before-fsync',
    rule: 'a follower makes appended entries durable before acknowledging them (§5.3, Figure 2)',
    seen: 'tikv #994 (acknowledged before the sync)',
    control: false,
  },
  {
    name: 'corrupt-entry-truncate',
    rule: 'a server that lost acknowledged entries to corruption must not vote as if it never held them',
    seen: 'Alagappan et al., "Protocol-Aware Recovery for Consensus-Based Storage", FAST\'18 (LogCabin, etcd, ZooKeeper truncate at a corrupted entry)',
    control: false,
  },
  {
    name: 'read-without-leadership-check',
    rule: 'a leader confirms it still leads (a quorum heartbeat round, §6.4 ReadIndex) before answering a read',
    seen: 'hashicorp/consul #54 (stale reads from a deposed leader)',
    control: false,
  },
  {
    name: 'unsafe-lease-read',
    rule: 'a read lease must be shorter than the election timeout by the clock-drift bound (thesis §6.4.1)',
    seen: 'thesis §6.4.1; lease reads without a drift bound (e.g. etcd\'s lease-based reads caveat)',
    control: false,
  },
  {
    name: 'no-client-dedup',
    rule: 'linearizable semantics need exactly-once application of a retried command (thesis §6.3): a retry must keep its client session identity',
    seen: 'akka-raft #64 (retried commands applied twice)',
    control: false,
  },
  {
    name: 'config-change-before-term-commit',
    rule: 'a leader starts a membership change only after committing an entry of its own term (Ongaro, raft-dev 2015)',
    seen: 'Ongaro\'s 2015 single-server membership-change bug (raft-dev "bug in single-server membership changes")',
    control: false,
  },
  {
    name: 'joint-consensus-union-quorum',
    rule: 'in C_old,new, elections and commits need separate majorities of C_old AND of C_new (§6)',
    seen: 'async-raft #62 (one counter over C_old ∪ C_new)',
    control: false,
  },
  {
    name: 'disruptive-removed-server',
    rule: 'a server removed from the configuration must not depose the leader (thesis §4.2.3: removed servers stop campaigning; votes are ignored within the minimum election timeout of hearing from a leader)',
    seen: 'logcabin #56 (removed servers disrupt the cluster)',
    control: false,
  },
  {
    name: 'snapshot-drops-newer-log',
    rule: 'InstallSnapshot keeps the entries following the snapshot when the log holds the snapshot\'s last entry (§7)',
    seen: 'camunda/zeebe #6092 (InstallSnapshot wiped the log after it)',
    control: false,
  },
  {
    name: 'prevote-counts-as-vote',
    rule: 'a PreVote grant is not a vote (thesis §9.6): the real election starts with the candidate\'s own vote only',
    seen: 'canonical/raft #196 (pre-vote grants counted in the election)',
    control: false,
  },
  {
    name: 'regrant-same-candidate',
    rule: 'control: answering a repeated RequestVote from the candidate already voted for in this term with "granted" again changes nothing (the vote is persisted)',
    seen: 'control (etcd raft and the paper\'s Figure 2 allow votedFor == candidateId)',
    control: true,
  },
  {
    name: 'commit-index-not-persisted',
    rule: 'control: commitIndex is volatile state (Figure 2); a restarted server starts from its snapshot (or 0) and relearns it from the leader. The reference Raft already never persists commitIndex, so this switch changes no code: it names the question, and the zoo checks the answer',
    seen: 'control (a frequent "is this a bug?" question; etcd persists commit in HardState, the paper does not)',
    control: true,
  },
  {
    name: 'vote-retransmit-to-all',
    rule: 'control: a candidate re-sends RequestVote to every voter each heartbeat, even to those that already granted; safe because grants are counted as a set of voters and a voter re-grants only to the same candidate',
    seen: 'control (the same traffic as vote-count-not-set, counted correctly)',
    control: true,
  },
] as const satisfies readonly BugInfo[];

export type BugName = (typeof BUGS)[number]['name'];

export const BUG_NAMES: readonly BugName[] = BUGS.map((b) => b.name);

export function bugInfo(name: string): BugInfo | undefined {
  return BUGS.find((b) => b.name === name);
}

/** Parses the `bugs` option: a list of known bug names. Unknown names throw, listing the known ones. */
export function parseBugs(value: unknown, key: string): ReadonlySet<BugName> {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`raft option "${key}": expected a list of bug names, got ${JSON.stringify(value)} (known: ${BUG_NAMES.join(', ')})`);
  }
  for (const name of value) {
    if (!(BUG_NAMES as readonly string[]).includes(name)) throw new Error(`raft option "${key}": unknown bug "${name}" (known: ${BUG_NAMES.join(', ')})`);
  }
  return new Set(value as BugName[]);
}

/*
 * Zoo results with the default scenario's generator (raftsim zoo --budget-runs 10000, base seed 1;
 * recorded 2026-12-07, with the implementation's knobs drawn per run — src/raft/options.ts
 * RAFT_KNOBS): 18 of 18 found; FOUND_AT in test/zoo/zoo.test.ts holds each first failing run and
 * its check, and the README's zoo table the shrunk plans. What found the last four:
 *  - figure8-commit-old-term (run 1): with electionNoop=false a new leader commits an older
 *    term's entry by counting its replicas, and current-term-commit flags it at once. With the
 *    no-op it shows only across a batch boundary (maxEntriesPerAppend=1 makes those common too);
 *  - commit-beyond-verified-prefix (run 201): with backoff='first-of-term' (§5.3 of the paper) a
 *    leader resumes at the follower's first index of the conflicting term and so may send an
 *    append that verifies a prefix and stops before the follower's stale tail, with a
 *    leaderCommit beyond it: the buggy min(leaderCommit, lastLogIndex) commits the stale tail.
 *    The term-aware back-off of the default never stops short of the conflict;
 *  - config-change-before-term-commit (run 4, one action: a change at the first election): the
 *    config-after-term-commit checker flags the change itself, where the harm (two leaders with
 *    disjoint majorities, Ongaro's schedule on four servers in test/zoo/missed.test.ts) needs an
 *    even-sized configuration and the right servers cut off, which 10,000 runs never lined up;
 *  - ack-before-fsync (run 32, 215 before) fails committed-quorum: the follower that acknowledged
 *    an entry before syncing it restarts without it, and too few servers hold it.
 * The rarer bugs also came sooner with knobs: candidate-no-retry at run 243 (1354 before),
 * corrupt-entry-truncate at 225 (1144), snapshot-drops-newer-log at 573 (936). Since the
 * election-quorum checker (later that day) vote-count-not-set fails at run 3 (15 before, by
 * leader-completeness) and prevote-counts-as-vote at the election itself, both by election-quorum.
 */
