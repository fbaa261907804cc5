import { describe, expect, it } from 'vitest';
import { durability } from '../../invariants/durability.ts';
import { monotonicity } from '../../invariants/monotonicity.ts';
import { stateMachineSafety } from '../../invariants/state-machine-safety.ts';
import { cmd, create, firstViolation, log, record, spec, view } from './helpers.ts';

describe('monotonicity', () => {
  it('passes rising terms and commits, a restart that keeps term and vote, and a fresh state machine after a crash', () => {
    const c = create(monotonicity);
    expect(firstViolation([
      () => c.afterStep!('n1', view('follower', 1, { commitIndex: 0, votedFor: null }), 1),
      () => c.afterStep!('n1', view('follower', 2, { commitIndex: 3, votedFor: 'n2' }), 2),
      () => c.onApply!('n1', 1, cmd('a'), 3),
      () => c.onApply!('n1', 2, cmd('b'), 3),
      () => c.onRestore!('n1', 5, 4),
      () => { c.onCrash?.('n1', 5); return undefined; },
      () => c.onRestore!('n1', 4, 6), // a restarted node's state machine starts afresh
      () => c.onRestart!('n1', view('follower', 2, { commitIndex: 0, votedFor: 'n2' }), 6),
      () => c.afterStep!('n1', view('follower', 3, { commitIndex: 4, votedFor: null }), 7),
    ])).toBeUndefined();
  });

  it('fires when a live node\'s term goes back', () => {
    const c = create(monotonicity);
    c.afterStep!('n2', view('follower', 5), 1);
    expect(c.afterStep!('n2', view('follower', 4), 2)?.message).toMatch(/n2's term went back from 5 .* to 4/);
  });

  it('fires when commitIndex goes back', () => {
    const c = create(monotonicity);
    c.afterStep!('n2', view('follower', 5, { commitIndex: 9 }), 1);
    expect(c.afterStep!('n2', view('follower', 5, { commitIndex: 7 }), 2)?.message).toMatch(/n2's commitIndex went back from 9 to 7 in term 5/);
  });

  it('fires when a snapshot install takes the applied index back', () => {
    const c = create(monotonicity);
    c.onApply!('n3', 1, cmd('a'), 1);
    c.onRestore!('n3', 8, 2);
    expect(c.onRestore!('n3', 6, 3)?.message).toMatch(/n3 installed a snapshot at index 6 after applying up to index 8/);
  });

  it('fires when a restart forgets the term', () => {
    const c = create(monotonicity);
    c.afterStep!('n1', view('candidate', 7, { votedFor: 'n1' }), 1);
    c.onCrash?.('n1', 2);
    expect(c.onRestart!('n1', view('follower', 6, { votedFor: 'n1' }), 3)?.message).toMatch(/n1 restarted in term 6 but had reached term 7/);
  });

  it('excuses a restart after a storage fault hit the node', () => {
    const c = create(monotonicity);
    c.afterStep!('n1', view('candidate', 7, { votedFor: 'n1' }), 1);
    c.onCrash?.('n1', 2);
    c.onStorageFault?.('n1', 2);
    expect(c.onRestart!('n1', view('follower', 0, { votedFor: null }), 3)).toBeUndefined();
  });

  it('fires when a restart forgets the vote of its term', () => {
    const c = create(monotonicity);
    c.afterStep!('n1', view('follower', 7, { votedFor: 'n3' }), 1);
    c.onCrash?.('n1', 2);
    expect(c.onRestart!('n1', view('follower', 7, { votedFor: null }), 3)?.message).toMatch(/n1 restarted in term 7 with votedFor null but had voted for n3/);
  });
});

describe('state-machine-safety', () => {
  const put = (id: string, key: string, value: string) => cmd(id, { type: 'put', key, value });
  const append = (id: string, key: string, value: string) => cmd(id, { type: 'append', key, value });

  it('passes agreeing applies, a snapshot, no-ops and deduplicated retries; final states equal the fold', () => {
    const c = create(stateMachineSafety);
    expect(firstViolation([
      () => c.onApply!('n1', 1, { type: 'noop' }, 1),
      () => c.onApply!('n1', 2, put('c1.1', 'x', 'A'), 2),
      () => c.onApply!('n1', 3, append('c1.2', 'x', 'B'), 3),
      () => c.onApply!('n1', 4, append('c1.2', 'x', 'B'), 4), // a retried command, applied once
      () => c.onApply!('n2', 1, { type: 'noop' }, 5),
      () => c.onApply!('n2', 2, put('c1.1', 'x', 'A'), 6),
      () => c.onRestore!('n3', 4, 7),
      () => c.onApply!('n3', 5, append('c2.1', 'y', 'C'), 8),
      () => c.finish!(record({
        finalStates: new Map([
          ['n1', { appliedIndex: 4, entries: [['x', 'AB']] }],
          ['n2', { appliedIndex: 2, entries: [['x', 'A']] }],
          ['n3', { appliedIndex: 5, entries: [['x', 'AB'], ['y', 'C']] }],
        ]),
      })),
    ])).toBeUndefined();
  });

  it('fires when two nodes apply different commands at one index', () => {
    const c = create(stateMachineSafety);
    c.onApply!('n1', 1, put('c1.1', 'x', 'A'), 1);
    const v = c.onApply!('n2', 1, put('c2.1', 'x', 'B'), 2);
    expect(v?.invariant).toBe('state-machine-safety');
    expect(v?.message).toMatch(/n2 applied c2\.1 at index 1, but n1 applied c1\.1 there/);
  });

  it('fires when a snapshot holds state no node applied', () => {
    const c = create(stateMachineSafety);
    c.onApply!('n1', 1, put('c1.1', 'x', 'A'), 1);
    expect(c.onRestore!('n2', 3, 2)?.message).toMatch(/n2 installed a snapshot at index 3, but no node has applied beyond index 1/);
  });

  it('judges a node that ended below the others (a late restart) from the start, and the others from where the run had folded', () => {
    const cmds = [put('c1.1', 'x', 'A'), append('c1.2', 'x', 'B'), append('c1.3', 'x', 'C'), append('c1.4', 'x', 'D')];
    const run = () => {
      const c = create(stateMachineSafety);
      for (const node of ['n1', 'n2', 'n3']) cmds.forEach((command, i) => c.onApply!(node, i + 1, command, i));
      // n3 restarts with an empty state machine and applies again, up to index 2 only.
      c.onApply!('n3', 1, cmds[0], 10);
      c.onApply!('n3', 2, cmds[1], 11);
      return c;
    };
    const finalStates = (n3: string, n1: string) => new Map([
      ['n1', { appliedIndex: 4, entries: [['x', n1]] as [string, string][] }],
      ['n3', { appliedIndex: 2, entries: [['x', n3]] as [string, string][] }],
    ]);
    expect(run().finish!(record({ finalStates: finalStates('AB', 'ABCD') }))).toBeUndefined();
    expect(run().finish!(record({ finalStates: finalStates('ABC', 'ABCD') }))?.message).toMatch(
      /n3's state machine at applied index 2 is not the fold of the commands applied at 1\.\.2: key "x" holds "ABC" but the commands give "AB"/,
    );
    expect(run().finish!(record({ finalStates: finalStates('AB', 'ABC') }))?.message).toMatch(
      /n1's state machine at applied index 4 is not the fold of the commands applied at 1\.\.4: key "x" holds "ABC" but the commands give "ABCD"/,
    );
  });

  it('fires when a final state is not the fold of the applied commands', () => {
    const c = create(stateMachineSafety);
    c.onApply!('n1', 1, put('c1.1', 'x', 'A'), 1);
    c.onApply!('n1', 2, append('c1.2', 'x', 'B'), 2);
    const v = c.finish!(record({ finalStates: new Map([['n1', { appliedIndex: 2, entries: [['x', 'A']] }]]) }));
    expect(v?.message).toMatch(/n1's state machine at applied index 2 .*key "x" holds "A" but the commands give "AB"/);
  });
});

describe('durability', () => {
  const append = (id: string, value: string) => cmd(id, { type: 'append', key: 'k', value });
  const put = (id: string, value: string) => cmd(id, { type: 'put', key: 'k', value });

  it('passes when every later leader holds the acknowledged writes and the final state shows them', () => {
    const c = create(durability);
    const a = append('c1.1', 'a;');
    const b = append('c1.2', 'b;');
    expect(firstViolation([
      () => c.afterStep!('n1', view('leader', 1, { log: log([[1, a], [1, b]]) }), 1),
      () => c.afterStep!('n2', view('follower', 1, { log: log([[1, a]]) }), 2),
      () => c.onApply!('n1', 1, a, 3),
      () => c.onApply!('n1', 2, b, 3),
      () => c.onAcknowledged!(a, 'n1', 1, 4),
      () => c.onAcknowledged!(b, 'n1', 2, 4),
      () => c.afterStep!('n2', view('follower', 1, { log: log([[1, a], [1, b]]) }), 5),
      () => c.afterStep!('n2', view('leader', 2, { log: log([[1, a], [1, b]]) }), 6),
      () => c.afterStep!('n3', view('leader', 3, { log: log([], 2, 1) }), 7), // under a snapshot
      () => c.finish!(record({ finalStates: new Map([['n1', { appliedIndex: 2, entries: [['k', 'a;b;']] }]]) })),
    ])).toBeUndefined();
  });

  it('passes when a later put overwrote an acknowledged append', () => {
    const c = create(durability);
    const a = append('c1.1', 'a;');
    const p = put('c2.1', 'P');
    c.onApply!('n1', 1, a, 1);
    c.onAcknowledged!(a, 'n1', 1, 2);
    c.onApply!('n1', 2, p, 3);
    expect(c.finish!(record({ finalStates: new Map([['n1', { appliedIndex: 2, entries: [['k', 'P']] }]]) }))).toBeUndefined();
  });

  it('judges a put applied again later (a duplicate) by the puts between, as written', () => {
    const c = create(durability);
    const x = put('c1.1', 'X');
    const y = put('c2.1', 'Y');
    c.onApply!('n1', 1, x, 1);
    c.onAcknowledged!(x, 'n1', 1, 2);
    c.onApply!('n1', 2, y, 3);
    c.onApply!('n1', 3, x, 4); // deduplicated by the state machine: no effect
    expect(c.finish!(record({ finalStates: new Map([['n1', { appliedIndex: 3, entries: [['k', 'Y']] }]]) }))).toBeUndefined();
    // Without the put between, the write must show.
    const d = create(durability);
    d.onApply!('n1', 1, x, 1);
    d.onAcknowledged!(x, 'n1', 1, 2);
    d.onApply!('n1', 2, append('c2.1', 'a;'), 3);
    d.onApply!('n1', 3, x, 4);
    expect(d.finish!(record({ finalStates: new Map([['n1', { appliedIndex: 3, entries: [['k', 'Za;']] }]]) }))?.message).toMatch(/lost the acknowledged put c1\.1/);
  });

  it('judges writes acknowledged out of index order as if they came in order', () => {
    // a.3 is acknowledged before a.1; the put at 2 supersedes a.1 only. Kept in arrival order,
    // the writes from the last put up would be looked for in the wrong place and a.3 missed.
    const c = create(durability);
    const a1 = append('a.1', '1;');
    const p = put('p.1', 'P');
    const a3 = append('a.3', '3;');
    c.onApply!('n1', 1, a1, 1);
    c.onApply!('n1', 2, p, 1);
    c.onApply!('n1', 3, a3, 1);
    c.onAcknowledged!(a3, 'n1', 3, 2);
    c.onAcknowledged!(a1, 'n1', 1, 3);
    expect(c.finish!(record({ finalStates: new Map([['n1', { appliedIndex: 3, entries: [['k', 'P3;']] }]]) }))).toBeUndefined();
    expect(c.finish!(record({ finalStates: new Map([['n1', { appliedIndex: 3, entries: [['k', 'P']] }]]) }))?.message).toMatch(
      /n1's final state \(applied index 3\) lost the acknowledged append a\.3 of "3;" to key "k" \(index 3/,
    );
  });

  it('fires when a leader elected after the acknowledgement lacks the write', () => {
    const c = create(durability);
    const a = append('c1.1', 'a;');
    c.afterStep!('n1', view('leader', 1, { log: log([[1, a]]) }), 1);
    c.afterStep!('n3', view('follower', 1, { log: log([]) }), 1);
    c.onApply!('n1', 1, a, 2);
    c.onAcknowledged!(a, 'n1', 1, 3);
    const v = c.afterStep!('n3', view('leader', 2, { log: log(spec('2:noop')) }), 4);
    expect(v?.invariant).toBe('durability');
    expect(v?.message).toMatch(/n3 became leader of term 2 .* without the acknowledged write c1\.1 at index 1 \(applied by n1.*it has term 2 \{"type":"noop"\} there/);
  });

  it('lets a leader of the acknowledging term or an older one, elected late, lack the write (Leader Completeness is about later terms)', () => {
    // n3 campaigned in term 2 and its votes, granted before the write existed, arrive late: it
    // wins term 2 after n2, leader of term 3, acknowledged a write. Legal in Raft: n3 can never
    // commit in term 2 (a majority has moved to term 3). A leader of term 4 lacking it is a bug.
    const c = create(durability);
    const a = append('c1.1', 'a;');
    c.afterStep!('n3', view('candidate', 2, { log: log([]) }), 1);
    c.afterStep!('n2', view('leader', 3, { log: log(spec('3:noop').concat([[3, a]])) }), 2);
    c.onApply!('n2', 2, a, 3);
    c.onAcknowledged!(a, 'n2', 2, 4);
    expect(c.afterStep!('n3', view('leader', 2, { log: log(spec('2:noop')) }), 5)).toBeUndefined();
    expect(c.afterStep!('n3', view('leader', 4, { log: log(spec('2:noop 4:noop')) }), 7)?.message).toMatch(/n3 became leader of term 4 .* without the acknowledged write c1\.1 at index 2 \(applied by n2/);
  });

  it('fires when the final state lost an acknowledged append', () => {
    const c = create(durability);
    const a = append('c1.1', 'a;');
    const b = append('c1.2', 'b;');
    c.onApply!('n2', 1, a, 1);
    c.onApply!('n2', 2, b, 1);
    c.onAcknowledged!(a, 'n2', 1, 2);
    const v = c.finish!(record({ finalStates: new Map([['n2', { appliedIndex: 2, entries: [['k', 'b;']] }]]) }));
    expect(v?.message).toMatch(/n2's final state \(applied index 2\) lost the acknowledged append c1\.1 of "a;" to key "k" \(index 1/);
  });

  it('fires on two different writes acknowledged at one index', () => {
    const c = create(durability);
    c.onAcknowledged!(append('c1.1', 'a;'), 'n1', 4, 1);
    expect(c.onAcknowledged!(append('c2.1', 'b;'), 'n2', 4, 2)?.message).toMatch(/two different writes were acknowledged at index 4: c1\.1 \(by n1.*c2\.1 \(by n2/);
  });
});
