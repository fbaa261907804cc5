import { describe, expect, it } from 'vitest';
import { leadershipStability, leadershipStabilityChecker } from '../../invariants/leadership-stability.ts';
import { create, record, view } from './helpers.ts';

describe('leadership-stability', () => {
  it('passes a cluster that elects a few leaders around the heal and then keeps one', () => {
    const c = create(leadershipStability);
    c.afterStep!('n1', view('leader', 1), 100);
    c.afterStep!('n2', view('leader', 2), 900); // faults before the heal: any number of elections
    c.afterStep!('n3', view('leader', 3), 1100);
    c.afterStep!('n1', view('leader', 4), 1200);
    c.afterStep!('n2', view('leader', 5), 1250);
    c.afterStep!('n2', view('leader', 5), 2000); // the same leadership again
    c.afterStep!('n3', view('follower', 5), 2000);
    c.afterStep!('n1', view('leader', 6), 2500); // one more late election (a transfer in flight)
    expect(c.finish!(record({ healedAt: 1000, endTime: 6000 }))).toBeUndefined();
  });

  it('fires when leaders keep changing long after the heal with nothing failing', () => {
    const c = create(leadershipStability);
    c.afterStep!('n1', view('leader', 2), 1100);
    // A server deposes the leader every 400 ms: terms 4, 6, 8, ...
    for (let k = 0; k < 10; k++) c.afterStep!(`n${(k % 3) + 1}`, view('leader', 4 + 2 * k), 2000 + 400 * k);
    const v = c.finish!(record({ healedAt: 1000, endTime: 6000 }));
    expect(v?.invariant).toBe('leadership-stability');
    expect(v?.message).toMatch(/^10 new leaders after 1600\.0 ms \(the heal at 1000\.0 ms plus 600 ms\), with nothing failing; at most 5 expected: n1 \(term 4\) at 2000\.0 ms/);
  });

  it('does not judge a run that never healed, and counts only leaderships of higher terms', () => {
    const c = create(leadershipStabilityChecker({ slack: 1 }));
    for (let k = 0; k < 10; k++) c.afterStep!('n1', view('leader', 3), 2000 + 100 * k);
    expect(c.finish!(record({ healedAt: undefined, endTime: 6000 }))).toBeUndefined();
    expect(c.finish!(record({ healedAt: 1000, endTime: 6000 }))).toBeUndefined();
  });
});
