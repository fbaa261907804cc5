import { describe, expect, it } from 'vitest';
import { converged } from '../../scenarios/expectations.ts';
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
