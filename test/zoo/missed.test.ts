import { describe, expect, it } from 'vitest';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import { defaultScenario } from '../../scenarios/default.ts';
import { generatePlan } from '../../src/faults/generate.ts';
import { FAULT_PLAN_VERSION, type FaultAction, type FaultPlan } from '../../src/faults/plan.ts';
import { createRaft } from '../../src/raft/index.ts';
import type { BugName } from '../../src/raft/bugs.ts';
import { runScenario } from '../../src/runner.ts';
import type { Scenario } from '../../src/sim/scenario.ts';

/**
 * The zoo bugs the default scenario's generator found only after thousands of runs, or not at all,
 * before it drew the implementation's knobs and before the config-after-term-commit checker
 * (figure8-commit-old-term, commit-beyond-verified-prefix, config-change-before-term-commit,
 * corrupt-entry-truncate, snapshot-drops-newer-log, joint-consensus-union-quorum) are caught by
 * raftsim's checkers once the right faults happen under the reference's default options. Where
 * a checker now flags the bug at its cause, the case also names the harm that follows (`harm`):
 * without that checker, the plan goes on to the damage itself. Each case is a fixed, hand-made (or found and shrunk) fault plan with a fixed
 * seed, on the default scenario or one derived from it: with the bug on, the run fails the named
 * checker; with the bug off, the reference Raft passes the very same scenario, seed and plan.
 */
interface MissedCase {
  readonly bug: BugName;
  readonly check: string;
  /** The check that fires without `check` (the damage the cause leads to). */
  readonly harm?: string;
  readonly scenario: Scenario;
  readonly seed: number;
  readonly actions: readonly FaultAction[];
}

function run(c: MissedCase, bugs: readonly BugName[], without?: string) {
  const plan: FaultPlan = { version: FAULT_PLAN_VERSION, actions: c.actions };
  const checkers = ALL_CHECKERS.filter((checker) => checker.name !== without);
  return runScenario(c.scenario, c.seed, { factory: createRaft, checkers, generatePlan, plan, implementationOptions: { bugs } });
}

function expectCaught(c: MissedCase): void {
  const buggy = run(c, [c.bug]);
  expect(buggy.violation?.invariant, buggy.violation?.message).toBe(c.check);
  if (c.harm !== undefined) {
    const harmed = run(c, [c.bug], c.check);
    expect(harmed.violation?.invariant, harmed.violation?.message).toBe(c.harm);
  }
  const clean = run(c, []);
  expect(clean.violation, clean.violation?.message).toBeUndefined();
}

/*
 * Found by an older generator on the default scenario, shrunk. The configuration becomes
 * {n1,n2,n5}; n5 crashes (its log ends at 34) while n1 and n2 go on committing (to 44 and more);
 * n2 crashes; n1's synced entry 15 is corrupted and n1 crashes, to restart at the heal with its log
 * cut at 14. With the bug n1 forgets it held (and acknowledged) the rest: unfenced, it votes for
 * n5, whose log is longer than its cut one, and n5 + n1 are a majority of {n1,n2,n5}: a leader
 * without committed entry 44. The reference fences n1: it votes only for a candidate at least as
 * up to date as the log it lost, so n5 cannot win with its vote.
 */
const CORRUPT_ENTRY_TRUNCATE: MissedCase = {
  bug: 'corrupt-entry-truncate',
  check: 'leader-completeness',
  scenario: defaultScenario,
  seed: 2822811255,
  actions: [
    { at: 204, kind: 'membership', members: ['n1', 'n2', 'n5'] },
    { at: 1625, kind: 'crash', node: 'n5', loss: 'all' },
    { at: 2197, kind: 'crash', node: 'n2', loss: 'all' },
    { at: 3890, kind: 'corrupt', node: 'n1' },
    { at: 3946, kind: 'crash', node: 'n1', loss: 'none' },
  ],
};

/*
 * Found by an older generator on the default scenario, shrunk. With n4 down, leader n1 (term 1)
 * starts {n1..n5} -> {n1,n2,n4}: two servers leave, so C_old,new at 96; it commits, n1 appends
 * C_new at 97 and is isolated. n5, holding C_old,new, campaigns: n5, n2 and n3 are a majority of
 * the five members of C_old ∪ C_new but one server of C_new, so only the union count elects n5
 * (term 2). When n4 is back, n1 wins term 2 too, rightly under its C_new {n1,n2,n4} with n4's
 * vote: two leaders in term 2. Before that, current-term-commit flags n5's first commit: by the
 * same union count, backed by one server of C_new. The reference never elects n5 (no majority of C_new).
 */
const JOINT_CONSENSUS_UNION_QUORUM: MissedCase = {
  bug: 'joint-consensus-union-quorum',
  check: 'current-term-commit',
  scenario: defaultScenario,
  seed: 204557896,
  actions: [
    { at: 2236, kind: 'crash', node: 'n4', loss: 'none' },
    { at: 4413, kind: 'membership', members: ['n1', 'n2', 'n4'] },
    { at: 4425, kind: 'isolate', node: 'leader' },
    { at: 6555, kind: 'partition', groups: [['n1', 'n3'], ['n2'], ['n4', 'n5']] },
    { at: 6664, kind: 'restart', node: 'n4' },
    { at: 6836, kind: 'heal' },
  ],
};

/*
 * Figure 8 of the Raft paper, with one entry per AppendEntries so that old entries and the new
 * leader's no-op travel apart. Leader n4 (term 1), cut off with n1 only, takes a burst of writes:
 * a tail of term-1 entries (10..40) on n4 and n1 alone. n5 wins term 2 among n2, n3, n5 and is
 * isolated the moment it is elected: its term-2 entries stay on n5. n4 wins term 3 with the long
 * log and catches n2 and n3 up one entry at a time; the buggy leader counts replicas of those
 * term-1 entries and commits them (its no-op of term 3 is on n4 and n1 only): current-term-commit
 * fires there. Had it not, n4 and n1 are then cut off: n5 (last term 2) wins term 4 with n2 and n3
 * (last term 1) and lacks the entries n4 committed (leader-completeness). The reference commits
 * nothing of term 1 before its no-op is on a majority.
 */
const FIGURE8_COMMIT_OLD_TERM: MissedCase = {
  bug: 'figure8-commit-old-term',
  check: 'current-term-commit',
  scenario: { ...defaultScenario, name: 'figure8', faultWindowMs: 3000, implementationOptions: { maxEntriesPerAppend: 1 } },
  seed: 1,
  actions: [
    { at: 500, kind: 'partition', groups: [['n4', 'n1'], ['n2'], ['n3'], ['n5']] },
    { at: 510, kind: 'burst', operations: 20 },
    { at: 1200, kind: 'partition', groups: [['n4'], ['n1'], ['n2', 'n3', 'n5']] },
    { at: 1200, kind: 'isolate', node: 'leader', when: 'elected' },
    { at: 1300, kind: 'partition', groups: [['n1', 'n2', 'n3', 'n4'], ['n5']] },
    { at: 1700, kind: 'partition', groups: [['n4'], ['n1'], ['n2', 'n3', 'n5']] },
  ],
};

/*
 * Figure 8 as the paper draws it, in a leader without the election no-op (electionNoop: false,
 * Figure 2 as written), struck by a chain of leader strandings each at its election: the leader
 * (n1, term 1) is cut off with one follower and takes a burst of writes; the majority elects n4
 * (term 2), which is stranded alone at that very moment and takes writes of its own; the old
 * minority rejoins and n1 wins term 3, commits its term-1 entries by counting (the bug, where
 * current-term-commit fires) and is cut off 80 ms after its election, before its clients found it; n3 leads term 4 briefly, and
 * n4 wins term 5 without them. The reference commits nothing of term 1 in term 3, so nothing is lost.
 */
const FIGURE8_WITHOUT_ELECTION_NOOP: MissedCase = {
  bug: 'figure8-commit-old-term',
  check: 'current-term-commit',
  scenario: { ...defaultScenario, name: 'figure8-without-noop', faultWindowMs: 3000, implementationOptions: { electionNoop: false } },
  seed: 3,
  actions: [
    { at: 1000, kind: 'partition', groups: [['leader', 'follower'], ['*']] },
    { at: 1005, kind: 'burst', operations: 10 },
    { at: 1010, kind: 'partition', groups: [['leader'], ['*']], when: 'elected' },
    { at: 1010, kind: 'burst', operations: 10, when: 'elected' },
    { at: 1010, kind: 'partition', groups: [['leader'], ['*']], when: 'elected', nth: 2, afterMs: 80 },
  ],
};

/*
 * The follower must accept a request whose entries all match while it holds a stale tail past
 * them. Fast back-off never sends such a request to a follower that holds its stale tail when it
 * rejects (the hint lands exactly at the first conflicting entry); the leader underestimates a
 * follower only from a rejection sent while the follower's log was shorter. A corrupted entry
 * makes it so, and hole repair then restores the stale tail behind the leader's back. With one
 * entry per AppendEntries and no snapshots: leader n4 (term 1), cut off with n1, takes a burst of
 * writes (34.. on n4 and n1 only); n3 leads term 3 and commits its own 34... n1's entry 26 is
 * corrupted and n1 restarts with its log cut at 25 (the rest kept as a suspect tail): it tells n3
 * its log ends at 25 and n3 is cut from n1 right then, so n3 believes n1 needs entry 26 (each
 * heartbeat then moves that estimate one entry on). n1, hearing no leader, gets entry 26 back from
 * n2 and n5 and its log is whole again, stale tail included; at the heal n3 sends entry 33 after
 * 32: all matching, and the buggy follower commits to min(leaderCommit, its last index), applying
 * the stale 34 where n3 applied its no-op. The reference commits only through 33 and goes on to
 * overwrite the tail.
 */
const COMMIT_BEYOND_VERIFIED_PREFIX: MissedCase = {
  bug: 'commit-beyond-verified-prefix',
  check: 'state-machine-safety',
  scenario: {
    ...defaultScenario,
    name: 'commit-beyond-verified-prefix',
    faultWindowMs: 4000,
    implementationOptions: { maxEntriesPerAppend: 1, snapshotThreshold: 10000 },
  },
  seed: 1,
  actions: [
    { at: 1500, kind: 'partition', groups: [['n4', 'n1'], ['n2', 'n3', 'n5']] },
    { at: 1510, kind: 'burst', operations: 15 },
    { at: 2200, kind: 'corrupt', node: 'n1' },
    { at: 2201, kind: 'crash', node: 'n1', loss: 'none' },
    { at: 2202, kind: 'partition', groups: [['n4'], ['n1', 'n2', 'n3', 'n5']] },
    { at: 2300, kind: 'restart', node: 'n1' },
    { at: 2328.5, kind: 'cut', from: 'n3', to: 'n1' },
    { at: 2560, kind: 'heal' },
  ],
};

/*
 * Ongaro's single-server membership bug (raft-dev, 2015), on four servers. Leader n4 (term 1)
 * removes n1 — C_x = {n2,n3,n4} at index 20 — and is cut off at once, so only n4 holds C_x.
 * n2 wins term 2 under {n1..n4} with n1 and n3; n3 is isolated the moment n2 is elected (it never
 * gets n2's no-op) and n2, before committing anything of its term, removes n3: C_y = {n1,n2,n4},
 * whose majority n1 + n2 commits the no-op, C_y and more. The quorums of C_x and C_y do not
 * intersect: n4 and n3 (last term 1, shorter log) are a majority of C_x, so n4 wins term 3
 * without n2's committed entries. The reference refuses n2's change until its no-op commits,
 * which needs three of the four servers.
 */
const CONFIG_CHANGE_BEFORE_TERM_COMMIT: MissedCase = {
  bug: 'config-change-before-term-commit',
  check: 'config-after-term-commit',
  harm: 'leader-completeness',
  scenario: { ...defaultScenario, name: 'config-change-before-term-commit', nodes: 4, faultWindowMs: 3000 },
  seed: 1,
  actions: [
    { at: 800, kind: 'membership', members: ['n2', 'n3', 'n4'] },
    { at: 800, kind: 'partition', groups: [['n4'], ['n1', 'n2', 'n3']] },
    { at: 900, kind: 'isolate', node: 'n3', when: 'elected' },
    { at: 900, kind: 'membership', members: ['n1', 'n2', 'n4'], when: 'elected' },
    { at: 1200, kind: 'partition', groups: [['n4', 'n3'], ['n1', 'n2']] },
  ],
};

/*
 * InstallSnapshot reaches a follower that holds the snapshot's last entry and newer ones only
 * when the leader underestimates it; as for commit-beyond-verified-prefix, a corrupted entry and
 * its repair make that happen. Snapshots every 32 applied entries. n4 and n5 are cut off at 1200
 * (their logs end at 29), so n1 commits only with n2 and n3. n1 snapshots at 32 and commits 33
 * and 34 on n2's acknowledgement; n2, not yet told, still has no snapshot when its entry 19 is
 * corrupted and it crashes. Restarted (log cut at 18, commitIndex 0) it tells n1 its log ends
 * there: n1 answers with its snapshot at 32, and the link n1 -> n2 is slowed to 400 ms right
 * then. Hearing no leader, n2 gets entry 19 back from n4 and n5 (whose logs still hold it) and is
 * whole again, 33 and 34 included, before the snapshot arrives. The buggy install drops 33 and
 * 34; n1 and n3 are then cut off, and n2 (log ending at 32) wins term 3 with n4 and n5 (29)
 * without the committed 34. The reference keeps 33 and 34, so the new leader holds them.
 */
const SNAPSHOT_DROPS_NEWER_LOG: MissedCase = {
  bug: 'snapshot-drops-newer-log',
  check: 'leader-completeness',
  scenario: { ...defaultScenario, name: 'snapshot-drops-newer-log', faultWindowMs: 4000, implementationOptions: { snapshotThreshold: 32 } },
  seed: 1,
  actions: [
    { at: 300, kind: 'transfer', to: 'n1' },
    { at: 1200, kind: 'partition', groups: [['n1', 'n2', 'n3'], ['n4', 'n5']] },
    { at: 1310, kind: 'burst', operations: 8 },
    { at: 1340, kind: 'corrupt', node: 'n2' },
    { at: 1340.01, kind: 'crash', node: 'n2', loss: 'none' },
    { at: 1399, kind: 'bridge', links: [['n1', 'n2'], ['n1', 'n3'], ['n2', 'n3'], ['n2', 'n4'], ['n2', 'n5'], ['n4', 'n5']] },
    { at: 1400, kind: 'restart', node: 'n2' },
    { at: 1426, kind: 'link', from: 'n1', to: 'n2', latency: { minMs: 400, maxMs: 400 } },
    { at: 1834, kind: 'partition', groups: [['n1', 'n3'], ['n2', 'n4', 'n5']] },
  ],
};

describe('zoo bugs once missed or rare are caught by a fixed plan at their harm, and the reference passes it', () => {
  it('corrupt-entry-truncate: leader-completeness, corrupted then restarted server votes on its cut log', () => {
    expectCaught(CORRUPT_ENTRY_TRUNCATE);
  });

  it('joint-consensus-union-quorum: current-term-commit, joint change then a three-way partition', () => {
    expectCaught(JOINT_CONSENSUS_UNION_QUORUM);
  });

  it('figure8-commit-old-term: current-term-commit, Figure 8 with one entry per append', () => {
    expectCaught(FIGURE8_COMMIT_OLD_TERM);
  });

  it('figure8-commit-old-term without the election no-op: current-term-commit, a chain of leaders stranded at their elections', () => {
    expectCaught(FIGURE8_WITHOUT_ELECTION_NOOP);
  });

  it('commit-beyond-verified-prefix: state-machine-safety, a repaired hole brings a stale tail back past an underestimate', () => {
    expectCaught(COMMIT_BEYOND_VERIFIED_PREFIX);
  });

  it('config-change-before-term-commit: config-after-term-commit, then leader-completeness, new leader changes membership before its no-op commits (four servers)', () => {
    expectCaught(CONFIG_CHANGE_BEFORE_TERM_COMMIT);
  });

  it('snapshot-drops-newer-log: leader-completeness, a repaired follower gets a snapshot below its log and drops what it acknowledged', () => {
    expectCaught(SNAPSHOT_DROPS_NEWER_LOG);
  });
});
