import { describe, expect, it } from 'vitest';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import type { FaultAction } from '../../src/faults/plan.ts';
import { createRaft } from '../../src/raft/index.ts';
import { Simulation } from '../../src/sim/engine.ts';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const FAULT_WINDOW_MS = 6000;
const SETTLE_MS = 4000;
const SEEDS = 20;

const PLANS: Record<string, { actions: FaultAction[]; options?: Record<string, unknown>; initialMembers?: string[] }> = {
  partitions: {
    actions: [
      { at: 1000, kind: 'partition', groups: [['n1', 'n2'], ['n3', 'n4', 'n5']] },
      { at: 2500, kind: 'partition', groups: [['leader'], ['n1', 'n2', 'n3', 'n4', 'n5']] },
      { at: 4000, kind: 'bridge', links: [['n1', 'n2'], ['n2', 'n3'], ['n3', 'n4'], ['n4', 'n5']] },
      { at: 5000, kind: 'heal' },
    ],
  },
  'crash-torn': {
    actions: [
      { at: 800, kind: 'crash', node: 'leader', loss: 'torn' },
      { at: 1500, kind: 'crash', node: 'follower', loss: 'torn' },
      { at: 2500, kind: 'restart', node: 'n1' },
      { at: 2600, kind: 'restart', node: 'n2' },
      { at: 3000, kind: 'crash', node: 'leader', loss: 'all' },
      { at: 4000, kind: 'restart', node: 'n3' },
    ],
  },
  'drops-dups-delays': {
    actions: [
      { at: 500, kind: 'link', dropRate: 0.2, duplicateRate: 0.1, longDelayRate: 0.05 },
      { at: 2000, kind: 'isolate', node: 'leader' },
      { at: 4000, kind: 'heal' },
    ],
  },
  skew: {
    actions: [
      { at: 500, kind: 'skew', node: 'leader', rate: 0.5 },
      { at: 700, kind: 'skew', node: 'n2', rate: 2 },
      { at: 2000, kind: 'partition', groups: [['n1', 'n2', 'n3'], ['n4', 'n5']] },
    ],
  },
  corruption: {
    actions: [
      { at: 1500, kind: 'corrupt', node: 'n1' },
      { at: 1500, kind: 'crash', node: 'n1', loss: 'torn' },
      { at: 2000, kind: 'restart', node: 'n1' },
      { at: 2500, kind: 'corrupt', node: 'n2' },
      { at: 2600, kind: 'crash', node: 'n2' },
      { at: 2700, kind: 'restart', node: 'n2' },
    ],
  },
  membership: {
    actions: [
      { at: 1000, kind: 'membership', members: ['n1', 'n2', 'n3'] },
      { at: 2500, kind: 'membership', members: ['n3', 'n4', 'n5'] },
      { at: 3500, kind: 'crash', node: 'leader', loss: 'torn' },
      { at: 4500, kind: 'membership', members: ['n1', 'n2', 'n3', 'n4', 'n5'] },
    ],
  },
  'grow-from-three': {
    initialMembers: ['n1', 'n2', 'n3'],
    options: { snapshotThreshold: 30 },
    actions: [
      { at: 1500, kind: 'membership', members: ['n1', 'n2', 'n3', 'n4'] },
      { at: 2500, kind: 'crash', node: 'follower', loss: 'torn' },
      { at: 3000, kind: 'membership', members: ['n2', 'n3', 'n4', 'n5'] },
      { at: 4000, kind: 'restart', node: 'n1' },
      { at: 4500, kind: 'membership', members: ['n1', 'n2', 'n3', 'n4', 'n5'] },
    ],
  },
  'compaction-transfer': {
    options: { snapshotThreshold: 20 },
    actions: [
      { at: 1000, kind: 'isolate', node: 'n5' },
      { at: 1500, kind: 'crash', node: 'n4', loss: 'torn' },
      { at: 2000, kind: 'transfer', to: 'n3' },
      { at: 3000, kind: 'heal' },
      { at: 3100, kind: 'crash', node: 'leader', loss: 'torn' },
      { at: 3500, kind: 'transfer', to: 'n2' },
    ],
  },
};

describe('reference raft: 5-node cluster under fixed fault plans', () => {
  const checkers = ALL_CHECKERS;

  it('has invariant checkers to run', () => {
    expect(checkers.length).toBeGreaterThan(0);
  });

  for (const [name, { actions, options, initialMembers }] of Object.entries(PLANS)) {
    it(`${name}: no violation in ${SEEDS} seeds, and writes complete after the heal`, () => {
      for (let seed = 1; seed <= SEEDS; seed++) {
        const result = new Simulation({
          seed,
          factory: createRaft,
          nodes: NODES,
          faultWindowMs: FAULT_WINDOW_MS,
          settleMs: SETTLE_MS,
          plan: { version: 1, actions },
          checkers,
          keepHistory: true,
          ...(options ? { implementationOptions: options } : {}),
          ...(initialMembers ? { initialMembers } : {}),
        }).run();
        const where = `${name} seed ${seed}`;
        expect(result.violation, `${where}: ${result.violation?.message}`).toBeUndefined();
        expect(result.skippedChecks, where).toEqual([]);
        // Writes invoked well after the heal (a leader has had time to emerge) complete ok.
        const lateWrites = result.history!.filter((o) => o.op.type !== 'get' && o.invokeTime > FAULT_WINDOW_MS + 1000 && o.status !== 'pending');
        expect(lateWrites.length, where).toBeGreaterThan(0);
        expect(lateWrites.filter((o) => o.status !== 'ok'), where).toEqual([]);
      }
    });
  }

  it('is deterministic: one seed, one trace hash', () => {
    const run = () =>
      new Simulation({ seed: 42, factory: createRaft, nodes: NODES, faultWindowMs: 3000, settleMs: 2000, plan: { version: 1, actions: PLANS['drops-dups-delays']!.actions } }).run().traceHash;
    expect(run()).toBe(run());
  });
});
