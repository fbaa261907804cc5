import { describe, expect, it } from 'vitest';
import { catchUp, catchUpChecker } from '../../invariants/catch-up.ts';
import { livenessAfterHeal, livenessAfterHealChecker } from '../../invariants/liveness-after-heal.ts';
import { progressUnderMajority } from '../../invariants/progress-under-majority.ts';
import { CLUSTER, allPairs, create, feed, op, record, status, view } from './helpers.ts';

const ALL = ['n1', 'n2', 'n3'];
const put = (value: string) => ({ type: 'put', key: 'k', value }) as const;

describe('liveness-after-heal', () => {
  it('passes a single leader and a committed write soon after the heal', () => {
    const c = create(livenessAfterHeal);
    c.afterStep!('n1', view('leader', 1, { commitIndex: 3 }), 100);
    c.afterStep!('n2', view('follower', 1), 100);
    c.onCrash!('n1', 500);
    c.onRestart!('n1', view('follower', 1), 1000); // the heal restarts n1
    c.afterStep!('n2', view('leader', 2, { commitIndex: 3 }), 1400);
    c.afterStep!('n1', view('follower', 2), 1410);
    feed(c, [op('c1', put('a'), 1500, 1600)]);
    expect(c.finish!(record({ healedAt: 1000, endTime: 5000 }))).toBeUndefined();
  });

  it('passes on a commitIndex advance alone, and does not judge a run too short for the bound', () => {
    const c = create(livenessAfterHeal);
    c.afterStep!('n1', view('leader', 2, { commitIndex: 3 }), 1100);
    c.afterStep!('n1', view('leader', 2, { commitIndex: 4 }), 1200);
    feed(c, [op('c1', put('a'), 1000, undefined)]);
    expect(c.finish!(record({ healedAt: 1000, endTime: 5000 }))).toBeUndefined();
    const d = create(livenessAfterHeal);
    expect(d.finish!(record({ healedAt: 1000, endTime: 2000 }))).toBeUndefined();
  });

  it('fires when no single leader emerges within the bound', () => {
    const c = create(livenessAfterHealChecker({ boundMs: 1000 }));
    c.afterStep!('n1', view('leader', 3), 100);
    c.afterStep!('n2', view('leader', 4), 200); // n1, stale, never hears of term 4
    const v = c.finish!(record({ healedAt: 500, endTime: 3000 }));
    expect(v?.invariant).toBe('liveness-after-heal');
    expect(v?.message).toMatch(/no single leader within 1000 ms after the heal at 500\.0 ms: .*n1 \(term 3\), n2 \(term 4\)/);
  });

  it('fires when a leader exists but no write commits', () => {
    const c = create(livenessAfterHeal);
    c.afterStep!('n2', view('leader', 5, { commitIndex: 7 }), 1100);
    c.afterStep!('n2', view('leader', 5, { commitIndex: 7 }), 3000);
    feed(c, [op('c1', put('a'), 1200, undefined)]);
    const v = c.finish!(record({ healedAt: 1000, endTime: 5000 }));
    expect(v?.message).toMatch(/no write committed within 3000 ms after the heal at 1000\.0 ms: leader n2 of term 5/);
  });
});

describe('progress-under-majority', () => {
  const statuses = [
    status(0, ALL, allPairs(ALL), { whole: true }),
    status(1000, ALL, [['n1', 'n2']]), // n3 cut off: n1, n2 are a majority
    status(9000, ALL, allPairs(ALL), { whole: true }),
  ];

  it('passes when writes complete while a majority is connected', () => {
    const c = create(progressUnderMajority);
    feed(c, [op('c1', put('a'), 1500, 1700), op('c1', put('b'), 4000, undefined)]);
    expect(c.finish!(record({ statuses, endTime: 10000 }))).toBeUndefined();
  });

  it('does not judge windows without client writes, short windows, or impaired links', () => {
    const fed = (history: Parameters<typeof feed>[1]) => {
      const c = create(progressUnderMajority);
      feed(c, history);
      return c;
    };
    expect(fed([op('c1', { type: 'get', key: 'k' }, 2000, undefined)]).finish!(record({ statuses, endTime: 10000 }))).toBeUndefined();
    const short = [status(0, ALL, allPairs(ALL)), status(1000, ALL, [['n1', 'n2']]), status(3000, ALL, allPairs(ALL))];
    expect(fed([op('c1', put('a'), 1500, undefined)]).finish!(record({ statuses: short, endTime: 4000 }))).toBeUndefined();
    const impaired = statuses.map((s, i) => (i === 1 ? { ...s, impaired: true } : s));
    expect(fed([op('c1', put('a'), 1500, undefined)]).finish!(record({ statuses: impaired, endTime: 9000 }))).toBeUndefined();
  });

  it('does not judge a majority that a connected outsider could disrupt', () => {
    const c = create(progressUnderMajority);
    // n3 reaches n1 only: n1-n2 is a majority, but not cut off from n3.
    const bridged = [status(0, ALL, [['n1', 'n2'], ['n1', 'n3']])];
    feed(c, [op('c1', put('a'), 100, undefined)]);
    expect(c.finish!(record({ statuses: bridged, endTime: 9000 }))).toBeUndefined();
  });

  it('fires when no write completes during a long window with a connected majority', () => {
    const c = create(progressUnderMajority);
    feed(c, [op('c1', put('a'), 1500, undefined)]);
    const v = c.finish!(record({ statuses, endTime: 10000 }));
    expect(v?.invariant).toBe('progress-under-majority');
    expect(v?.message).toMatch(/no client write completed from 1000\.0 ms to 9000\.0 ms although n1,n2 .* write #\d+ of c1 was invoked at 1500\.0 ms/);
  });

  it('takes the majority from the configurations views show', () => {
    const c = create(progressUnderMajority);
    // The cluster grew to five members: n1, n2 are no longer a majority of it.
    c.afterStep!('n1', view('leader', 2, { members: ['n1', 'n2', 'n3', 'n4', 'n5'] }), 500);
    feed(c, [op('c1', put('a'), 1500, undefined)]);
    expect(c.finish!(record({ statuses, endTime: 10000 }))).toBeUndefined();
  });
});

describe('catch-up', () => {
  it('passes when every live member reaches the commit index', () => {
    const c = create(catchUp);
    c.afterStep!('n1', view('leader', 2, { commitIndex: 10, members: ALL }), 1500);
    const finalViews = new Map([
      ['n1', view('leader', 2, { commitIndex: 12 })],
      ['n2', view('follower', 2, { commitIndex: 10 })],
      ['n3', view('follower', 2, { commitIndex: 11 })],
    ]);
    expect(c.finish!(record({ healedAt: 1000, endTime: 5000, finalViews }))).toBeUndefined();
  });

  it('ignores non-members, and runs too short after the heal', () => {
    const c = create(catchUp);
    c.afterStep!('n1', view('leader', 2, { commitIndex: 10, members: ['n1', 'n2'] }), 1500);
    const finalViews = new Map([['n3', view('follower', 2, { commitIndex: 0 })]]);
    expect(c.finish!(record({ healedAt: 1000, endTime: 5000, finalViews }))).toBeUndefined();
    const d = create(catchUpChecker({ boundMs: 10_000 }));
    d.afterStep!('n1', view('leader', 2, { commitIndex: 10 }), 1500);
    expect(d.finish!(record({ healedAt: 1000, endTime: 5000, finalViews }))).toBeUndefined();
  });

  it('fires when a live follower stays behind the leader long after the heal', () => {
    const c = create(catchUp, CLUSTER);
    c.afterStep!('n1', view('leader', 2, { commitIndex: 10 }), 1500);
    const finalViews = new Map([
      ['n1', view('leader', 2, { commitIndex: 10 })],
      ['n3', view('follower', 2, { commitIndex: 4 })],
    ]);
    const v = c.finish!(record({ healedAt: 1000, endTime: 5000, finalViews }));
    expect(v?.invariant).toBe('catch-up');
    expect(v?.message).toMatch(/n3 did not catch up after the heal at 1000\.0 ms: its commitIndex is 4 .* a leader had committed index 10 by 1500\.0 ms, more than 3000 ms earlier, and its commitIndex was never seen to rise/);
  });

  it('passes a follower still advancing toward the leader at the end, however slowly; fires once it stands still for the bound', () => {
    const climb = (lastRise: number) => {
      const c = create(catchUp, CLUSTER);
      c.afterStep!('n1', view('leader', 2, { commitIndex: 200 }), 1500);
      // n3 commits one entry per 50 ms heartbeat from the heal on, until lastRise.
      let commit = 0;
      for (let t = 1000; t <= lastRise; t += 50) c.afterStep!('n3', view('follower', 2, { commitIndex: ++commit }), t);
      const finalViews = new Map([
        ['n1', view('leader', 2, { commitIndex: 200 })],
        ['n3', view('follower', 2, { commitIndex: commit })],
      ]);
      return c.finish!(record({ healedAt: 1000, endTime: 5000, finalViews }));
    };
    expect(climb(4950)).toBeUndefined(); // 80 of 200 at the end, but rising
    const v = climb(1900); // stuck at 19 from 1.9 s: the whole bound (2 s to 5 s) without a rise
    expect(v?.invariant).toBe('catch-up');
    expect(v?.message).toMatch(/n3 did not catch up .* its commitIndex is 19 .* and its commitIndex has not risen since 1900\.0 ms/);
  });
});

describe('nodes hit by storage faults are not owed liveness (they may stay fenced, or stop for good as etcd does)', () => {
  it('liveness-after-heal: not judged once damaged nodes are half the configuration; judged while the undamaged are a majority', () => {
    const noLeader = (damaged: string[], members?: string[]) => {
      const c = create(livenessAfterHealChecker({ boundMs: 1000 }));
      for (const node of damaged) c.onStorageFault!(node, 200);
      const finalViews = new Map(members ? [['n1', view('follower', 2, { members })]] : []);
      return c.finish!(record({ healedAt: 500, endTime: 3000, finalViews }));
    };
    expect(noLeader([])?.invariant).toBe('liveness-after-heal');
    expect(noLeader(['n3'])?.invariant).toBe('liveness-after-heal'); // n1, n2 are a majority of three
    expect(noLeader(['n2', 'n3'])).toBeUndefined();
    // The configuration the final views show counts: of {n1, n3} one damaged node is half.
    expect(noLeader(['n3'], ['n1', 'n3'])).toBeUndefined();
  });

  it('catch-up: a damaged node may stay behind, an undamaged one may not', () => {
    const finalViews = new Map([
      ['n1', view('leader', 2, { commitIndex: 10 })],
      ['n3', view('follower', 2, { commitIndex: 4 })],
    ]);
    const c = create(catchUp, CLUSTER);
    c.afterStep!('n1', view('leader', 2, { commitIndex: 10 }), 1500);
    c.onStorageFault!('n3', 800);
    expect(c.finish!(record({ healedAt: 1000, endTime: 5000, finalViews }))).toBeUndefined();
    const d = create(catchUp, CLUSTER);
    d.afterStep!('n1', view('leader', 2, { commitIndex: 10 }), 1500);
    d.onStorageFault!('n2', 800);
    expect(d.finish!(record({ healedAt: 1000, endTime: 5000, finalViews }))?.invariant).toBe('catch-up');
    // With two of three damaged no leader is owed, and so no catch-up either.
    d.onStorageFault!('n1', 900);
    expect(d.finish!(record({ healedAt: 1000, endTime: 5000, finalViews }))).toBeUndefined();
  });

  it('progress-under-majority: a connected majority that needs a damaged node is not judged', () => {
    const statuses = [status(0, ALL, allPairs(ALL), { whole: true }), status(1000, ALL, [['n1', 'n2']]), status(9000, ALL, allPairs(ALL), { whole: true })];
    const c = create(progressUnderMajority);
    c.onStorageFault!('n2', 500);
    feed(c, [op('c1', put('a'), 1500, undefined)]);
    expect(c.finish!(record({ statuses, endTime: 10000 }))).toBeUndefined();
    const d = create(progressUnderMajority);
    d.onStorageFault!('n3', 500); // outside the group: n1, n2 still a majority
    feed(d, [op('c1', put('a'), 1500, undefined)]);
    expect(d.finish!(record({ statuses, endTime: 10000 }))?.invariant).toBe('progress-under-majority');
  });
});
