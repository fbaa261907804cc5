import { describe, expect, it } from 'vitest';
import { converged, finalMembers } from '../../scenarios/expectations.ts';
import { create, record, view } from '../invariants/helpers.ts';

const state = (appliedIndex: number) => ({ appliedIndex, entries: [['k', `v${appliedIndex}`]] as [string, string][] });

describe('converged', () => {
  it('fires when a live member of the configuration is behind at the end', () => {
    const finalStates = new Map([
      ['n1', state(9)],
      ['n2', state(9)],
      ['n3', state(4)],
    ]);
    const v = create(converged()).finish!(record({ finalStates }));
    expect(v?.message).toBe('node n3 applied up to 4 but n1 up to 9 at the end');
  });

  it('does not judge a live node outside the configuration at the end (never added, or removed)', () => {
    const members = ['n1', 'n2', 'n3'];
    const finalViews = new Map([
      ['n1', view('leader', 2, { commitIndex: 9, members })],
      ['n4', view('follower', 0, { commitIndex: 0, members })],
    ]);
    const finalStates = new Map([
      ['n1', state(9)],
      ['n2', state(9)],
      ['n4', state(0)],
    ]);
    expect(create(converged()).finish!(record({ finalViews, finalStates }))).toBeUndefined();
    // Without members in any view, the initial members are the configuration (n1–n3 here).
    expect(create(converged()).finish!(record({ finalStates }))).toBeUndefined();
  });
});

describe('final-members', () => {
  const change = (members: string[], accepted: boolean, time = 600) => ({ time, leader: 'n1', members, accepted });
  const ended = (members: string[]) => new Map([['n1', view('leader', 2, { commitIndex: 9, members })]]);
  const check = finalMembers(['n1', 'n2', 'n3', 'n4', 'n5']);

  it('an accepted change must be the configuration at the end', () => {
    const membershipChanges = [change(['n1', 'n2', 'n3', 'n4', 'n5'], true)];
    expect(create(check).finish!(record({ membershipChanges, finalViews: ended(['n1', 'n2', 'n3', 'n4', 'n5']) }))).toBeUndefined();
    const v = create(check).finish!(record({ membershipChanges, finalViews: ended(['n1', 'n2', 'n3']) }));
    expect(v?.message).toBe('node n1 ends with members n1,n2,n3; expected n1,n2,n3,n4,n5');
  });

  it('a refused change leaves the configuration as it was: an implementation may refuse (single-server changes only)', () => {
    const membershipChanges = [change(['n1', 'n2', 'n3', 'n4', 'n5'], false)];
    expect(create(check).finish!(record({ membershipChanges, finalViews: ended(['n1', 'n2', 'n3']) }))).toBeUndefined();
    const v = create(check).finish!(record({ membershipChanges, finalViews: ended(['n1', 'n2', 'n3', 'n4']) }));
    expect(v?.message).toMatch(/^node n1 ends with members n1,n2,n3,n4; expected n1,n2,n3 \(the implementation refused every change/);
    // Refused after an accepted one: the accepted one is the target.
    const later = [change(['n1', 'n2', 'n3', 'n4'], true), change(['n1', 'n2', 'n3', 'n4', 'n5'], false, 1200)];
    expect(create(check).finish!(record({ membershipChanges: later, finalViews: ended(['n1', 'n2', 'n3', 'n4']) }))).toBeUndefined();
  });
});
