import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATOR, planArbitrary } from '../../src/faults/arbitraries.ts';
import { generatePlan } from '../../src/faults/generate.ts';
import type { FaultAction, FaultPlan } from '../../src/faults/plan.ts';
import { validatePlan } from '../../src/faults/validate.ts';
import { nodeIds, type Scenario } from '../../src/sim/scenario.ts';
import { defaultScenario } from '../../scenarios/default.ts';

const withSpares: Scenario = { name: 'spares', description: '', nodes: ['n1', 'n2', 'n3', 'n4', 'n5'], initialMembers: ['n1', 'n2', 'n3'], faultWindowMs: 4000, generate: {} };
const plans = (scenario: Scenario, count: number): FaultPlan[] => Array.from({ length: count }, (_, s) => generatePlan(scenario, s + 1));

describe('generatePlan', () => {
  it('is deterministic and is the first plan fc.check tries with the same seed', () => {
    for (const seed of [1, 2, 99, 0x7fffffff, 0xfffffffe]) {
      const plan = generatePlan(defaultScenario, seed);
      expect(generatePlan(defaultScenario, seed)).toEqual(plan);
      let first: FaultPlan | undefined;
      fc.check(fc.property(planArbitrary(defaultScenario), (p) => ((first ??= p), true)), { seed: seed | 0, numRuns: 1 });
      expect(first).toEqual(plan);
    }
  });

  it('draws valid, time-ordered plans inside the fault window', () => {
    for (const scenario of [defaultScenario, withSpares]) {
      for (const plan of plans(scenario, 150)) {
        validatePlan(plan, nodeIds(scenario.nodes), 'generated');
        const times = plan.actions.map((a) => a.at);
        expect(times).toEqual([...times].sort((a, b) => a - b));
        for (const t of times) expect(t).toBeGreaterThanOrEqual(0), expect(t).toBeLessThanOrEqual(scenario.faultWindowMs);
        expect(plan.actions.length).toBeLessThanOrEqual(DEFAULT_GENERATOR.maxActions);
      }
    }
  });

  it('swarms: runs differ in which kinds they use, and plans vary in length', () => {
    const all = plans(defaultScenario, 200);
    const kindSets = new Set(all.map((p) => [...new Set(p.actions.map((a) => a.kind))].sort().join(',')));
    expect(kindSets.size).toBeGreaterThan(60);
    const lengths = all.map((p) => p.actions.length);
    expect(Math.max(...lengths)).toBeGreaterThanOrEqual(12);
    expect(lengths.filter((n) => n >= 6).length).toBeGreaterThan(40);
  });

  it('produces meaningful sequences', () => {
    const all = plans(withSpares, 300).map((p) => p.actions);
    const some = (pred: (actions: readonly FaultAction[]) => boolean): number => all.filter(pred).length;
    // A crash of a named node, later a restart of the same node.
    expect(some((as) => as.some((a, i) => a.kind === 'crash' && as.slice(i + 1).some((b) => b.kind === 'restart' && b.node === a.node)))).toBeGreaterThan(10);
    // A crash of the leader, later a restart of the node it hit.
    expect(some((as) => as.some((a, i) => a.kind === 'crash' && a.node === 'leader' && as.slice(i + 1).some((b) => b.kind === 'restart' && b.node === 'crashed')))).toBeGreaterThan(3);
    expect(some((as) => as.some((a) => a.kind === 'isolate' && a.node === 'leader'))).toBeGreaterThan(3);
    // A partition later healed.
    expect(some((as) => as.some((a, i) => a.kind === 'partition' && as.slice(i + 1).some((b) => b.kind === 'heal')))).toBeGreaterThan(10);
    // Membership: remove a member and add it back; add a spare server.
    expect(some((as) => as.some((a, i) => a.kind === 'membership' && a.members.length === 2 && as.slice(i + 1).some((b) => b.kind === 'membership' && b.members.length === 3)))).toBeGreaterThan(3);
    expect(some((as) => as.some((a) => a.kind === 'membership' && a.members.some((m) => m === 'n4' || m === 'n5')))).toBeGreaterThan(3);
    expect(some((as) => as.some((a) => a.kind === 'crash' && a.loss === 'torn'))).toBeGreaterThan(5);
    expect(some((as) => as.some((a) => a.kind === 'corrupt'))).toBeGreaterThan(5);
    const rates = all.flat().flatMap((a) => (a.kind === 'skew' ? [a.rate] : []));
    expect(rates.length).toBeGreaterThan(10);
    for (const r of rates) expect(r).toBeGreaterThanOrEqual(0.5), expect(r).toBeLessThanOrEqual(2);
  });

  it('draws the composite episodes: stranded leaders (some with a slowed clock), membership churn, slow elections', () => {
    const all = plans(defaultScenario, 400).map((p) => p.actions);
    const some = (pred: (actions: readonly FaultAction[]) => boolean): number => all.filter(pred).length;
    // A stranded leader whose clock was slowed at the same moment.
    expect(some((as) => as.some((a, i) => a.kind === 'skew' && a.node === 'leader' && a.rate < 1 && as[i + 1]?.at === a.at && (as[i + 1]!.kind === 'isolate' || as[i + 1]!.kind === 'partition')))).toBeGreaterThan(3);
    // Membership churn: a change, the leader struck within 300 ms, a second change later.
    const churn = (as: readonly FaultAction[]): boolean =>
      as.some((a, i) => {
        if (a.kind !== 'membership') return false;
        const strike = as.slice(i + 1).find((b) => (b.kind === 'crash' || b.kind === 'isolate') && b.node === 'leader' && b.at - a.at <= 300);
        return strike !== undefined && as.some((c) => c.kind === 'membership' && c.at >= strike.at + 150);
      });
    expect(some(churn)).toBeGreaterThan(5);
    // Slow elections: every link long-delays messages, the leader is crashed, the network heals later.
    const slowElections = (as: readonly FaultAction[]): boolean =>
      as.some((a, i) => {
        if (a.kind !== 'link' || a.from !== undefined || a.to !== undefined || a.dropRate !== undefined || (a.longDelayRate ?? 0) < 0.1) return false;
        const strike = as.slice(i + 1).find((b) => b.kind === 'crash' && b.node === 'leader' && b.at === a.at + 1);
        return strike !== undefined && as.some((c) => c.kind === 'heal' && c.at > strike.at);
      });
    expect(some(slowElections)).toBeGreaterThan(5);
  });

  it('aims at elections and varies the load: episodes that wait for the next leader, bursts at the majority\'s election, client pace', () => {
    const all = plans(defaultScenario, 400).map((p) => p.actions);
    const some = (pred: (actions: readonly FaultAction[]) => boolean): number => all.filter(pred).length;
    // A simple episode waiting for an election (its closing half moved back by the election's room).
    expect(some((as) => as.some((a) => a.when === 'elected' && (((a.kind === 'crash' || a.kind === 'isolate') && a.node !== 'leader') || a.kind === 'partition')))).toBeGreaterThan(10);
    // Leader churn striking the next leader at its election, armed right after the previous crash.
    expect(some((as) => as.some((a, i) => a.kind === 'crash' && a.node === 'leader' && a.when === undefined && as.slice(i + 1).some((b) => b.kind === 'crash' && b.when === 'elected' && b.at === a.at + 1)))).toBeGreaterThan(3);
    // A stranded leader, and a burst of clients at the majority's election.
    expect(some((as) => as.some((a, i) => (a.kind === 'isolate' || a.kind === 'partition') && as.slice(i + 1).some((b) => b.kind === 'burst' && b.when === 'elected' && b.at === a.at + 1)))).toBeGreaterThan(3);
    // Membership churn: a change at the next election, and a change to a leader isolated just before.
    expect(some((as) => as.some((a) => a.kind === 'membership' && a.when === 'elected'))).toBeGreaterThan(5);
    expect(some((as) => as.some((a, i) => a.kind === 'isolate' && a.node === 'leader' && as.slice(i + 1).some((b) => b.kind === 'membership' && b.at - a.at <= 100)))).toBeGreaterThan(3);
    // Busy and sparse clients, short and long attempt timeouts.
    const loads = all.flat().flatMap((a) => (a.kind === 'load' ? [a] : []));
    expect(loads.filter((a) => a.thinkMs !== undefined && a.thinkMs.maxMs <= 25).length).toBeGreaterThan(5);
    expect(loads.filter((a) => a.thinkMs !== undefined && a.thinkMs.minMs >= 50).length).toBeGreaterThan(5);
    expect(loads.filter((a) => a.requestTimeoutMs !== undefined && a.requestTimeoutMs < 150).length).toBeGreaterThan(3);
    expect(loads.filter((a) => a.requestTimeoutMs !== undefined && a.requestTimeoutMs > 500).length).toBeGreaterThan(3);
  });

  it('respects the scenario generator config', () => {
    const only: Scenario = { ...defaultScenario, generate: { kinds: ['crash', 'restart'], maxActions: 4 } };
    for (const plan of plans(only, 100)) {
      expect(plan.actions.length).toBeLessThanOrEqual(4);
      for (const a of plan.actions) expect(['crash', 'restart']).toContain(a.kind);
    }
    expect(generatePlan({ ...defaultScenario, faultWindowMs: 0 }, 3).actions).toEqual([]);
  });
});
