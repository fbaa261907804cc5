import type { FaultAction, FaultPlan } from '../src/faults/plan.ts';
import type { Scenario } from '../src/sim/scenario.ts';
import {
  converged,
  finalMembers,
  leaderBy,
  leaderWithin,
  newLeaderAfter,
  noWritesCommitBetween,
  snapshotInstalled,
  stableLeadership,
  writesCommitBetween,
} from './expectations.ts';

/**
 * The classic Raft test suite (MIT 6.5840's names), as fixed fault plans with the expectation
 * each test states, plus membership changes under partitions and leadership transfer. Every run
 * also gets every global checker. Timings are the lecture's: 150–300 ms election timeouts,
 * 50 ms heartbeats.
 */

const plan = (...actions: FaultAction[]): FaultPlan => ({ version: 1, actions });

const unreliable = (at: number): FaultAction => ({
  at,
  kind: 'link',
  dropRate: 0.1,
  duplicateRate: 0.05,
  latency: { minMs: 1, maxMs: 30 },
  longDelayRate: 0.01,
  longDelay: { minMs: 300, maxMs: 900 },
});

/** Busy clients and a small compaction threshold, so followers that fall behind need InstallSnapshot. */
const compacting = {
  implementationOptions: { snapshotThreshold: 20 },
  workload: { clients: 5, thinkMs: { minMs: 5, maxMs: 15 } },
} as const;

/** Crash whoever leads every `everyMs`, restart it `downMs` later: the paper's Figure 8 schedule. */
function leaderCrashes(from: number, to: number, everyMs: number, downMs: number): FaultAction[] {
  const actions: FaultAction[] = [];
  for (let t = from; t + downMs < to; t += everyMs) {
    actions.push({ at: t, kind: 'crash', node: 'leader', loss: 'all' }, { at: t + downMs, kind: 'restart', node: 'crashed' });
  }
  return actions;
}

/** Crash and restart named nodes in turn. */
function churn(nodes: string[], from: number, to: number, everyMs: number, loss: 'all' | 'torn'): FaultAction[] {
  const actions: FaultAction[] = [];
  let i = 0;
  for (let t = from; t + everyMs < to; t += everyMs, i++) {
    const node = nodes[i % nodes.length]!;
    actions.push({ at: t, kind: 'crash', node, loss }, { at: t + everyMs * 0.6, kind: 'restart', node });
  }
  return actions;
}

export const CLASSIC_SCENARIOS: readonly Scenario[] = [
  {
    name: 'initial-election',
    description: '3 servers, no faults: a leader within 5 s, and no further election',
    nodes: 3,
    faultWindowMs: 3000,
    settleMs: 1000,
    checks: [leaderWithin(5000), stableLeadership()],
  },
  {
    name: 're-election',
    description: 'the leader is cut off: a new one is elected; then no majority: nothing commits',
    nodes: 3,
    faultWindowMs: 5000,
    plan: plan(
      { at: 1000, kind: 'isolate', node: 'leader' },
      { at: 2500, kind: 'heal' },
      { at: 3500, kind: 'partition', groups: [['n1'], ['n2'], ['n3']] },
    ),
    checks: [newLeaderAfter(1000, 3000), noWritesCommitBetween(3600, 5000)],
  },
  {
    name: 'many-elections',
    description: '7 servers; every 600 ms a different three are cut off, then all rejoin',
    nodes: 7,
    faultWindowMs: 6000,
    plan: plan(
      { at: 600, kind: 'partition', groups: [['n1', 'n2', 'n3'], ['*']] },
      { at: 1200, kind: 'heal' },
      { at: 1800, kind: 'partition', groups: [['n4', 'n5', 'n6'], ['*']] },
      { at: 2400, kind: 'heal' },
      { at: 3000, kind: 'partition', groups: [['leader', 'n7', 'n1'], ['*']] },
      { at: 3600, kind: 'heal' },
      { at: 4200, kind: 'partition', groups: [['n2', 'n4', 'n6'], ['*']] },
      { at: 4800, kind: 'heal' },
    ),
    checks: [leaderWithin(5000)],
  },
  {
    name: 'basic-agree',
    description: '5 servers, no faults: client writes commit and every server applies the same state',
    nodes: 5,
    faultWindowMs: 2000,
    checks: [writesCommitBetween(0, 2000, 10), converged()],
  },
  {
    name: 'fail-agree',
    description: 'one of 3 followers is cut off: writes still commit; it catches up when it rejoins',
    nodes: 3,
    faultWindowMs: 2500,
    plan: plan({ at: 500, kind: 'isolate', node: 'follower' }),
    checks: [writesCommitBetween(700, 2300, 5), converged()],
  },
  {
    name: 'fail-no-agree',
    description: '3 of 5 servers cut off from everyone: no write commits until they rejoin',
    nodes: 5,
    faultWindowMs: 2500,
    // Named nodes, not "leader": at 500 ms an election may still be under way.
    plan: plan({ at: 500, kind: 'partition', groups: [['n1', 'n2']] }),
    checks: [noWritesCommitBetween(600, 2500), converged()],
  },
  {
    name: 'concurrent-starts',
    description: 'bursts of 20 concurrent client operations: all of them complete',
    nodes: 3,
    faultWindowMs: 2000,
    plan: plan({ at: 800, kind: 'burst', operations: 20 }, { at: 1300, kind: 'burst', operations: 20 }),
    checks: [writesCommitBetween(700, 1400, 12)],
  },
  {
    name: 'rejoin',
    description: 'a partitioned leader takes writes it cannot commit, rejoins, and its entries are overwritten',
    nodes: 3,
    faultWindowMs: 3000,
    plan: plan({ at: 500, kind: 'isolate', node: 'leader' }, { at: 1500, kind: 'partition', groups: [['leader'], ['*']] }),
    checks: [writesCommitBetween(1700, 2900, 1), converged()],
  },
  {
    name: 'backup',
    description: 'leaders in minorities pile up uncommitted entries; the logs converge quickly after heal',
    nodes: 5,
    faultWindowMs: 4000,
    workload: { clients: 5, thinkMs: { minMs: 5, maxMs: 20 } },
    plan: plan(
      { at: 500, kind: 'partition', groups: [['leader', 'follower'], ['*']] },
      { at: 2000, kind: 'partition', groups: [['leader', 'follower'], ['*']] },
    ),
    checks: [writesCommitBetween(700, 1900, 10), converged()],
  },
  {
    name: 'persist-1',
    description: 'every server crashes and restarts: acknowledged writes survive',
    nodes: 3,
    faultWindowMs: 2500,
    plan: plan(
      { at: 1000, kind: 'crash', node: 'n1' },
      { at: 1000, kind: 'crash', node: 'n2' },
      { at: 1000, kind: 'crash', node: 'n3' },
      { at: 1200, kind: 'restart', node: 'n1' },
      { at: 1200, kind: 'restart', node: 'n2' },
      { at: 1200, kind: 'restart', node: 'n3' },
    ),
    checks: [writesCommitBetween(1300, 2400, 1), converged()],
  },
  {
    name: 'persist-2',
    description: 'leaders and followers crash and restart in turn, with torn writes',
    nodes: 5,
    faultWindowMs: 4000,
    plan: plan(
      { at: 400, kind: 'crash', node: 'leader', loss: 'torn' },
      { at: 700, kind: 'restart', node: 'crashed' },
      { at: 1000, kind: 'crash', node: 'follower', loss: 'torn' },
      { at: 1100, kind: 'crash', node: 'follower', loss: 'torn' },
      { at: 1500, kind: 'restart', node: 'crashed' },
      { at: 1600, kind: 'restart', node: 'crashed' },
      { at: 2000, kind: 'crash', node: 'leader', loss: 'torn' },
      { at: 2050, kind: 'crash', node: 'follower', loss: 'torn' },
      { at: 2600, kind: 'restart', node: 'crashed' },
      { at: 2700, kind: 'restart', node: 'crashed' },
    ),
    checks: [converged()],
  },
  {
    name: 'persist-3',
    description: 'a partitioned leader crashes and restarts before it rejoins',
    nodes: 3,
    faultWindowMs: 3000,
    plan: plan(
      { at: 500, kind: 'isolate', node: 'leader' },
      { at: 1200, kind: 'crash', node: 'leader' },
      { at: 1600, kind: 'restart', node: 'crashed' },
    ),
    checks: [converged()],
  },
  {
    name: 'figure-8',
    description: 'the leader crashes every 400 ms and comes back (the paper\'s Figure 8): no old-term entry commits by counting',
    nodes: 5,
    faultWindowMs: 6000,
    plan: plan(...leaderCrashes(300, 6000, 400, 250)),
    checks: [converged()],
  },
  {
    name: 'unreliable-agree',
    description: 'drops, duplicates, reordering and long delays: writes still commit',
    nodes: 5,
    faultWindowMs: 3000,
    plan: plan(unreliable(0)),
    checks: [writesCommitBetween(0, 3000, 10), converged()],
  },
  {
    name: 'figure-8-unreliable',
    description: 'Figure 8\'s leader crashes on an unreliable network',
    nodes: 5,
    faultWindowMs: 6000,
    plan: plan(unreliable(0), ...leaderCrashes(300, 6000, 500, 300)),
    checks: [converged()],
  },
  {
    name: 'reliable-churn',
    description: 'servers crash (with torn writes) and restart in turn on a reliable network',
    nodes: 5,
    faultWindowMs: 5000,
    plan: plan(...churn(['n1', 'n3', 'n2', 'n5', 'n4'], 300, 5000, 350, 'torn')),
    checks: [converged()],
  },
  {
    name: 'unreliable-churn',
    description: 'servers crash and restart in turn on an unreliable network',
    nodes: 5,
    faultWindowMs: 5000,
    plan: plan(unreliable(0), ...churn(['n2', 'n4', 'n1', 'n5', 'n3'], 300, 5000, 350, 'torn')),
    checks: [converged()],
  },
  {
    name: 'snapshot-install',
    description: 'a follower is cut off while the log is compacted: it catches up through InstallSnapshot',
    nodes: 3,
    faultWindowMs: 2500,
    ...compacting,
    plan: plan({ at: 300, kind: 'isolate', node: 'n3' }),
    checks: [snapshotInstalled(), converged()],
  },
  {
    name: 'snapshot-install-crash',
    description: 'InstallSnapshot while servers crash and restart',
    nodes: 3,
    faultWindowMs: 3000,
    ...compacting,
    plan: plan(
      { at: 300, kind: 'crash', node: 'n3' },
      { at: 1500, kind: 'restart', node: 'n3' },
      { at: 1800, kind: 'crash', node: 'leader', loss: 'torn' },
      { at: 2200, kind: 'restart', node: 'crashed' },
    ),
    checks: [converged()],
  },
  {
    name: 'snapshot-install-unreliable',
    description: 'InstallSnapshot on an unreliable network',
    nodes: 3,
    faultWindowMs: 3000,
    ...compacting,
    plan: plan(unreliable(0), { at: 300, kind: 'isolate', node: 'n2' }, { at: 2000, kind: 'heal' }),
    checks: [converged()],
  },
  {
    name: 'membership-add-partitioned',
    description: 'two servers join a 3-server cluster (joint consensus) while a partition splits it',
    nodes: 5,
    initialMembers: ['n1', 'n2', 'n3'],
    faultWindowMs: 3000,
    plan: plan(
      { at: 600, kind: 'membership', members: ['n1', 'n2', 'n3', 'n4', 'n5'] },
      { at: 700, kind: 'partition', groups: [['n1', 'n4'], ['*']] },
      { at: 2000, kind: 'heal' },
    ),
    checks: [finalMembers(['n1', 'n2', 'n3', 'n4', 'n5']), converged()],
  },
  {
    name: 'membership-remove-partitioned',
    description: 'two servers are removed and cut off: they must not disrupt the rest after the heal',
    nodes: 5,
    faultWindowMs: 3000,
    plan: plan(
      { at: 600, kind: 'membership', members: ['n1', 'n2', 'n3'] },
      { at: 700, kind: 'partition', groups: [['n4', 'n5'], ['*']] },
    ),
    checks: [finalMembers(['n1', 'n2', 'n3'])],
  },
  {
    name: 'membership-single-steps',
    description: 'single-server changes one at a time: add n4, add n5, remove n1, under a follower crash',
    nodes: 5,
    initialMembers: ['n1', 'n2', 'n3'],
    faultWindowMs: 4000,
    plan: plan(
      { at: 500, kind: 'membership', members: ['n1', 'n2', 'n3', 'n4'] },
      { at: 1200, kind: 'membership', members: ['n1', 'n2', 'n3', 'n4', 'n5'] },
      { at: 1500, kind: 'crash', node: 'n2' },
      { at: 2000, kind: 'restart', node: 'n2' },
      { at: 2600, kind: 'membership', members: ['n2', 'n3', 'n4', 'n5'] },
    ),
    checks: [finalMembers(['n2', 'n3', 'n4', 'n5'])],
  },
  {
    name: 'leadership-transfer',
    description: 'leadership is handed to n3 (thesis §3.10): n3 leads within 1 s',
    nodes: 3,
    faultWindowMs: 2500,
    plan: plan({ at: 1000, kind: 'transfer', to: 'n3' }),
    checks: [leaderBy('n3', 1000, 1000)],
  },
  {
    name: 'bridge',
    description: 'a bridge partition (n1–n2–n3 chain, n4, n5 hanging off n3): a connected majority keeps committing',
    nodes: 5,
    faultWindowMs: 3000,
    plan: plan({ at: 500, kind: 'bridge', links: [['n1', 'n2'], ['n2', 'n3'], ['n3', 'n4'], ['n3', 'n5'], ['n4', 'n5']] }),
    checks: [writesCommitBetween(1500, 2900, 3)],
  },
];
