import { describe, expect, it } from 'vitest';
import { isCorrupted, type NodeHost, type ProposeResult, type RaftFactory, type RaftNode } from '../../src/adapter/contract.ts';
import type { FaultAction } from '../../src/faults/plan.ts';
import { Simulation } from '../../src/sim/engine.ts';

/**
 * How the engine treats a node that meets a corrupted disk value (a storage fault): a node that
 * throws in the very step it read one has stopped on purpose (fail-stop, as etcd panics on a
 * checksum mismatch) and stays down; any other exception, or nonsense, is a finding whose message
 * says the disk was corrupted.
 */

/** Persists a term at start; at a restart reads it back and answers a corrupted value as `onCorrupt` says. */
function termNode(onCorrupt: 'throw' | 'use' | 'throw-later'): RaftFactory {
  return (host: NodeHost) => {
    const stored = host.storage.get('term');
    let term = 1;
    if (isCorrupted(stored)) {
      if (onCorrupt === 'throw') throw new Error('corrupted term on disk; refusing to start');
      if (onCorrupt === 'use') term = (stored as unknown as { term: number }).term; // undefined: nonsense
      if (onCorrupt === 'throw-later') host.setTimer(5, () => { throw new Error('a later, unrelated failure'); });
    } else if (typeof stored === 'number') {
      term = stored;
    }
    host.storage.put('term', term);
    host.storage.sync();
    const node: RaftNode = {
      receive() {},
      propose(): ProposeResult {
        return { accepted: false };
      },
      inspect: () => ({ role: 'follower', term }),
    };
    return node;
  };
}

const corruptAndReboot: FaultAction[] = [
  { at: 100, kind: 'corrupt', node: 'n2' },
  { at: 200, kind: 'crash', node: 'n2', loss: 'none' },
  { at: 300, kind: 'restart', node: 'n2' },
  { at: 400, kind: 'restart', node: 'n2' },
];

function run(factory: RaftFactory, trace: 'hash' | 'full' = 'hash') {
  return new Simulation({ seed: 3, factory, nodes: ['n1', 'n2', 'n3'], workload: false, faultWindowMs: 1000, settleMs: 100, plan: { version: 1, actions: corruptAndReboot }, trace }).run();
}

describe('storage faults: fail-stop is an answer, not a finding', () => {
  it('a node that throws on reading a corrupted value stops for good: no restart or heal brings it back, and the run goes on', () => {
    const result = run(termNode('throw'));
    expect(result.violation).toBeUndefined();
    const outcomes = result.faults.map((f) => f.outcome);
    expect(outcomes[2]).toMatch(/^n2 stopped for good: it threw in factory \(restart\) on reading a corrupted value \(Error: corrupted term on disk; refusing to start\)/);
    expect(outcomes[3]).toBe('skipped: n2 stopped for good on a corrupted disk');
    expect(result.traceHash).toBe(run(termNode('throw')).traceHash);
    const full = run(termNode('throw'), 'full');
    expect(full.traceHash).toBe(result.traceHash);
    expect(full.trace.some((e) => e.k === 'crash' && e.n === 'n2' && JSON.stringify(e.d).includes('stopped for good'))).toBe(true);
  });

  it('nonsense built from a corrupted value is a finding that names the storage fault', () => {
    const result = run(termNode('use'));
    expect(result.violation?.invariant).toBe('adapter-contract');
    expect(result.violation?.message).toMatch(/node n2: inspect\(\) returned term undefined.* it had read a corrupted value from its disk at step \d+ \(a storage fault: see isCorrupted/);
  });

  it('an exception in a later step is a finding, not a fail-stop', () => {
    const result = run(termNode('throw-later'));
    expect(result.violation?.invariant).toBe('adapter-error');
    expect(result.violation?.message).toMatch(/node n2 threw in a timer callback .*a later, unrelated failure — it had read a corrupted value/);
  });
});
