import { describe, expect, it } from 'vitest';
import type { DurableStorage, RaftFactory } from '../../src/adapter/contract.ts';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import { Simulation } from '../../src/sim/engine.ts';

// The reference Raft is optional here: these tests run only when src/raft is present.
let createRaft: RaftFactory | undefined;
try {
  createRaft = ((await import('../../src/raft/index.ts')) as { createRaft: RaftFactory }).createRaft;
} catch {
  createRaft = undefined;
}

/** A disk that forgets everything: the node restarts with no term, vote or log (an amnesia bug). */
function amnesiac(factory: RaftFactory): RaftFactory {
  const started = new Set<string>();
  return (host, config) => {
    if (!started.has(host.id)) {
      started.add(host.id);
      return factory(host, config);
    }
    const blank: DurableStorage = { get: () => undefined, put() {}, delete() {}, keys: () => [], sync() {} };
    return factory(Object.create(host, { storage: { value: blank } }), config);
  };
}

describe.skipIf(createRaft === undefined)('checkers on the engine with the reference Raft', () => {
  const nodes = ['n1', 'n2', 'n3'];
  it('a clean run with faults trips no checker', () => {
    const result = new Simulation({
      seed: 3,
      factory: createRaft!,
      nodes,
      checkers: ALL_CHECKERS,
      faultWindowMs: 3000,
      plan: { version: 1, actions: [{ at: 800, kind: 'crash', node: 'leader' }, { at: 1500, kind: 'partition', groups: [['n1'], ['n2', 'n3']] }, { at: 2000, kind: 'heal' }] },
    }).run();
    expect(result.violation).toBeUndefined();
    expect(result.skippedChecks).toEqual([]);
  });

  it('a node that forgets its disk on restart is caught', () => {
    const found = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const result = new Simulation({
        seed,
        factory: amnesiac(createRaft!),
        nodes,
        checkers: ALL_CHECKERS,
        faultWindowMs: 4000,
        plan: {
          version: 1,
          actions: [
            { at: 1000, kind: 'crash', node: 'leader' },
            { at: 1100, kind: 'restart', node: 'n1' },
            { at: 1100, kind: 'restart', node: 'n2' },
            { at: 1100, kind: 'restart', node: 'n3' },
            { at: 2000, kind: 'crash', node: 'follower' },
            { at: 2000, kind: 'crash', node: 'leader' },
            { at: 2100, kind: 'restart', node: 'n1' },
            { at: 2100, kind: 'restart', node: 'n2' },
            { at: 2100, kind: 'restart', node: 'n3' },
          ],
        },
      }).run();
      if (result.violation) found.add(result.violation.invariant);
    }
    expect([...found].length).toBeGreaterThan(0);
    for (const name of found) expect(ALL_CHECKERS.map((c) => c.name)).toContain(name);
  });
});
