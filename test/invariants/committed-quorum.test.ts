import { describe, expect, it } from 'vitest';
import { committedQuorum } from '../../invariants/committed-quorum.ts';
import type { ClusterInfo } from '../../invariants/types.ts';
import { create, log, spec, view } from './helpers.ts';

const FIVE: ClusterInfo = { nodes: ['n1', 'n2', 'n3', 'n4', 'n5'], initialMembers: ['n1', 'n2', 'n3', 'n4', 'n5'], electionTimeoutMaxMs: 300 };
const members = FIVE.nodes;

/** Five servers: n1 leads term 2 and has committed index 3 ("1:a 2:b 2:c"), held by n1, n2, n3 — a bare quorum; n4, n5 lag. */
function committedOnBareQuorum() {
  const c = create(committedQuorum, FIVE);
  const full = log(spec('1:a 2:b 2:c'));
  c.afterStep!('n1', view('leader', 2, { commitIndex: 3, members, log: full }), 10);
  c.afterStep!('n2', view('follower', 2, { commitIndex: 2, members, log: full }), 11);
  c.afterStep!('n3', view('follower', 2, { commitIndex: 2, members, log: full }), 12);
  c.afterStep!('n4', view('follower', 2, { commitIndex: 1, members, log: log(spec('1:a')) }), 13);
  c.afterStep!('n5', view('follower', 2, { commitIndex: 1, members, log: log(spec('1:a')) }), 14);
  return c;
}

describe('committed-quorum', () => {
  it('fires when a restart takes a committed entry from a server the quorum needed (acknowledged, never synced)', () => {
    const c = committedOnBareQuorum();
    c.onCrash!('n3', 20);
    // n3 comes back without index 3: it had acknowledged it before syncing.
    const v = c.onRestart!('n3', view('follower', 2, { commitIndex: 0, members, log: log(spec('1:a 2:b')) }), 30);
    expect(v?.invariant).toBe('committed-quorum');
    expect(v?.message).toMatch(/n3 restarted at 30\.0 ms without its entry at index 3 \(term 2 c\), which was committed; now only 2 server\(s\) hold it \(n1, n2; a quorum is 3\)/);
  });

  it('passes a restart that keeps what it synced, loses only what was never committed, or loses what a quorum still holds', () => {
    const c = committedOnBareQuorum();
    c.onCrash!('n3', 20);
    expect(c.onRestart!('n3', view('follower', 2, { commitIndex: 0, members, log: log(spec('1:a 2:b 2:c')) }), 30)).toBeUndefined();
    // An uncommitted entry (index 4, on n1 alone) lost by the leader's crash.
    c.afterStep!('n1', view('leader', 2, { commitIndex: 3, members, log: log(spec('1:a 2:b 2:c 2:d')) }), 40);
    c.onCrash!('n1', 50);
    expect(c.onRestart!('n1', view('follower', 2, { commitIndex: 0, members, log: log(spec('1:a 2:b 2:c')) }), 60)).toBeUndefined();
    // n4 catches up: index 3 is on four servers, and n2 may lose it.
    c.afterStep!('n4', view('follower', 2, { commitIndex: 3, members, log: log(spec('1:a 2:b 2:c')) }), 70);
    c.onCrash!('n2', 80);
    expect(c.onRestart!('n2', view('follower', 2, { commitIndex: 0, members, log: log(spec('1:a 2:b')) }), 90)).toBeUndefined();
  });

  it('knows an entry committed from any server that showed a commit over it, not only the restarted one', () => {
    const c = committedOnBareQuorum();
    // n3 had shown commitIndex 2 only; the leader's commit of 3 is what makes its loss count.
    c.onCrash!('n3', 20);
    expect(c.onRestart!('n3', view('follower', 2, { commitIndex: 0, members, log: log(spec('1:a 2:b')) }), 30)?.invariant).toBe('committed-quorum');
  });

  it('counts a snapshot as holding, and excuses a server a storage fault hit', () => {
    const c = committedOnBareQuorum();
    c.onCrash!('n3', 20);
    // Compacted into a snapshot through index 3: nothing lost.
    expect(c.onRestart!('n3', view('follower', 2, { commitIndex: 3, members, log: log([], 3, 2) }), 30)).toBeUndefined();
    const d = committedOnBareQuorum();
    d.onStorageFault!('n3', 15);
    d.onCrash!('n3', 20);
    expect(d.onRestart!('n3', view('follower', 2, { commitIndex: 0, members, log: log(spec('1:a 2:b')) }), 30)).toBeUndefined();
  });
});
