import { describe, expect, it } from 'vitest';
import type { Command, NodeId, NodeView } from '../../src/adapter/contract.ts';
import { durability } from '../../invariants/durability.ts';
import { leaderCompleteness } from '../../invariants/leader-completeness.ts';
import { logMatching } from '../../invariants/log-matching.ts';
import { stateMachineSafety } from '../../invariants/state-machine-safety.ts';
import type { Checker, CheckerDefinition, ClusterInfo, Violation } from '../../invariants/types.ts';
import { KvModel } from '../../invariants/kv-model.ts';
import { cmd, log, record, view } from './helpers.ts';

/**
 * Checkers drop per-index records once every node's snapshot covers them (the run's watermark).
 * These runs go past several pruning batches and show that what is still needed is kept: a
 * crashed node holds the watermark down, acknowledged writes that no put superseded survive, and
 * state machines are still compared with the fold of every command.
 */
const NODES: NodeId[] = ['n1', 'n2', 'n3'];
const N = 5000;

/** Index i holds c.i: a put of key "o", except the few given. */
function commands(special: Record<number, Command> = {}): Command[] {
  const list: Command[] = [];
  for (let i = 1; i <= N; i++) list.push(special[i] ?? cmd(`c.${i}`, { type: 'put', key: 'o', value: `v${i}` }));
  return list;
}

function harness(defs: readonly CheckerDefinition[]) {
  const cluster: ClusterInfo = { nodes: NODES, initialMembers: NODES, electionTimeoutMaxMs: 300 };
  const checkers: Checker[] = defs.map((d) => d.create(cluster));
  let time = 0;
  const first = (f: (c: Checker) => Violation | undefined): Violation | undefined => {
    for (const c of checkers) {
      const v = f(c);
      if (v) return v;
    }
    return undefined;
  };
  return {
    /** A view of `node` holding `cmds[0..last)` above a snapshot at `snap`. */
    step(node: NodeId, cmds: readonly Command[], last: number, snap: number, extra: Partial<NodeView> = {}, term = 1): Violation | undefined {
      const entries = cmds.slice(snap, last).map((c) => [1, c] as const);
      const v = view('follower', term, { log: log(entries, snap, snap > 0 ? 1 : 0), commitIndex: last, ...extra });
      time++;
      return first((c) => c.afterStep?.(node, v, time));
    },
    apply(node: NodeId, cmds: readonly Command[], from: number, to: number): Violation | undefined {
      for (let i = from; i <= to; i++) {
        const v = first((c) => c.onApply?.(node, i, cmds[i - 1], time));
        if (v) return v;
      }
      return undefined;
    },
    ack(command: Command, node: NodeId, index: number): Violation | undefined {
      return first((c) => c.onAcknowledged?.(command, node, index, time));
    },
    crash(node: NodeId): void {
      for (const c of checkers) c.onCrash?.(node, time);
    },
    restart(node: NodeId, cmds: readonly Command[], last: number, snap: number): Violation | undefined {
      const entries = cmds.slice(snap, last).map((c) => [1, c] as const);
      const v = view('follower', 1, { log: log(entries, snap, snap > 0 ? 1 : 0), commitIndex: snap });
      return first((c) => c.onRestart?.(node, v, ++time));
    },
    finish(states: Map<NodeId, { appliedIndex: number; entries: [string, string][] }>): Violation | undefined {
      return first((c) => c.finish?.(record({ cluster, finalStates: states })));
    },
  };
}

/** Every node holds and applies the whole log, then compacts it to N - 100 in steps (several pruning batches). */
function fillAndCompact(h: ReturnType<typeof harness>, cmds: readonly Command[], nodes: readonly NodeId[] = NODES): Violation | undefined {
  for (const node of nodes) {
    const v = h.step(node, cmds, N, 0) ?? h.apply(node, cmds, 1, N);
    if (v) return v;
  }
  for (let snap = 1000; snap <= N - 100; snap += 1000) {
    for (const node of nodes) {
      const v = h.step(node, cmds, N, Math.min(snap, N - 100));
      if (v) return v;
    }
  }
  return undefined;
}

const finalState = (cmds: readonly Command[], upTo: number): [string, string][] => {
  const model = new KvModel();
  for (let i = 0; i < upTo; i++) model.apply(cmds[i]);
  return [...model.data];
};

describe('pruning per-index records below the watermark', () => {
  it('a crashed node holds the watermark down: its old entries are still compared after the others compacted', () => {
    const cmds = commands();
    const h = harness([logMatching]);
    for (const node of NODES) expect(h.step(node, cmds, N, 0)).toBeUndefined();
    h.crash('n3'); // its last view: no snapshot
    expect(fillAndCompact(h, cmds, ['n1', 'n2'])).toBeUndefined();
    // n3 comes back from a disk whose entry 50 differs from what every log held there in term 1.
    const forged = [...cmds];
    forged[49] = cmd('x.1');
    const v = h.restart('n3', forged, 50, 0);
    expect(v?.invariant).toBe('log-matching');
    expect(v?.message).toMatch(/index 50 in term 1/);
  });

  it('log-matching and leader-completeness still fire above the watermark after pruning', () => {
    const cmds = commands();
    let h = harness([logMatching]);
    expect(fillAndCompact(h, cmds)).toBeUndefined();
    const other = [...cmds];
    other[N - 1] = cmd('x.2');
    expect(h.step('n2', other, N, N - 100)?.invariant).toBe('log-matching');

    h = harness([leaderCompleteness]);
    expect(fillAndCompact(h, cmds)).toBeUndefined();
    // n2 leads term 2 without the committed entry at N (its log ends at N - 1).
    expect(h.step('n2', cmds, N - 1, N - 100, { role: 'leader' }, 2)?.invariant).toBe('leader-completeness');
  });

  it('durability keeps an acknowledged write that no later put superseded, even when it was acknowledged late', () => {
    const cmds = commands({
      5: cmd('a.5', { type: 'append', key: 'k', value: 'tok5;' }),
      6: cmd('a.6', { type: 'put', key: 'p', value: 'old' }),
      7: cmd('a.7', { type: 'put', key: 'p', value: 'new' }),
      10: cmd('a.10', { type: 'append', key: 'k', value: 'tok10;' }),
    });
    const h = harness([durability]);
    expect(h.ack(cmds[4]!, 'n1', 5)).toBeUndefined();
    expect(h.ack(cmds[5]!, 'n1', 6)).toBeUndefined();
    expect(fillAndCompact(h, cmds)).toBeUndefined();
    expect(h.ack(cmds[9]!, 'n1', 10)).toBeUndefined(); // below the watermark by now
    const good = finalState(cmds, N);
    expect(h.finish(new Map([['n1', { appliedIndex: N, entries: good }]]))).toBeUndefined();
    const lost5 = good.map(([k, v]) => [k, k === 'k' ? 'tok10;' : v] as [string, string]);
    expect(h.finish(new Map([['n1', { appliedIndex: N, entries: lost5 }]]))?.message).toMatch(/lost the acknowledged append a\.5/);
    const lost10 = good.map(([k, v]) => [k, k === 'k' ? 'tok5;' : v] as [string, string]);
    expect(h.finish(new Map([['n1', { appliedIndex: N, entries: lost10 }]]))?.message).toMatch(/lost the acknowledged append a\.10/);
  });

  it('state-machine-safety compares final states with the fold of every command, those folded early included', () => {
    const cmds = commands({ 3: cmd('a.3', { type: 'append', key: 'k', value: 'early;' }) });
    const h = harness([logMatching, stateMachineSafety]);
    expect(fillAndCompact(h, cmds)).toBeUndefined();
    const good = finalState(cmds, N);
    expect(h.finish(new Map([['n1', { appliedIndex: N, entries: good }]]))).toBeUndefined();
    const bad = good.filter(([k]) => k !== 'k');
    expect(h.finish(new Map([['n1', { appliedIndex: N, entries: bad }]]))?.invariant).toBe('state-machine-safety');
    // And a different command applied above the watermark is still caught.
    const h2 = harness([logMatching, stateMachineSafety]);
    expect(fillAndCompact(h2, cmds)).toBeUndefined();
    expect(h2.apply('n2', [...cmds.slice(0, N - 1), cmd('x.3')], N, N)?.invariant).toBe('state-machine-safety');
  });
});
