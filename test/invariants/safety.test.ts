import { describe, expect, it } from 'vitest';
import { committedPrefix } from '../../invariants/committed-prefix.ts';
import { electionSafety } from '../../invariants/election-safety.ts';
import { leaderAppendOnly } from '../../invariants/leader-append-only.ts';
import { leaderCompleteness } from '../../invariants/leader-completeness.ts';
import { logMatching } from '../../invariants/log-matching.ts';
import { oneVotePerTerm } from '../../invariants/one-vote-per-term.ts';
import { cmd, create, firstViolation, log, spec, view } from './helpers.ts';

describe('election-safety', () => {
  it('passes one leader per term, re-elections and repeated views', () => {
    const c = create(electionSafety);
    expect(firstViolation([
      () => c.afterStep!('n1', view('leader', 1), 10),
      () => c.afterStep!('n1', view('leader', 1), 20),
      () => c.afterStep!('n2', view('candidate', 2), 30),
      () => c.afterStep!('n2', view('leader', 2), 40),
      () => c.afterStep!('n1', view('follower', 2), 50),
      () => c.onRestart!('n1', view('follower', 2), 60),
      () => c.afterStep!('n1', view('leader', 3), 70),
    ])).toBeUndefined();
  });

  it('fires on two leaders of one term that never coexist', () => {
    const c = create(electionSafety);
    const v = firstViolation([
      () => c.afterStep!('n1', view('leader', 4), 10),
      () => c.afterStep!('n1', view('follower', 4), 20), // n1 steps down ...
      () => c.afterStep!('n3', view('leader', 4), 30), // ... and n3 wins the same term later
    ]);
    expect(v?.invariant).toBe('election-safety');
    expect(v?.message).toMatch(/term 4/);
    expect(v?.message).toMatch(/n1/);
    expect(v?.message).toMatch(/n3/);
  });
});

describe('one-vote-per-term', () => {
  it('passes one vote per term, across a restart', () => {
    const c = create(oneVotePerTerm);
    expect(firstViolation([
      () => c.afterStep!('n1', view('follower', 1, { votedFor: null }), 1),
      () => c.afterStep!('n1', view('follower', 1, { votedFor: 'n2' }), 2),
      () => c.onRestart!('n1', view('follower', 1, { votedFor: 'n2' }), 3),
      () => c.afterStep!('n1', view('follower', 2, { votedFor: 'n3' }), 4),
      () => c.afterStep!('n2', view('candidate', 2, { votedFor: 'n2' }), 5),
    ])).toBeUndefined();
  });

  it('fires on a second vote in one term after a restart that forgot the first', () => {
    const c = create(oneVotePerTerm);
    c.afterStep!('n1', view('follower', 3, { votedFor: 'n2' }), 10);
    c.onCrash?.('n1', 11);
    expect(c.onRestart!('n1', view('follower', 3, { votedFor: null }), 12)).toBeUndefined();
    const v = c.afterStep!('n1', view('follower', 3, { votedFor: 'n3' }), 13);
    expect(v?.message).toMatch(/n1 voted twice in term 3/);
    expect(v?.message).toMatch(/n2/);
    expect(v?.message).toMatch(/n3/);
  });
});

describe('leader-append-only', () => {
  it('passes a leader that appends and compacts, and a follower whose log is rewritten', () => {
    const c = create(leaderAppendOnly);
    expect(firstViolation([
      () => c.afterStep!('n1', view('leader', 2, { log: log(spec('1:a 2:b')) }), 1),
      () => c.afterStep!('n1', view('leader', 2, { log: log(spec('1:a 2:b 2:c')) }), 2),
      () => c.afterStep!('n1', view('leader', 2, { log: log(spec('2:c'), 2, 2) }), 3), // compaction
      () => c.afterStep!('n1', view('follower', 3, { log: log(spec('2:c'), 2, 2) }), 4),
      () => c.afterStep!('n1', view('follower', 3, { log: log(spec('3:x'), 2, 2) }), 5), // truncated as a follower: fine
      () => c.afterStep!('n2', view('follower', 1, { log: log(spec('1:a 1:z')) }), 6),
      () => c.afterStep!('n2', view('follower', 2, { log: log(spec('1:a 2:b')) }), 7),
    ])).toBeUndefined();
  });

  it('fires when a leader overwrites an entry of its own log in its term', () => {
    const c = create(leaderAppendOnly);
    c.afterStep!('n2', view('leader', 5, { log: log(spec('1:a 5:b 5:c')) }), 1);
    const v = c.afterStep!('n2', view('leader', 5, { log: log(spec('1:a 5:b 5:d')) }), 2);
    expect(v?.invariant).toBe('leader-append-only');
    expect(v?.message).toMatch(/leader n2 of term 5 .*overwrote its entry at index 3 \(was term 5 c, now term 5 d\)/);
  });

  it('fires when a leader deletes entries of its own log in its term', () => {
    const c = create(leaderAppendOnly);
    c.afterStep!('n1', view('leader', 2, { log: log(spec('1:a 2:b 2:c')) }), 1);
    const v = c.afterStep!('n1', view('leader', 2, { log: log(spec('1:a')) }), 2);
    expect(v?.message).toMatch(/leader n1 of term 2 .*deleted entries 2\.\.3/);
  });
});

describe('committed-prefix', () => {
  it('passes truncation above the commit index, compaction, and a restart that rewrites what the crash lost', () => {
    const c = create(committedPrefix);
    expect(firstViolation([
      () => c.afterStep!('n2', view('follower', 1, { commitIndex: 1, log: log(spec('1:a 1:b 1:c')) }), 1),
      () => c.afterStep!('n2', view('follower', 2, { commitIndex: 1, log: log(spec('1:a 2:x')) }), 2), // 2..3 uncommitted: fine
      () => c.afterStep!('n2', view('follower', 2, { commitIndex: 2, log: log(spec('1:a 2:x 2:y')) }), 3),
      () => c.afterStep!('n2', view('follower', 2, { commitIndex: 3, log: log(spec('2:y'), 2, 2) }), 4), // compaction
      () => {
        c.onCrash!('n2', 5);
        return undefined;
      },
      () => c.onRestart!('n2', view('follower', 2, { commitIndex: 0, log: log(spec('1:a')) }), 6),
      () => c.afterStep!('n2', view('follower', 3, { commitIndex: 0, log: log(spec('1:a 3:z')) }), 7), // a new incarnation knows nothing committed
    ])).toBeUndefined();
  });

  it('fires when a follower truncates an entry at or below its commit index', () => {
    const c = create(committedPrefix);
    c.afterStep!('n3', view('follower', 2, { commitIndex: 3, log: log(spec('1:a 2:b 2:c 2:d')) }), 10);
    const v = c.afterStep!('n3', view('follower', 2, { commitIndex: 3, log: log(spec('1:a 2:b')) }), 12);
    expect(v?.invariant).toBe('committed-prefix');
    expect(v?.message).toMatch(/n3 removed its entry at index 3 \(was term 2 c, now gone \(its log ends at 2\)\), which it knew was committed: its commitIndex had been 3 since 10\.0 ms/);
  });

  it('fires when a node overwrites a committed entry in the step that also advances its commit index', () => {
    const c = create(committedPrefix);
    c.afterStep!('n1', view('follower', 1, { commitIndex: 2, log: log(spec('1:a 1:b')) }), 1);
    const v = c.afterStep!('n1', view('follower', 3, { commitIndex: 3, log: log(spec('1:a 3:q 3:r')) }), 2);
    expect(v?.message).toMatch(/n1 overwrote its entry at index 2 \(was term 1 b, now term 3 q\)/);
  });

  it('fires when a node claims a commit index past the end of its log, and passes one covered by its snapshot', () => {
    const c = create(committedPrefix);
    expect(c.afterStep!('n2', view('follower', 1, { commitIndex: 3, log: log(spec(''), 3, 1) }), 1)).toBeUndefined();
    const v = c.afterStep!('n1', view('follower', 2, { commitIndex: 5, log: log(spec('1:a 1:b 2:c')) }), 2);
    expect(v?.invariant).toBe('committed-prefix');
    expect(v?.message).toMatch(/n1's commitIndex is 5 but its log ends at index 3 \(term 2, role follower\): a node commits only entries it holds/);
  });

  it('does not judge a node whose disk a storage fault hit, until it restarts', () => {
    const c = create(committedPrefix);
    c.afterStep!('n1', view('follower', 1, { commitIndex: 2, log: log(spec('1:a 1:b')) }), 1);
    c.onStorageFault!('n1', 2);
    expect(c.afterStep!('n1', view('follower', 1, { commitIndex: 2, log: log(spec('1:a')) }), 3)).toBeUndefined();
    c.onCrash!('n1', 4);
    c.onRestart!('n1', view('follower', 1, { commitIndex: 1, log: log(spec('1:a')) }), 5);
    expect(c.afterStep!('n1', view('follower', 2, { commitIndex: 1, log: log(spec('2:z')) }), 6)?.invariant).toBe('committed-prefix');
  });
});

describe('log-matching', () => {
  it('passes logs that agree where they share (index, term), with a no-op and snapshots', () => {
    const c = create(logMatching);
    expect(firstViolation([
      () => c.afterStep!('n1', view('leader', 2, { log: log(spec('1:a 1:b 2:noop 2:c')) }), 1),
      () => c.afterStep!('n2', view('follower', 2, { log: log(spec('1:a 1:b 2:noop')) }), 2),
      () => c.afterStep!('n3', view('follower', 1, { log: log(spec('1:a 1:b 1:x 1:y')) }), 3), // diverges at (3, 1): allowed
      () => c.afterStep!('n3', view('follower', 2, { log: log(spec('2:noop 2:c'), 2, 1) }), 4), // snapshot then matching suffix
      () => c.afterStep!('n2', view('follower', 2, { log: log(spec('1:a 1:b 2:noop 2:c 2:d')) }), 5),
    ])).toBeUndefined();
  });

  it('fires on two commands at one (index, term)', () => {
    const c = create(logMatching);
    c.afterStep!('n1', view('leader', 2, { log: log(spec('1:a 2:b')) }), 1);
    const v = c.afterStep!('n3', view('follower', 2, { log: log(spec('1:a 2:q')) }), 2);
    expect(v?.invariant).toBe('log-matching');
    expect(v?.message).toMatch(/n3 and n1 both have an entry at index 2 in term 2 but with different commands: n3 has q, n1 had b/);
  });

  it('fires on logs that share (index, term) but differ below it', () => {
    const c = create(logMatching);
    c.afterStep!('n1', view('leader', 3, { log: log(spec('1:a 2:b 3:c')) }), 1);
    const v = c.afterStep!('n2', view('follower', 3, { log: log(spec('1:a 1:x 3:c')) }), 2);
    expect(v?.message).toMatch(/n2 and n1 both have c at index 3 in term 3, but their logs differ below it: at index 2 n2 has term 1 and n1 had term 2/);
  });

  it('fires on a log whose terms go down', () => {
    const c = create(logMatching);
    const v = c.afterStep!('n1', view('follower', 3, { log: log(spec('1:a 3:b 2:c')) }), 1);
    expect(v?.message).toMatch(/n1's log goes back in term: index 2 has term 3 but index 3 has term 2/);
  });

  it('compares only the changed suffix (a step does not read the whole log)', () => {
    const c = create(logMatching);
    const entries = Array.from({ length: 10_000 }, (_, i) => [1, cmd(`c.${i + 1}`)] as const);
    c.afterStep!('n1', view('leader', 1, { log: log(entries) }), 1);
    let reads = 0;
    const base = log(entries);
    const counting = { ...base, lastIndex: base.lastIndex, termAt: (i: number) => (reads++, base.termAt(i)), commandAt: (i: number) => (reads++, base.commandAt(i)) };
    expect(c.afterStep!('n1', view('leader', 1, { log: counting }), 2)).toBeUndefined();
    expect(reads).toBeLessThanOrEqual(2);
  });
});

describe('leader-completeness', () => {
  it('passes leaders that hold every committed entry (or a snapshot of it)', () => {
    const c = create(leaderCompleteness);
    expect(firstViolation([
      () => c.afterStep!('n1', view('leader', 1, { commitIndex: 2, log: log(spec('1:a 1:b 1:c')) }), 1),
      () => c.afterStep!('n2', view('follower', 1, { commitIndex: 2, log: log(spec('1:a 1:b')) }), 2),
      // n3 wins term 2 without the uncommitted c: fine.
      () => c.afterStep!('n3', view('leader', 2, { commitIndex: 0, log: log(spec('1:a 1:b 2:d')) }), 3),
      () => c.afterStep!('n3', view('leader', 2, { commitIndex: 3, log: log(spec('1:a 1:b 2:d')) }), 4),
      // n2 wins term 3 holding everything under a snapshot.
      () => c.afterStep!('n2', view('leader', 3, { commitIndex: 3, log: log([], 3, 2) }), 5),
    ])).toBeUndefined();
  });

  it('fires when a leader of a later term lacks a committed entry', () => {
    const c = create(leaderCompleteness);
    c.afterStep!('n1', view('leader', 2, { commitIndex: 3, log: log(spec('1:a 2:b 2:c')) }), 1);
    const v = c.afterStep!('n3', view('leader', 3, { commitIndex: 1, log: log(spec('1:a 2:b')) }), 2);
    expect(v?.invariant).toBe('leader-completeness');
    expect(v?.message).toMatch(/leader n3 of term 3 .* lacks the entry committed at index 3 \(term 2 c, committed by term 2 as reported by n1.*its log ends at index 2/);
  });

  it('fires when an entry is committed while a leader of a later term lacks it', () => {
    const c = create(leaderCompleteness);
    c.afterStep!('n3', view('leader', 4, { commitIndex: 0, log: log(spec('1:a 4:z')) }), 1);
    const v = c.afterStep!('n1', view('follower', 2, { commitIndex: 2, log: log(spec('1:a 2:b')) }), 2);
    expect(v?.message).toMatch(/leader n3 of term 4 .* lacks the entry committed at index 2 \(term 2 b.*it has term 4 z there/);
  });

  it('fires when two nodes commit different entries at one index', () => {
    const c = create(leaderCompleteness);
    c.afterStep!('n1', view('follower', 2, { commitIndex: 2, log: log(spec('1:a 2:b')) }), 1);
    const v = c.afterStep!('n2', view('follower', 2, { commitIndex: 2, log: log(spec('1:a 2:x')) }), 2);
    expect(v?.message).toMatch(/two different entries committed at index 2: n2 .* term 2 x but n1 committed term 2 b/);
  });
});
