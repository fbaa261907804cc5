import { describe, expect, it } from 'vitest';
import { ALL_CHECKERS, RUN_CHECKERS, STEP_CHECKERS, checkerByName } from '../../invariants/index.ts';
import { Simulation } from '../../src/sim/engine.ts';
import { pingFactory } from '../support/ping-node.ts';

describe('checker registry', () => {
  it('names are unique kebab-case, scopes match the lists', () => {
    const names = ALL_CHECKERS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const c of ALL_CHECKERS) {
      expect(c.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(c.description.length).toBeGreaterThan(10);
      expect(checkerByName(c.name)).toBe(c);
    }
    expect(STEP_CHECKERS.every((c) => c.scope === 'step')).toBe(true);
    expect(RUN_CHECKERS.every((c) => c.scope === 'run')).toBe(true);
    expect(checkerByName('no-such-checker')).toBeUndefined();
    expect(names).toEqual(expect.arrayContaining([
      'election-safety', 'leader-append-only', 'committed-prefix', 'current-term-commit', 'committed-quorum', 'config-after-term-commit', 'log-matching', 'leader-completeness', 'state-machine-safety',
      'monotonicity', 'one-vote-per-term', 'election-quorum', 'durability', 'linearizability', 'liveness-after-heal',
      'progress-under-majority', 'catch-up',
    ]));
  });

  it('the engine skips the log-based checkers, with a reason, for a node that exposes no log', () => {
    const result = new Simulation({ seed: 1, factory: pingFactory(), nodes: ['n1', 'n2', 'n3'], checkers: ALL_CHECKERS, workload: false, faultWindowMs: 1000, settleMs: 0 }).run();
    expect(result.violation).toBeUndefined();
    const skipped = new Map(result.skippedChecks.map((s) => [s.checker, s.reason]));
    for (const name of ['leader-append-only', 'committed-prefix', 'current-term-commit', 'committed-quorum', 'config-after-term-commit', 'log-matching', 'leader-completeness', 'durability']) {
      expect(skipped.get(name)).toMatch(/does not expose .*log/);
    }
    expect(skipped.get('one-vote-per-term')).toMatch(/votedFor/);
    expect(skipped.get('election-quorum')).toMatch(/votedFor/);
    expect(skipped.get('catch-up')).toMatch(/commitIndex/);
    // Checkers that need nothing from the view still run.
    for (const name of ['election-safety', 'monotonicity', 'state-machine-safety', 'linearizability', 'liveness-after-heal', 'progress-under-majority']) {
      expect(skipped.has(name)).toBe(false);
    }
  });

  it("a scenario's expectation that needs leadership transfer or membership change is skipped, with the reason, for an implementation without it", async () => {
    const { findScenario } = await import('../../scenarios/index.ts');
    const { runScenario } = await import('../../src/runner.ts');
    const { createRaft } = await import('../../examples/figure2-raft/raft.ts');
    const transfer = runScenario(findScenario('leadership-transfer'), 1, { factory: createRaft, checkers: ALL_CHECKERS });
    expect(transfer.violation).toBeUndefined();
    expect(transfer.skippedChecks).toContainEqual({ checker: 'leader-by', reason: 'the implementation does not expose transfer' });
    const membership = runScenario(findScenario('membership-single-steps'), 1, { factory: createRaft, checkers: [] });
    expect(membership.skippedChecks.map((s) => s.checker)).toContain('final-members');
  });
});
