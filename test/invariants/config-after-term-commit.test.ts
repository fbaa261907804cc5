import { describe, expect, it } from 'vitest';
import { configAfterTermCommit } from '../../invariants/config-after-term-commit.ts';
import type { ClusterInfo } from '../../invariants/types.ts';
import { create, log, spec, view } from './helpers.ts';

const FOUR: ClusterInfo = { nodes: ['n1', 'n2', 'n3', 'n4'], initialMembers: ['n1', 'n2', 'n3', 'n4'], electionTimeoutMaxMs: 300 };
const all = FOUR.nodes;
const withoutN3 = ['n1', 'n2', 'n4'];

describe('config-after-term-commit', () => {
  it("fires on Ongaro's bug: a new leader removes a server before its first entry of the term commits", () => {
    const c = create(configAfterTermCommit, FOUR);
    c.afterStep!('n2', view('follower', 1, { commitIndex: 19, members: all, log: log(spec('1:a '.repeat(19))) }), 10);
    c.afterStep!('n2', view('leader', 2, { commitIndex: 19, members: all, log: log(spec('1:a '.repeat(19) + '2:noop')) }), 20);
    const v = c.afterStep!('n2', view('leader', 2, { commitIndex: 19, members: withoutN3, log: log(spec('1:a '.repeat(19) + '2:noop 2:cfg')) }), 21);
    expect(v?.invariant).toBe('config-after-term-commit');
    expect(v?.message).toMatch(/leader n2 \(term 2\) changed its configuration from n1,n2,n3,n4 to n1,n2,n4 at 21\.0 ms before committing an entry of its term \(its commitIndex 19 holds term 1\)/);
  });

  it('passes a change once the no-op of the term is committed, a follower that learns a change, and a joint change', () => {
    const c = create(configAfterTermCommit, FOUR);
    c.afterStep!('n2', view('leader', 2, { commitIndex: 19, members: all, log: log(spec('1:a '.repeat(19) + '2:noop')) }), 20);
    c.afterStep!('n2', view('leader', 2, { commitIndex: 20, members: all, log: log(spec('1:a '.repeat(19) + '2:noop')) }), 25);
    expect(c.afterStep!('n2', view('leader', 2, { commitIndex: 20, members: withoutN3, log: log(spec('1:a '.repeat(19) + '2:noop 2:cfg')) }), 30)).toBeUndefined();
    // A follower's members change when it appends a leader's configuration: not its change.
    c.afterStep!('n1', view('follower', 2, { commitIndex: 10, members: all, log: log(spec('1:a '.repeat(19))) }), 31);
    expect(c.afterStep!('n1', view('follower', 2, { commitIndex: 10, members: withoutN3, log: log(spec('1:a '.repeat(19) + '2:noop 2:cfg')) }), 32)).toBeUndefined();
    // Two servers at once (joint consensus) is not a single-server change.
    const d = create(configAfterTermCommit, FOUR);
    d.afterStep!('n2', view('leader', 2, { commitIndex: 19, members: all, log: log(spec('1:a '.repeat(19) + '2:noop')) }), 20);
    expect(d.afterStep!('n2', view('leader', 2, { commitIndex: 19, members: ['n1', 'n2'], log: log(spec('1:a '.repeat(19) + '2:noop 2:cfg')) }), 21)).toBeUndefined();
  });

  it('does not judge changes into or out of a joint configuration the view declares (NodeView.joint), and judges them when it does not', () => {
    const withN5 = [...all, 'n5'];
    const noop = log(spec('1:a '.repeat(19) + '2:noop'));
    const joint = log(spec('1:a '.repeat(19) + '2:noop 2:joint'));
    // Adding n5 through C_old,new before the no-op commits: safe, as every decision needs a majority of C_old too.
    const c = create(configAfterTermCommit, FOUR);
    c.afterStep!('n2', view('leader', 2, { commitIndex: 19, members: all, joint: false, log: noop }), 20);
    expect(c.afterStep!('n2', view('leader', 2, { commitIndex: 19, members: withN5, joint: true, log: joint }), 21)).toBeUndefined();
    // Leaving the joint phase for C_new changes no member but is seen; then a single-server change of this term is judged again.
    expect(c.afterStep!('n2', view('leader', 2, { commitIndex: 19, members: withN5, joint: false, log: log(spec('1:a '.repeat(19) + '2:noop 2:joint 2:new')) }), 22)).toBeUndefined();
    const v = c.afterStep!('n2', view('leader', 2, { commitIndex: 19, members: all, joint: false, log: log(spec('1:a '.repeat(19) + '2:noop 2:joint 2:new 2:cfg')) }), 23);
    expect(v?.invariant).toBe('config-after-term-commit');
    // A new leader that finds a committed C_old,new (its predecessor's) and moves to C_new, removing a server, is not judged either.
    const d = create(configAfterTermCommit, FOUR);
    d.afterStep!('n2', view('leader', 3, { commitIndex: 21, members: withN5, joint: true, log: log(spec('1:a '.repeat(19) + '2:noop 2:joint 3:noop')) }), 30);
    expect(d.afterStep!('n2', view('leader', 3, { commitIndex: 21, members: all, joint: false, log: log(spec('1:a '.repeat(19) + '2:noop 2:joint 3:noop 3:new')) }), 31)).toBeUndefined();
    // The same joint addition from a view without the field looks like a single-server change, and is flagged.
    const e = create(configAfterTermCommit, FOUR);
    e.afterStep!('n2', view('leader', 2, { commitIndex: 19, members: all, log: noop }), 20);
    expect(e.afterStep!('n2', view('leader', 2, { commitIndex: 19, members: withN5, log: joint }), 21)?.invariant).toBe('config-after-term-commit');
  });

  it('counts a commit inside the snapshot by the snapshot term, and does not judge a node that just became leader', () => {
    const c = create(configAfterTermCommit, FOUR);
    c.afterStep!('n2', view('leader', 2, { commitIndex: 30, members: all, log: log(spec('2:b'), 30, 2) }), 20);
    expect(c.afterStep!('n2', view('leader', 2, { commitIndex: 30, members: withoutN3, log: log(spec('2:b 2:cfg'), 30, 2) }), 21)).toBeUndefined();
    const d = create(configAfterTermCommit, FOUR);
    d.afterStep!('n2', view('candidate', 2, { commitIndex: 19, members: all, log: log(spec('1:a '.repeat(19))) }), 20);
    expect(d.afterStep!('n2', view('leader', 2, { commitIndex: 19, members: withoutN3, log: log(spec('1:a '.repeat(19) + '1:cfg')) }), 21)).toBeUndefined();
  });
});
