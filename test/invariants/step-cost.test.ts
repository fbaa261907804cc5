import { describe, expect, it } from 'vitest';
import type { LogView, NodeId, NodeView } from '../../src/adapter/contract.ts';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import type { Checker, ClusterInfo } from '../../invariants/types.ts';
import { cmd } from './helpers.ts';

/**
 * "The cost per step must not grow with the log's length", shown without a clock: every checker
 * of a run reads the nodes' logs only through LogView.termAt and commandAt, so the reads made
 * while a cluster replicates, commits and applies the same 200 new entries count the work. They
 * must be the same whether the log already held 1,000 entries or 20,000 (the first sight of a
 * log, which loads it, is not counted).
 */
const NODES: readonly NodeId[] = ['n1', 'n2', 'n3'];

/** A live log of a growing array whose reads are counted. */
class CountingLog implements LogView {
  readonly snapshotIndex = 0;
  readonly snapshotTerm = 0;
  readonly terms: number[] = [];
  readonly commands: unknown[] = [];
  static reads = 0;

  get lastIndex(): number {
    return this.terms.length;
  }

  termAt(index: number): number {
    CountingLog.reads++;
    return this.terms[index - 1]!;
  }

  commandAt(index: number): unknown {
    CountingLog.reads++;
    return this.commands[index - 1];
  }

  append(term: number, command: unknown): void {
    this.terms.push(term);
    this.commands.push(command);
  }
}

/** Reads made by every checker while the cluster takes `steps` more entries on a log of `prefill`. */
function readsPerReplication(prefill: number, steps: number): number {
  const cluster: ClusterInfo = { nodes: NODES, initialMembers: NODES, electionTimeoutMaxMs: 300 };
  // One synchronous stretch, as the engine creates a run's checkers: they share one step hook.
  const checkers: Checker[] = ALL_CHECKERS.map((definition) => definition.create(cluster));
  const logs = new Map(NODES.map((id) => [id, new CountingLog()] as const));
  const applied = new Map<NodeId, number>(NODES.map((id) => [id, 0]));
  const commit = new Map<NodeId, number>(NODES.map((id) => [id, 0]));
  let time = 0;
  let seq = 0;
  let violations = 0;
  const step = (node: NodeId) => {
    const view: NodeView = { role: node === 'n1' ? 'leader' : 'follower', term: 2, votedFor: 'n1', commitIndex: commit.get(node)!, members: NODES, log: logs.get(node)! };
    time += 0.5;
    for (const checker of checkers) if (checker.afterStep?.(node, view, time)) violations++;
  };
  const apply = (node: NodeId) => {
    const log = logs.get(node)!;
    for (let i = applied.get(node)! + 1; i <= commit.get(node)!; i++) {
      for (const checker of checkers) if (checker.onApply?.(node, i, log.commands[i - 1], time)) violations++;
    }
    applied.set(node, commit.get(node)!);
  };
  const replicateOne = () => {
    const command = cmd(`c.${++seq}`, { type: 'put', key: `k${seq % 10}`, value: String(seq) });
    for (const id of NODES) logs.get(id)!.append(2, command);
    for (const id of NODES) step(id);
    const index = logs.get('n1')!.lastIndex;
    for (const id of NODES) commit.set(id, index);
    for (const id of NODES) {
      step(id);
      apply(id);
    }
  };
  // The followers show their votes for n1 before it shows itself leader (election-quorum).
  for (const id of NODES) if (id !== 'n1') step(id);
  for (let i = 0; i < prefill; i++) replicateOne();
  CountingLog.reads = 0;
  for (let i = 0; i < steps; i++) replicateOne();
  expect(violations).toBe(0);
  return CountingLog.reads;
}

describe('the checkers\' cost per step', () => {
  it('does not grow with the log\'s length: the same log reads for the same 200 entries on a log of 1,000 or of 20,000', () => {
    const short = readsPerReplication(1_000, 200);
    const long = readsPerReplication(20_000, 200);
    expect(short).toBeGreaterThan(0); // the checkers do read the new entries
    expect(long).toBe(short);
  });
});
