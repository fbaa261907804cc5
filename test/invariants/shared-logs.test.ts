import { describe, expect, it } from 'vitest';
import type { LogView, NodeId, NodeView } from '../../src/adapter/contract.ts';
import { durability } from '../../invariants/durability.ts';
import { electionSafety } from '../../invariants/election-safety.ts';
import { leaderAppendOnly } from '../../invariants/leader-append-only.ts';
import { leaderCompleteness } from '../../invariants/leader-completeness.ts';
import { logMatching } from '../../invariants/log-matching.ts';
import type { Checker, ClusterInfo, Violation } from '../../invariants/types.ts';
import { INDEX_CHUNK, IndexWindow, LogMirror, Observations, VIEW_COMMIT, VIEW_LOG, VIEW_MEMBERS, VIEW_STATE, timeChunk } from '../../invariants/util.ts';
import { cmd, create, log, spec, view } from './helpers.ts';

/** A fresh run: its own ClusterInfo object, every log checker created for it, offered each step in turn as the engine does. */
/** A LogView over `entries` (term, command) that follows every later change to them, as a live log view does. */
function liveLog(entries: [number, unknown][]): LogView {
  return {
    snapshotIndex: 0,
    snapshotTerm: 0,
    get lastIndex() {
      return entries.length;
    },
    termAt: (i) => entries[i - 1]![0],
    commandAt: (i) => entries[i - 1]![1],
  };
}

function run() {
  const cluster: ClusterInfo = { nodes: ['n1', 'n2', 'n3'], initialMembers: ['n1', 'n2', 'n3'], electionTimeoutMaxMs: 300 };
  const checkers: Checker[] = [logMatching, leaderAppendOnly, leaderCompleteness, durability].map((d) => d.create(cluster));
  return (node: NodeId, v: NodeView, time: number): Violation | undefined => {
    for (const c of checkers) {
      const violation = c.afterStep?.(node, v, time);
      if (violation) return violation;
    }
    return undefined;
  };
}

describe('log checkers sharing one mirror per node', () => {
  it('each still fires on its own violation when all four read the same mirrors', () => {
    let step = run();
    step('n1', view('leader', 2, { log: log(spec('1:a 2:b')), commitIndex: 0 }), 1);
    expect(step('n2', view('follower', 2, { log: log(spec('1:a 2:x')), commitIndex: 0 }), 2)?.invariant).toBe('log-matching');

    step = run();
    step('n1', view('leader', 2, { log: log(spec('1:a 2:b')), commitIndex: 0 }), 1);
    expect(step('n1', view('leader', 2, { log: log(spec('1:a')), commitIndex: 0 }), 2)?.invariant).toBe('leader-append-only');

    step = run();
    step('n1', view('leader', 1, { log: log(spec('1:a 1:b')), commitIndex: 2 }), 1);
    step('n1', view('follower', 2, { log: log(spec('1:a 1:b')), commitIndex: 2 }), 2);
    expect(step('n2', view('leader', 3, { log: log(spec('1:a')), commitIndex: 1 }), 3)?.invariant).toBe('leader-completeness');
  });

  it('updates a mirror once per step, and again for a new view of the same node', () => {
    const shared = Observations.forRun({ nodes: ['n1'] });
    const a = shared.subscribe();
    const b = shared.subscribe();
    const first = log(spec('1:a 1:b'));
    expect(shared.sync(a, 0, first).change).toMatchObject({ from: 1, newLast: 2 });
    expect(shared.sync(b, 0, first).change).toMatchObject({ from: 1, newLast: 2 }); // the same change, read again
    const second = log(spec('1:a 1:b 1:c'));
    expect(shared.sync(a, 0, second).change).toMatchObject({ from: 3, newLast: 3 });
    expect(shared.sync(b, 0, second).change).toMatchObject({ from: 3, newLast: 3 });
    // One subscriber alone: every call is a step.
    expect(shared.sync(a, 0, second).change).toMatchObject({ from: 4, newLast: 3 });
  });

  it('one afterStep per run drives every step checker created with it, in order; a checker created later drives itself', async () => {
    const cluster: ClusterInfo = { nodes: ['n1', 'n2'], initialMembers: ['n1', 'n2'], electionTimeoutMaxMs: 300 };
    const [first, second] = [electionSafety, logMatching].map((d) => d.create(cluster));
    expect(first!.afterStep).toBeDefined();
    expect(second!.afterStep).toBeUndefined();
    first!.afterStep!('n1', view('leader', 1, { log: log(spec('1:a')) }), 1);
    // log-matching's violation comes through the one hook.
    expect(first!.afterStep!('n2', view('follower', 1, { log: log(spec('1:b')) }), 2)?.invariant).toBe('log-matching');
    await Promise.resolve();
    const later = logMatching.create(cluster);
    expect(later.afterStep).toBeDefined();
  });

  it('skips a step on an unchanged view, yet judges one whose log changed under the same view object', () => {
    // The reference Raft hands out one frozen view while only its (live) log changes.
    const entries: [number, unknown][] = [[1, cmd('a')], [2, cmd('b')]];
    const live = liveLog(entries);
    const leader = view('leader', 2, { log: live, commitIndex: 0 });
    const appendOnly = create(leaderAppendOnly);
    expect(appendOnly.afterStep!('n1', leader, 1)).toBeUndefined();
    expect(appendOnly.afterStep!('n1', leader, 2)).toBeUndefined(); // unchanged: skipped
    entries[1] = [2, cmd('x')]; // same length, same last term, another last command
    expect(appendOnly.afterStep!('n1', leader, 3)?.invariant).toBe('leader-append-only');

    // Log matching through the same path: a follower's entry rewritten under an unchanged view object.
    entries.splice(0, entries.length, [1, cmd('a')], [2, cmd('b')]);
    const step = run();
    const follower = view('follower', 2, { log: live, commitIndex: 0 });
    step('n1', view('leader', 2, { log: log(spec('1:a 2:b')), commitIndex: 0 }), 1);
    expect(step('n2', follower, 2)).toBeUndefined();
    expect(step('n2', follower, 3)).toBeUndefined();
    entries[1] = [2, cmd('y')];
    expect(step('n2', follower, 4)?.invariant).toBe('log-matching');
  });

  it('calls each step only at steps that changed a view part it reads', () => {
    const cluster = { nodes: ['n1'] };
    const shared = Observations.forRun(cluster);
    const calls: string[] = [];
    const hook = shared.stepHook((_n, _v, time) => void calls.push(`state@${time}`), VIEW_STATE)!;
    shared.stepHook((_n, _v, time) => void calls.push(`commit@${time}`), VIEW_COMMIT);
    shared.stepHook((_n, _v, time) => void calls.push(`log@${time}`), VIEW_LOG);
    shared.stepHook((_n, _v, time) => void calls.push(`members@${time}`), VIEW_MEMBERS);
    shared.stepHook((_n, _v, time) => void calls.push(`every@${time}`));
    const entries = log(spec('1:a'));
    const members = ['n1', 'n2', 'n3'];
    hook('n1', view('follower', 1, { log: entries, commitIndex: 0, members }), 1); // first view: every part
    hook('n1', view('follower', 1, { log: entries, commitIndex: 0, members: [...members] }), 2); // nothing changed (an equal new list)
    hook('n1', view('follower', 1, { log: entries, commitIndex: 1, members }), 3);
    const longer = log(spec('1:a 1:b'));
    hook('n1', view('follower', 1, { log: longer, commitIndex: 1, members }), 4);
    hook('n1', view('candidate', 2, { log: longer, commitIndex: 1, members }), 5);
    const live = ['n1', 'n2'];
    hook('n1', view('candidate', 2, { log: longer, commitIndex: 1, members: live }), 6);
    live.push('n3'); // one list changed in place
    hook('n1', view('candidate', 2, { log: longer, commitIndex: 1, members: live }), 7);
    shared.forget('n1');
    hook('n1', view('candidate', 2, { log: longer, commitIndex: 1, members: live }), 8); // after a crash: every part again
    expect(calls).toEqual([
      'state@1', 'commit@1', 'log@1', 'members@1', 'every@1',
      'every@2',
      'commit@3', 'every@3',
      'log@4', 'every@4',
      'state@5', 'every@5',
      'members@6', 'every@6',
      'members@7', 'every@7',
      'state@8', 'commit@8', 'log@8', 'members@8', 'every@8',
    ]);
  });

  it('a log checker skipped at a commit-only step still sees the next step\'s change to the shared mirror', () => {
    // leader-append-only (role, term, log) is skipped when only the commit index moves, while
    // leader-completeness (which reads it too) updates the node's mirror then. A mirror updated
    // per subscriber would hand leader-append-only that empty update again at the next step and
    // hide the rewrite below, made under one LogView object.
    const entries: [number, unknown][] = [[1, cmd('a')], [2, cmd('b')]];
    const live = liveLog(entries);
    const cluster: ClusterInfo = { nodes: ['n1', 'n2', 'n3'], initialMembers: ['n1', 'n2', 'n3'], electionTimeoutMaxMs: 300 };
    const [appendOnly] = [leaderAppendOnly, leaderCompleteness].map((d) => d.create(cluster));
    const step = appendOnly!.afterStep!;
    expect(step('n1', view('leader', 2, { log: live, commitIndex: 0 }), 1)).toBeUndefined();
    expect(step('n1', view('leader', 2, { log: live, commitIndex: 1 }), 2)).toBeUndefined(); // commit only
    entries[1] = [2, cmd('x')];
    expect(step('n1', view('leader', 2, { log: live, commitIndex: 1 }), 3)).toMatchObject({
      invariant: 'leader-append-only',
      message: "leader n1 of term 2 (leader since 1.0 ms) overwrote its entry at index 2 (was term 2 b, now term 2 x)",
    });
  });

  it('gives a checker created after a run started (same ClusterInfo, as tests do) its own mirrors', () => {
    const cluster = { nodes: ['n1'] };
    const one = Observations.forRun(cluster);
    one.sync(one.subscribe(), one.slotOf('n1'), log(spec('1:a')));
    expect(Observations.forRun(cluster)).not.toBe(one);
  });
});

describe('LogMirror memory', () => {
  const entries = (n: number) => Array.from({ length: n }, (_, i) => [1, cmd(`c.${i + 1}`)] as const);

  it('drops entries under the snapshot, and reloads them when a restart brings an older snapshot back', () => {
    const mirror = new LogMirror();
    const all = entries(6000);
    mirror.update(log(all));
    expect(mirror.held).toBeGreaterThanOrEqual(6000);
    // Compacted to 5000: the entries below are dropped from the copy.
    mirror.update(log(all.slice(5000), 5000, 1));
    expect(mirror.held).toBeLessThanOrEqual(1000 + 2 * INDEX_CHUNK); // the chunks that hold 5001..6000
    expect(mirror.termAt(5000)).toBe(1);
    expect(mirror.keyAt(5500)).toBe('c.5500');
    expect(mirror.holds(10, 1, 'anything')).toBe(true); // under the snapshot
    // A restart from a disk whose snapshot is at 100: everything above it is reloaded and compared again.
    const change = mirror.update(log(all.slice(100), 100, 1));
    expect(change.from).toBe(101);
    expect(mirror.keyAt(101)).toBe('c.101');
    expect(mirror.keyAt(6000)).toBe('c.6000');
    expect(mirror.holds(4000, 1, 'c.4000')).toBe(true);
    expect(mirror.holds(4000, 1, 'c.4001')).toBe(false);
  });
});

describe('IndexWindow', () => {
  it('keeps values by index across chunks and forgets those under the base', () => {
    const window = new IndexWindow<string>();
    for (let i = 1; i <= 3 * INDEX_CHUNK; i++) window.set(i, `v${i}`);
    window.set(10 * INDEX_CHUNK + 5, 'far'); // a gap of whole chunks
    expect(window.get(INDEX_CHUNK)).toBe(`v${INDEX_CHUNK}`);
    expect(window.get(INDEX_CHUNK + 1)).toBe(`v${INDEX_CHUNK + 1}`);
    expect(window.get(5 * INDEX_CHUNK)).toBeUndefined();
    expect(window.get(10 * INDEX_CHUNK + 5)).toBe('far');
    window.dropBelow(INDEX_CHUNK + 7); // within a chunk: the one below is freed, the rest of this one kept
    expect(window.from).toBe(INDEX_CHUNK + 7);
    expect(window.get(INDEX_CHUNK + 6)).toBeUndefined();
    expect(window.get(INDEX_CHUNK + 7)).toBe(`v${INDEX_CHUNK + 7}`);
    window.set(3, 'ignored');
    expect(window.get(3)).toBeUndefined();
    window.dropBelow(20 * INDEX_CHUNK); // past everything
    expect(window.held).toBe(0);
    expect(window.get(10 * INDEX_CHUNK + 5)).toBeUndefined();
    window.set(20 * INDEX_CHUNK + 1, 'again');
    expect(window.get(20 * INDEX_CHUNK + 1)).toBe('again');
    expect(window.held).toBe(INDEX_CHUNK);
  });

  it('stores times in Float64Array chunks exactly', () => {
    const times = new IndexWindow<number>(timeChunk);
    times.set(7, 1234.5678);
    times.set(INDEX_CHUNK + 7, 0.1 + 0.2);
    expect(times.get(7)).toBe(1234.5678);
    expect(times.get(INDEX_CHUNK + 7)).toBe(0.1 + 0.2);
  });
});
