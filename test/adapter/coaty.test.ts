import { describe, expect, it } from 'vitest';
import type { RaftFactory } from '../../src/adapter/contract.ts';
import type { FaultPlan } from '../../src/faults/plan.ts';
import { runScenario } from '../../src/runner.ts';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import { findScenario } from '../../scenarios/index.ts';

/**
 * A bug of our coaty adapter, not of the library, found on 2026-12-03 by a 200-run campaign
 * of adapters/coaty/scenario.json (adapters/coaty/README.md): when a follower's log was overwritten from some index on,
 * the adapter wrote the new entries to disk but kept the old ones past them, because it read
 * MemoryStorage.LastIndex()'s error slot as the index. A restart then read the stale tail back:
 * n2's log went back in term (index 55 of term 2, index 56 of term 1). The shrunk plan: the
 * leader n2 is isolated while its clients write, the network heals, the new leader's entries
 * overwrite n2's suffix, n2 crashes and restarts at the end of the fault window.
 */
const PLAN: FaultPlan = {
  version: 1,
  actions: [
    { at: 1685, kind: 'isolate', node: 'leader' },
    { at: 1885, kind: 'heal' },
    { at: 2050, kind: 'crash', node: 'n2', loss: 'all' },
  ],
};

describe('the coaty adapter', () => {
  it('deletes an overwritten log tail from disk, so a restart does not bring it back', async () => {
    const { createRaft } = (await import('../../adapters/coaty/adapter.ts')) as { createRaft: RaftFactory };
    const result = runScenario(findScenario('adapters/coaty/scenario.json'), 3332832876, { factory: createRaft, checkers: ALL_CHECKERS, plan: PLAN });
    expect(result.violation).toBeUndefined();
  });
});
