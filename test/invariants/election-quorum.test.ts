import { describe, expect, it } from 'vitest';
import { electionQuorum } from '../../invariants/election-quorum.ts';
import type { ClusterInfo } from '../../invariants/types.ts';
import { create, view } from './helpers.ts';

const FIVE: ClusterInfo = { nodes: ['n1', 'n2', 'n3', 'n4', 'n5'], initialMembers: ['n1', 'n2', 'n3', 'n4', 'n5'], electionTimeoutMaxMs: 300 };
const members = FIVE.nodes;

describe('election-quorum', () => {
  it('passes a leader that three of five voted for in its term, and judges each term once', () => {
    const c = create(electionQuorum, FIVE);
    c.afterStep!('n1', view('candidate', 2, { votedFor: 'n1', members }), 1);
    c.afterStep!('n2', view('follower', 2, { votedFor: 'n1', members }), 2);
    c.afterStep!('n3', view('follower', 2, { votedFor: 'n1', members }), 3);
    expect(c.afterStep!('n1', view('leader', 2, { votedFor: 'n1', members }), 4)).toBeUndefined();
    expect(c.afterStep!('n1', view('leader', 2, { votedFor: 'n1', commitIndex: 3, members }), 5)).toBeUndefined();
  });

  it('fires on a leader that counted a grant of an older term (its voter voted for another in this one)', () => {
    const c = create(electionQuorum, FIVE);
    c.afterStep!('n3', view('follower', 2, { votedFor: 'n1', members }), 1); // a grant in term 2
    c.afterStep!('n1', view('candidate', 3, { votedFor: 'n1', members }), 2);
    c.afterStep!('n2', view('follower', 3, { votedFor: 'n1', members }), 3);
    c.afterStep!('n3', view('follower', 3, { votedFor: 'n4', members }), 4);
    const v = c.afterStep!('n1', view('leader', 3, { votedFor: 'n1', members }), 5);
    expect(v?.invariant).toBe('election-quorum');
    expect(v?.message).toBe(
      'n1 became leader of term 3 at 5.0 ms with the votes of n1,n2 in that term: 2 of its 5 members (n1,n2,n3,n4,n5), where 3 are needed (§5.2) — ' +
        'a grant counted twice, one of an older term, a pre-vote, or a vote from outside the configuration',
    );
  });

  it('fires on a leader whose only support is pre-votes (no voter shows a vote for it)', () => {
    const c = create(electionQuorum, FIVE);
    c.afterStep!('n2', view('follower', 4, { votedFor: null, members }), 1);
    c.afterStep!('n3', view('follower', 4, { votedFor: null, members }), 2);
    expect(c.afterStep!('n1', view('leader', 5, { votedFor: 'n1', members }), 3)?.message).toMatch(/with the votes of n1 in that term: 1 of its 5 members/);
  });

  it("counts the leader's own vote even when its view never shows it, but not when it showed a vote for another in the term", () => {
    const c = create(electionQuorum, FIVE);
    c.afterStep!('n2', view('follower', 2, { votedFor: 'n1', members }), 1);
    c.afterStep!('n3', view('follower', 2, { votedFor: 'n1', members }), 2);
    expect(c.afterStep!('n1', view('leader', 2, { votedFor: null, members }), 3)).toBeUndefined();
    const d = create(electionQuorum, FIVE);
    d.afterStep!('n1', view('follower', 2, { votedFor: 'n4', members }), 1);
    d.afterStep!('n2', view('follower', 2, { votedFor: 'n1', members }), 2);
    d.afterStep!('n3', view('follower', 2, { votedFor: 'n1', members }), 3);
    expect(d.afterStep!('n1', view('leader', 2, { votedFor: 'n4', members }), 4)?.message).toMatch(/with the votes of n2,n3 in that term: 2 of its 5 members/);
  });

  it('counts only members, sees votes shown at a restart, and needs the quorum of a plain configuration when the view says it is not joint', () => {
    const three = ['n1', 'n2', 'n3'];
    const c = create(electionQuorum, FIVE);
    c.afterStep!('n1', view('follower', 1, { members: three, joint: false }), 0);
    c.afterStep!('n1', view('candidate', 2, { votedFor: 'n1', members: three, joint: false }), 1);
    c.afterStep!('n4', view('follower', 2, { votedFor: 'n1', members }), 2); // not a member of n1's configuration
    c.onCrash!('n2', 3);
    expect(c.onRestart!('n2', view('follower', 2, { votedFor: 'n1', members: three, joint: false }), 4)).toBeUndefined();
    expect(c.afterStep!('n1', view('leader', 2, { votedFor: 'n1', members: three, joint: false }), 5)).toBeUndefined();
    const d = create(electionQuorum, FIVE);
    d.afterStep!('n1', view('follower', 1, { members, joint: false }), 0);
    d.afterStep!('n1', view('candidate', 2, { votedFor: 'n1', members: three, joint: false }), 1);
    d.afterStep!('n4', view('follower', 2, { votedFor: 'n1', members }), 2);
    expect(d.afterStep!('n1', view('leader', 2, { votedFor: 'n1', members: three, joint: false }), 3)?.message).toMatch(/with the votes of n1 in that term: 1 of its 3 members \(n1,n2,n3\), where 2 are needed/);
  });

  it('judges the configuration the leader campaigned with, not one it appends in the step it wins', () => {
    const six = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
    const c = create(electionQuorum, { ...FIVE, nodes: six });
    c.afterStep!('n1', view('candidate', 2, { votedFor: 'n1', members, joint: false }), 1);
    c.afterStep!('n2', view('follower', 2, { votedFor: 'n1', members, joint: false }), 2);
    c.afterStep!('n3', view('follower', 2, { votedFor: 'n1', members, joint: false }), 3);
    // Three of the five it campaigned with; of the six it now shows, a majority would be four.
    expect(c.afterStep!('n1', view('leader', 2, { votedFor: 'n1', members: six, joint: false }), 4)).toBeUndefined();
  });

  it('after a membership change asks only the smallest joint quorum of a view that may be joint', () => {
    const six = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
    const c = create(electionQuorum, { ...FIVE, nodes: six });
    c.afterStep!('n2', view('follower', 1, { members }), 0);
    c.afterStep!('n1', view('candidate', 2, { votedFor: 'n1', members: six }), 1);
    c.afterStep!('n2', view('follower', 2, { votedFor: 'n1', members: six }), 2);
    c.afterStep!('n3', view('follower', 2, { votedFor: 'n1', members: six }), 3);
    // Three of six: a quorum of some joint configuration of six servers (majorities of {1,2,3,4} and {1,2,3,5,6} overlap in 1,2,3).
    expect(c.afterStep!('n1', view('leader', 2, { votedFor: 'n1', members: six }), 4)).toBeUndefined();
  });
});
