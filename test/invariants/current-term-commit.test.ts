import { describe, expect, it } from 'vitest';
import { currentTermCommit, smallestJointQuorum } from '../../invariants/current-term-commit.ts';
import type { ClusterInfo } from '../../invariants/types.ts';
import { create, firstViolation, log, spec, view } from './helpers.ts';

const FIVE: ClusterInfo = { nodes: ['n1', 'n2', 'n3', 'n4', 'n5'], initialMembers: ['n1', 'n2', 'n3', 'n4', 'n5'], electionTimeoutMaxMs: 300 };
const members = FIVE.nodes;

describe('current-term-commit', () => {
  it('passes a leader that commits older entries under a replicated entry of its term, and commits brought from a follower past', () => {
    const c = create(currentTermCommit, FIVE);
    expect(firstViolation([
      // n1 was a follower that knew index 1 committed; it becomes leader of term 3 with that commit.
      () => c.afterStep!('n1', view('follower', 2, { commitIndex: 1, members, log: log(spec('1:a 2:b')) }), 1),
      () => c.afterStep!('n1', view('leader', 3, { commitIndex: 1, members, log: log(spec('1:a 2:b 3:noop')) }), 2),
      () => c.afterStep!('n2', view('follower', 3, { commitIndex: 1, members, log: log(spec('1:a 2:b 3:noop')) }), 3),
      () => c.afterStep!('n3', view('follower', 3, { commitIndex: 1, members, log: log(spec('1:a 2:b 3:noop')) }), 4),
      // Index 2 (term 2) and the no-op (term 3) on n1, n2, n3: committing through 3 is safe, and so is stopping at 2.
      () => c.afterStep!('n1', view('leader', 3, { commitIndex: 2, members, log: log(spec('1:a 2:b 3:noop')) }), 5),
      () => c.afterStep!('n1', view('leader', 3, { commitIndex: 3, members, log: log(spec('1:a 2:b 3:noop 3:c')) }), 6),
    ])).toBeUndefined();
  });

  it('fires on Figure 8 (c): a leader commits an older-term entry that a majority holds, with no entry of its term', () => {
    const c = create(currentTermCommit, FIVE);
    c.afterStep!('n2', view('follower', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b')) }), 1);
    c.afterStep!('n3', view('follower', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b')) }), 2);
    c.afterStep!('n1', view('leader', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b')) }), 3);
    const v = c.afterStep!('n1', view('leader', 4, { commitIndex: 2, members, log: log(spec('1:a 2:b')) }), 4);
    expect(v?.invariant).toBe('current-term-commit');
    expect(v?.message).toMatch(/leader n1 \(term 4\) raised its commitIndex from 1 to 2 at 4\.0 ms, but its log holds no entry of term 4 at or above index 2 \(it ends at 2, term 2\)/);
  });

  it('fires when the entry of its term above the commit is on a minority (the no-op not yet replicated)', () => {
    const c = create(currentTermCommit, FIVE);
    c.afterStep!('n2', view('follower', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b 4:noop')) }), 1);
    c.afterStep!('n3', view('follower', 3, { commitIndex: 1, members, log: log(spec('1:a 2:b')) }), 2);
    c.afterStep!('n1', view('leader', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b 4:noop')) }), 3);
    const v = c.afterStep!('n1', view('leader', 4, { commitIndex: 2, members, log: log(spec('1:a 2:b 4:noop')) }), 4);
    expect(v?.message).toMatch(/index 3, is held by 2 of 5 members \(n1, n2; a quorum is 3\)/);
  });

  it('counts a follower whose snapshot covers the entry, a down follower with its last log, and a storage-faulted one', () => {
    const c = create(currentTermCommit, FIVE);
    c.afterStep!('n2', view('follower', 4, { commitIndex: 3, members, log: log(spec(''), 3, 4) }), 1); // snapshot through the no-op
    c.afterStep!('n3', view('follower', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b 4:noop')) }), 2);
    c.onCrash!('n3', 3);
    c.onStorageFault!('n4', 4);
    c.afterStep!('n1', view('leader', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b 4:noop')) }), 5);
    // n1, n2 (snapshot), n3 (down, last seen holding it): a quorum.
    expect(c.afterStep!('n1', view('leader', 4, { commitIndex: 3, members, log: log(spec('1:a 2:b 4:noop')) }), 6)).toBeUndefined();
    const d = create(currentTermCommit, FIVE);
    d.afterStep!('n2', view('follower', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b 4:noop')) }), 1);
    d.onStorageFault!('n5', 2); // its log is unknown: counted as holding the entry
    d.afterStep!('n1', view('leader', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b 4:noop')) }), 3);
    expect(d.afterStep!('n1', view('leader', 4, { commitIndex: 3, members, log: log(spec('1:a 2:b 4:noop')) }), 4)).toBeUndefined();
  });

  it('counts a damaged server that restarted with its log cut at the damage, whose acknowledgement was still in flight', () => {
    const c = create(currentTermCommit, FIVE);
    c.afterStep!('n2', view('follower', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b 4:noop')) }), 1);
    c.afterStep!('n3', view('follower', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b')) }), 2);
    c.onStorageFault!('n3', 3); // its entry 2 is corrupted
    c.afterStep!('n3', view('follower', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b 4:noop')) }), 4); // appends and acknowledges 3
    c.onCrash!('n3', 5);
    c.onRestart!('n3', view('follower', 4, { commitIndex: 0, members, log: log(spec('1:a')) }), 6); // the log cut at the damage
    c.afterStep!('n1', view('leader', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b 4:noop')) }), 7);
    expect(c.afterStep!('n1', view('leader', 4, { commitIndex: 3, members, log: log(spec('1:a 2:b 4:noop')) }), 8)).toBeUndefined();
    // For a leader of a later term its old log proves nothing.
    c.afterStep!('n1', view('leader', 5, { commitIndex: 3, members, log: log(spec('1:a 2:b 4:noop 5:noop')) }), 9);
    expect(c.afterStep!('n1', view('leader', 5, { commitIndex: 4, members, log: log(spec('1:a 2:b 4:noop 5:noop')) }), 10)?.message).toMatch(/index 4, is held by 1 of 5/);
  });

  it('judges no commit carried over a restart, and asks for the smallest joint quorum once member lists differ', () => {
    const c = create(currentTermCommit, FIVE);
    // A restart that restores commitIndex 2 from disk, then leads term 5: not an advance.
    c.afterStep!('n1', view('leader', 4, { commitIndex: 1, members, log: log(spec('1:a 2:b')) }), 1);
    c.onCrash!('n1', 2);
    expect(c.onRestart!('n1', view('follower', 4, { commitIndex: 2, members, log: log(spec('1:a 2:b')) }), 3)).toBeUndefined();
    expect(c.afterStep!('n1', view('leader', 5, { commitIndex: 2, members, log: log(spec('1:a 2:b')) }), 4)).toBeUndefined();

    // Union {n1..n7} of C_old {n1..n5} and C_new {n3..n7}: {n3, n4, n5} is a quorum of both.
    const seven = [...members, 'n6', 'n7'];
    const j = create(currentTermCommit, { ...FIVE, nodes: seven });
    j.afterStep!('n4', view('follower', 6, { commitIndex: 1, members: seven, log: log(spec('1:a 6:c')) }), 1);
    j.afterStep!('n5', view('follower', 6, { commitIndex: 1, members, log: log(spec('1:a 6:c')) }), 2);
    j.afterStep!('n3', view('leader', 6, { commitIndex: 1, members: seven, log: log(spec('1:a 6:c')) }), 3);
    expect(j.afterStep!('n3', view('leader', 6, { commitIndex: 2, members: seven, log: log(spec('1:a 6:c')) }), 4)).toBeUndefined();
    // Two holders of seven are a quorum of no configuration.
    const k = create(currentTermCommit, { ...FIVE, nodes: seven });
    k.afterStep!('n5', view('follower', 6, { commitIndex: 1, members, log: log(spec('1:a 6:c')) }), 1);
    k.afterStep!('n3', view('leader', 6, { commitIndex: 1, members: seven, log: log(spec('1:a 6:c')) }), 2);
    expect(k.afterStep!('n3', view('leader', 6, { commitIndex: 2, members: seven, log: log(spec('1:a 6:c')) }), 3)?.message).toMatch(/held by 2 of 7 members \(n3, n5; a quorum is 3\)/);
  });

  it('knows the smallest quorum of any configuration with a given union of voters', () => {
    // 4: C_old {1,2,3}, C_new {2,3,4}: {2,3}. 6: {1..5} and {2..6}: {2,3,4}. 7: {1..5} and {3..7}: {3,4,5}.
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map(smallestJointQuorum)).toEqual([1, 2, 2, 2, 3, 3, 3, 4, 4]);
  });
});
