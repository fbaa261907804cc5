import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { trapGlobals } from '../../src/adapter/conformance.ts';
import { processFactory } from '../../src/adapter/process.ts';
import { virtualized } from '../../src/adapter/virtualized.ts';
import { threadedFactory } from '../../src/adapter/threaded.ts';
import { Simulation, type SimulationOptions } from '../../src/sim/engine.ts';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import type { CheckerDefinition } from '../../invariants/types.ts';
import type { NodeView } from '../../src/adapter/contract.ts';
import { createRaft as pythonRaft } from '../../examples/python/adapter.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const churn: SimulationOptions['plan'] = {
  version: 1,
  actions: [
    { at: 200, kind: 'partition', groups: [['n1'], ['n2', 'n3']] },
    { at: 400, kind: 'crash', node: 'n2' },
    { at: 600, kind: 'heal' },
    { at: 700, kind: 'restart', node: 'n2' },
    { at: 800, kind: 'skew', node: 'n3', rate: 1.5 },
  ],
};

function run(options: Partial<SimulationOptions> & Pick<SimulationOptions, 'factory'>) {
  return new Simulation({ seed: 7, nodes: ['n1', 'n2', 'n3'], workload: false, faultWindowMs: 1000, settleMs: 200, plan: churn, ...options }).run();
}

describe('threaded adapter: a promise-based library under virtual timers', () => {
  it('runs async code to quiescence at every step, deterministically across fresh threads', () => {
    const first = run({ factory: threadedFactory(fixture('async-ping.ts')) });
    const second = run({ factory: threadedFactory(fixture('async-ping.ts')) });
    expect(first.violation).toBeUndefined();
    expect(first.events).toBeGreaterThan(200);
    expect(second.traceHash).toBe(first.traceHash);
    const other = run({ factory: threadedFactory(fixture('async-ping.ts')), seed: 8 });
    expect(other.traceHash).not.toBe(first.traceHash);
  });

  it('carries every field of a view across the thread boundary, the joint flag included', () => {
    const seen: NodeView[] = [];
    const recorder: CheckerDefinition = { name: 'recorder', description: 'keeps every view', scope: 'step', needs: [], create: () => ({ afterStep: (_node, view) => void seen.push(view) }) };
    expect(run({ factory: threadedFactory(fixture('joint-view.ts')), checkers: [recorder] }).violation).toBeUndefined();
    expect(seen.length).toBeGreaterThan(3);
    for (const view of seen) expect(view).toMatchObject({ role: 'follower', term: 0, members: ['n1', 'n2', 'n3'], joint: true });
  });
});

describe('virtualized: a callback-style library on real globals, in process', () => {
  it('gives it virtual timers, clock and randomness, deterministically', async () => {
    const { default: factory } = await import('./fixtures/callback-ping.ts');
    const realDateNow = Date.now;
    const first = run({ factory });
    const second = run({ factory });
    expect(first.violation).toBeUndefined();
    expect(first.events).toBeGreaterThan(100);
    expect(second.traceHash).toBe(first.traceHash);
    expect(Date.now).toBe(realDateNow); // the globals are put back after every call
  });
});

describe('virtualized: host timers of the adapter itself', () => {
  it('run under the virtual globals too (check-adapter caught this in the coaty adapter)', () => {
    const traps = trapGlobals();
    try {
      const factory = virtualized((host) => {
        let draws = 0;
        const tick = (): void => {
          draws += Math.random() < 2 ? 1 : 0; // a library's randomness, reached from the adapter's own tick
          host.setTimer(10, tick);
        };
        host.setTimer(10, tick);
        return { receive() {}, propose: () => ({ accepted: false }), inspect: () => ({ role: 'follower', term: draws }) };
      });
      expect(run({ factory }).violation).toBeUndefined();
    } finally {
      traps.restore();
    }
    expect([...traps.calls.keys()]).toEqual([]);
  });
});

describe('process adapter: nodes in another language over the node protocol', () => {
  it('runs the Python Raft example under faults with every checker on, deterministically', () => {
    const options = {
      factory: pythonRaft,
      nodes: ['n1', 'n2', 'n3'],
      workload: {},
      faultWindowMs: 1000,
      settleMs: 2500,
      checkers: ALL_CHECKERS,
      plan: churn,
      keepHistory: true,
    } satisfies Partial<SimulationOptions>;
    const first = run(options);
    expect(first.violation).toBeUndefined();
    expect(first.history!.filter((op) => op.status === 'ok').length).toBeGreaterThan(10);
    expect(run(options).traceHash).toBe(first.traceHash);
  });

  it('turns a silent process into an adapter-error finding, not a hang', () => {
    const result = run({ factory: processFactory('python3', [fixture('silent-node.py')], { startTimeoutMs: 1500 }) });
    expect(result.violation?.invariant).toBe('adapter-error');
    expect(result.violation?.message).toMatch(/failed on "init": no answer within 1500 ms of wall time/);
  });

  it('turns a dying process into a finding that quotes its exit and stderr', () => {
    const result = run({ factory: processFactory('python3', [fixture('dying-node.py')]) });
    expect(result.violation?.invariant).toBe('adapter-error');
    expect(result.violation?.message).toMatch(/exited \(code 3\).*dying-node: giving up/);
  });

  it('reports output that is not the protocol', () => {
    const result = run({ factory: processFactory('python3', [fixture('garbage-node.py')]) });
    expect(result.violation?.message).toMatch(/not JSON: "hello, I am not the protocol"/);
  });

  it('reports a command that cannot run', () => {
    const result = run({ factory: processFactory('/nonexistent/raft-node', []) });
    expect(result.violation?.invariant).toBe('adapter-error');
    expect(result.violation?.message).toMatch(/could not run|exited/);
  });
});
