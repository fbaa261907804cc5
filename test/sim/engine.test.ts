import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { NodeHost, RaftFactory } from '../../src/adapter/contract.ts';
import type { FaultAction } from '../../src/faults/plan.ts';
import { createRaft } from '../../src/raft/index.ts';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import type { CheckerDefinition } from '../../invariants/types.ts';
import { Simulation, type SimulationOptions } from '../../src/sim/engine.ts';
import { pingFactory } from '../support/ping-node.ts';
import { newObserved, scriptedFactory, timer, type Observed } from '../support/scripted-node.ts';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];

function pingRun(seed: number, actions: FaultAction[] = []) {
  return new Simulation({
    seed,
    factory: pingFactory(),
    nodes: NODES,
    workload: false,
    faultWindowMs: 2000,
    settleMs: 0,
    plan: { version: 1, actions },
    network: { dropRate: 0.05, duplicateRate: 0.05 },
  }).run();
}

const churn: FaultAction[] = [
  { at: 100, kind: 'partition', groups: [['n1', 'n2'], ['n3', 'n4', 'n5']] },
  { at: 300, kind: 'crash', node: 'n3', loss: 'torn' },
  { at: 500, kind: 'heal' },
  { at: 600, kind: 'restart', node: 'n3' },
  { at: 700, kind: 'skew', node: 'n1', rate: 1.5 },
];

/** Runs a scripted cluster: `script(host)` runs as each node starts; `observed` collects what nodes saw. */
function scripted(script: (host: NodeHost, observed: Observed) => void, actions: FaultAction[], extra: Partial<SimulationOptions> = {}) {
  const observed = newObserved();
  const result = new Simulation({
    seed: 1,
    factory: scriptedFactory(observed, (host) => script(host, observed)),
    nodes: ['n1', 'n2', 'n3'],
    workload: false,
    faultWindowMs: 1000,
    settleMs: 0,
    plan: { version: 1, actions },
    ...extra,
  }).run();
  return { observed, result };
}

/** Every node sends one message to each peer at `atMs`. */
function broadcastAt(atMs: number) {
  return (host: NodeHost) => {
    host.setTimer(atMs, () => {
      for (const peer of ['n1', 'n2', 'n3']) if (peer !== host.id) host.send(peer, { type: 'hello', at: atMs });
    });
  };
}

function pairs(observed: Observed, at?: number): string[] {
  return observed.received
    .filter((r) => at === undefined || (r.message as { at: number }).at === at)
    .map((r) => `${r.from}>${r.node}`)
    .sort();
}

describe('determinism', () => {
  it('the same seed gives the same trace hash; different seeds differ', () => {
    const a = pingRun(11, churn);
    const b = pingRun(11, churn);
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.events).toBe(b.events);
    expect(a.events).toBeGreaterThan(1000);
    const hashes = new Set([11, 12, 13, 14].map((seed) => pingRun(seed, churn).traceHash));
    expect(hashes.size).toBe(4);
  });

  it('the hash does not depend on the trace mode', () => {
    const options = { seed: 5, factory: pingFactory(), nodes: NODES, workload: false as const, faultWindowMs: 1000, settleMs: 0, plan: { version: 1 as const, actions: churn } };
    const hashOnly = new Simulation(options).run();
    const full = new Simulation({ ...options, trace: 'full' }).run();
    expect(full.traceHash).toBe(hashOnly.traceHash);
    expect(full.trace.length).toBeGreaterThan(100);
    expect(hashOnly.trace).toEqual([]);
  });

  it('a run in a fresh child process gives the same hash as in this process', () => {
    const script = `
      import { Simulation } from './src/sim/engine.ts';
      import { pingFactory } from './test/support/ping-node.ts';
      const r = new Simulation({ seed: 11, factory: pingFactory(), nodes: ${JSON.stringify(NODES)}, workload: false,
        faultWindowMs: 2000, settleMs: 0, plan: { version: 1, actions: ${JSON.stringify(churn)} },
        network: { dropRate: 0.05, duplicateRate: 0.05 } }).run();
      console.log(r.traceHash);`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8' });
    expect(out.trim()).toBe(pingRun(11, churn).traceHash);
  });
});

describe('timers', () => {
  it('a cleared timer never fires; others fire at their time', () => {
    const { observed } = scripted((host, obs) => {
      if (host.id !== 'n1') return;
      const cleared = timer(obs, host, 100, 'cleared');
      timer(obs, host, 50, 'kept');
      host.setTimer(10, () => host.clearTimer(cleared));
    }, []);
    expect(observed.fired).toEqual([{ node: 'n1', time: 50, label: 'kept' }]);
  });

  it('a crash cancels the node\'s timers, and a restart starts afresh', () => {
    const { observed } = scripted((host, obs) => {
      if (host.id === 'n1') timer(obs, host, 100, `started at ${host.now()}`);
    }, [
      { at: 50, kind: 'crash', node: 'n1' },
      { at: 60, kind: 'restart', node: 'n1' },
    ]);
    expect(observed.fired).toEqual([{ node: 'n1', time: 160, label: 'started at 60' }]);
  });

  it('a skewed clock fires timers early in virtual time, and reads fast', () => {
    const { observed } = scripted((host, obs) => {
      if (host.id !== 'n3') host.setTimer(100, () => timer(obs, host, 100, 'second'));
    }, [{ at: 50, kind: 'skew', node: 'n2', rate: 2 }]);
    // n2's clock runs twice as fast from virtual 50: its 100 ms timer set at virtual 100 fires at
    // virtual 150, before n1's (virtual 200); by then n2's clock reads 50 + 2 * (150 - 50) = 250.
    expect(observed.fired).toEqual([
      { node: 'n2', time: 250, label: 'second' },
      { node: 'n1', time: 200, label: 'second' },
    ]);
  });
});

describe('network shapes', () => {
  const all = ['n1>n2', 'n1>n3', 'n2>n1', 'n2>n3', 'n3>n1', 'n3>n2'];

  it('a partition blocks exactly the cut links, and heal restores them', () => {
    const { observed } = scripted((host) => {
      broadcastAt(100)(host);
      broadcastAt(300)(host);
    }, [
      { at: 50, kind: 'partition', groups: [['n1', 'n2'], ['n3']] },
      { at: 200, kind: 'heal' },
    ]);
    expect(pairs(observed, 100)).toEqual(['n1>n2', 'n2>n1']);
    expect(pairs(observed, 300)).toEqual(all);
  });

  it('"*" in a partition group stands for every node no other group names', () => {
    const { observed } = scripted(broadcastAt(100), [{ at: 50, kind: 'partition', groups: [['n3'], ['*']] }]);
    expect(pairs(observed)).toEqual(['n1>n2', 'n2>n1']);
  });

  it('a one-way cut is one-way', () => {
    const { observed } = scripted(broadcastAt(100), [{ at: 50, kind: 'cut', from: 'n1', to: 'n2' }]);
    expect(pairs(observed)).toEqual(all.filter((p) => p !== 'n1>n2'));
  });

  it('a bridge partition connects exactly the pairs it names', () => {
    const { observed } = scripted(broadcastAt(100), [{ at: 50, kind: 'bridge', links: [['n1', 'n2'], ['n2', 'n3']] }]);
    expect(pairs(observed)).toEqual(['n1>n2', 'n2>n1', 'n2>n3', 'n3>n2']);
  });

  it('isolating a node cuts it off both ways', () => {
    const { observed } = scripted(broadcastAt(100), [{ at: 50, kind: 'isolate', node: 'n3' }]);
    expect(pairs(observed)).toEqual(['n1>n2', 'n2>n1']);
  });

  it('a message in flight to a node that crashes is dropped, even if it restarts before arrival', () => {
    const { observed } = scripted((host) => {
      if (host.id === 'n1') host.setTimer(100, () => host.send('n2', { type: 'late', at: 0 }));
    }, [
      { at: 99, kind: 'link', from: 'n1', to: 'n2', latency: { minMs: 50, maxMs: 50 } },
      { at: 120, kind: 'crash', node: 'n2' },
      { at: 130, kind: 'restart', node: 'n2' },
    ]);
    expect(observed.received).toEqual([]);
  });

  it('drop and duplicate rates over 10,000 messages land within statistical bounds', () => {
    const count = 10_000;
    const { observed } = scripted((host) => {
      if (host.id !== 'n1') return;
      let sent = 0;
      const burst = (): void => {
        for (let i = 0; i < 100 && sent < count; i++) host.send('n2', { type: 'm', id: sent++ });
        if (sent < count) host.setTimer(1, burst);
      };
      host.setTimer(1, burst);
    }, [], { network: { dropRate: 0.1, duplicateRate: 0.05 } });
    const copies = new Map<number, number>();
    for (const r of observed.received) {
      const id = (r.message as { id: number }).id;
      copies.set(id, (copies.get(id) ?? 0) + 1);
    }
    const delivered = copies.size;
    const duplicated = [...copies.values()].filter((c) => c === 2).length;
    // Binomial bounds at about 4 standard deviations.
    expect(Math.abs(count - delivered - 1000)).toBeLessThan(120);
    expect(Math.abs(duplicated - delivered * 0.05)).toBeLessThan(90);
    expect([...copies.values()].every((c) => c === 1 || c === 2)).toBe(true);
    // A duplicate is the same message delivered twice.
    const twice = [...copies].find(([, c]) => c === 2)![0];
    const deliveries = observed.received.filter((r) => (r.message as { id: number }).id === twice);
    expect(deliveries).toHaveLength(2);
    expect(deliveries[0]!.message).toBe(deliveries[1]!.message);
  });
});

describe('disks through crashes', () => {
  it('unsynced writes are lost on a crash; synced ones survive', () => {
    const seen: unknown[] = [];
    const { result } = scripted((host) => {
      if (host.id !== 'n1') return;
      seen.push([host.storage.get('synced'), host.storage.get('unsynced')]);
      if (seen.length === 1) {
        host.storage.put('synced', 1);
        host.storage.sync();
        host.storage.put('unsynced', 2);
      }
    }, [
      { at: 10, kind: 'crash', node: 'n1', loss: 'all' },
      { at: 20, kind: 'restart', node: 'n1' },
    ]);
    expect(result.violation).toBeUndefined();
    expect(seen).toEqual([[undefined, undefined], [1, undefined]]);
  });
});

describe('adapter faults are findings, not crashes', () => {
  const throwing: RaftFactory = (host) => ({
    receive() {
      throw new Error('boom');
    },
    propose: () => ({ accepted: false }),
    inspect: () => ({ role: 'follower', term: 0 }),
    ...(host.setTimer(5, () => host.send(host.id === 'n1' ? 'n2' : 'n1', 'x')) ? {} : {}),
  });

  it('an exception in receive stops the run with an adapter-error naming the node', () => {
    const result = new Simulation({ seed: 3, factory: throwing, nodes: ['n1', 'n2'], workload: false, faultWindowMs: 100, settleMs: 0 }).run();
    expect(result.violation?.invariant).toBe('adapter-error');
    expect(result.violation?.message).toMatch(/node n[12] threw in receive at .*boom/);
  });

  it('a factory that throws while the cluster is first built points at the implementation options', () => {
    const picky: RaftFactory = (_host, config) => {
      if (config.options.batch !== undefined) throw new Error('unknown option "batch"');
      return { receive() {}, propose: () => ({ accepted: false }), inspect: () => ({ role: 'follower', term: 0 }) };
    };
    const result = new Simulation({ seed: 3, factory: picky, nodes: ['n1'], workload: false, implementationOptions: { batch: 2 }, faultWindowMs: 100, settleMs: 0 }).run();
    expect(result.violation?.message).toBe('node n1 threw in factory at 0.0 ms: Error: unknown option "batch" — at start-up, before any event: check the implementation options ({"batch":2})');
  });

  it('a LogView that throws inside its bounds is an adapter-contract finding naming the index, not a crash', () => {
    let steps = 0;
    const throwingLog: RaftFactory = (host) => {
      host.setTimer(5, () => void steps++);
      const log = { snapshotIndex: 0, snapshotTerm: 0, get lastIndex() { return steps > 0 ? 3 : 0; }, termAt: (i: number) => { if (i === 2) throw new RangeError('hole'); return 1; }, commandAt: () => null };
      return { receive() {}, propose: () => ({ accepted: false }), inspect: () => ({ role: 'follower', term: 1, commitIndex: 0, log }) };
    };
    const result = new Simulation({ seed: 3, factory: throwingLog, nodes: ['n1'], workload: false, faultWindowMs: 100, settleMs: 0, checkers: ALL_CHECKERS }).run();
    expect(result.violation?.invariant).toBe('adapter-contract');
    expect(result.violation?.message).toBe('node n1: its LogView threw on termAt(2), an index within (snapshotIndex, lastIndex] that it must answer: RangeError: hole (the run stopped on RangeError: hole)');
  });

  it('a LogView that gives a term that is not an integer is an adapter-contract finding', () => {
    const sloppy: RaftFactory = () => {
      const log = { snapshotIndex: 0, snapshotTerm: 0, lastIndex: 2, termAt: (i: number) => (i === 1 ? 1 : undefined) as unknown as number, commandAt: () => null };
      return { receive() {}, propose: () => ({ accepted: false }), inspect: () => ({ role: 'follower', term: 1, commitIndex: 0, log }) };
    };
    const result = new Simulation({ seed: 3, factory: sloppy, nodes: ['n1'], workload: false, faultWindowMs: 100, settleMs: 0, checkers: ALL_CHECKERS }).run();
    expect(result.violation?.invariant).toBe('adapter-contract');
    expect(result.violation?.message).toBe('node n1: its LogView gave term undefined at index 2; terms are integers >= 0 (the run stopped on TypeError: LogView.termAt(2) returned undefined)');
  });

  it('nonsense from propose(), or an index that is not one from read(), is an adapter-contract finding', () => {
    const answering = (node: Partial<ReturnType<RaftFactory>>): RaftFactory => () => ({ receive() {}, propose: () => ({ accepted: false }), inspect: () => ({ role: 'leader', term: 1 }), ...node });
    const run = (factory: RaftFactory) => new Simulation({ seed: 3, factory, nodes: ['n1'], faultWindowMs: 500, settleMs: 0 }).run().violation;
    expect(run(answering({ propose: () => undefined as never }))?.message).toBe('node n1: propose() returned undefined; expected { accepted: boolean, index?, leaderHint? }');
    expect(run(answering({ propose: () => ({ accepted: 'yes' }) as never }))?.message).toMatch(/propose\(\) returned \{"accepted":"yes"\}/);
    const badRead = run(answering({ read: (ready) => (ready(Number.NaN), true) }));
    expect(badRead).toMatchObject({ invariant: 'adapter-contract', message: 'node n1: read() called ready(NaN); expected an index, an integer >= 0' });
  });

  it('a checker that throws ends its run with an internal-error finding at a step, not a crash of the runner', () => {
    const faulty: CheckerDefinition = { name: 'faulty', description: 'throws at its 30th step', scope: 'step', needs: [], create: () => {
      let calls = 0;
      return { afterStep: () => { if (++calls === 30) throw new TypeError('oops'); return undefined; } };
    } };
    const result = new Simulation({ seed: 3, factory: createRaft, nodes: ['n1', 'n2', 'n3'], workload: false, faultWindowMs: 1000, settleMs: 0, checkers: [faulty] }).run();
    expect(result.violation?.invariant).toBe('internal-error');
    expect(result.violation?.message).toMatch(/^an exception outside the implementation: TypeError: oops \(at .*\) — a bug in a checker or in raftsim; the seed reproduces it$/);
    expect(result.violation?.step).toBeGreaterThan(0);
  });

  it('nonsense from inspect is an adapter-contract finding', () => {
    const nonsense: RaftFactory = () => ({
      receive() {},
      propose: () => ({ accepted: false }),
      inspect: () => ({ role: 'king', term: -1 }) as never,
    });
    const result = new Simulation({ seed: 3, factory: nonsense, nodes: ['n1'], workload: false, faultWindowMs: 100, settleMs: 0 }).run();
    expect(result.violation?.invariant).toBe('adapter-contract');
    expect(result.violation?.message).toContain('role "king"');
  });

  it('a votedFor that is not a node id, members that are not an array, or a joint flag that is not a boolean, are adapter-contract findings naming the field', () => {
    const viewing = (extra: object): RaftFactory => () => ({
      receive() {},
      propose: () => ({ accepted: false }),
      inspect: () => ({ role: 'follower', term: 0, ...extra }) as never,
    });
    const run = (extra: object) => new Simulation({ seed: 3, factory: viewing(extra), nodes: ['n1'], workload: false, faultWindowMs: 100, settleMs: 0 }).run().violation;
    expect(run({ members: new Set(['n1']) })?.message).toContain('members that are not an array');
    expect(run({ members: ['n1'], joint: 'yes' })?.message).toContain('joint "yes"; expected true, false or no field');
    expect(run({ members: ['n1'], joint: false })).toBeUndefined();
    expect(run({ votedFor: 1 })?.message).toContain('votedFor 1; expected a node id, null or no field');
    expect(run({ votedFor: null })).toBeUndefined();
  });

  it('a timer storm ends at the step budget with a finding', () => {
    const storm: RaftFactory = (host) => {
      const spin = (): void => void host.setTimer(0, spin);
      spin();
      return { receive() {}, propose: () => ({ accepted: false }), inspect: () => ({ role: 'follower', term: 0 }) };
    };
    const result = new Simulation({ seed: 3, factory: storm, nodes: ['n1'], workload: false, faultWindowMs: 100, settleMs: 0, maxSteps: 10_000 }).run();
    expect(result.violation?.invariant).toBe('step-budget');
  });
});

describe('actions that wait for an election (when: "elected")', () => {
  const run = (actions: FaultAction[]) =>
    new Simulation({ seed: 3, factory: createRaft, nodes: NODES, faultWindowMs: 3000, settleMs: 2000, plan: { version: 1, actions }, trace: 'full' }).run();

  it('fire at the step a new leader appears after their time, and aim "leader" at it', () => {
    const result = run([
      { at: 500, kind: 'crash', node: 'leader', loss: 'none', when: 'elected' },
      { at: 1000, kind: 'crash', node: 'leader', loss: 'none' },
    ]);
    const [timed, armed] = [result.faults.find((f) => f.action.when === undefined)!, result.faults.find((f) => f.action.when === 'elected')!];
    expect(timed.time).toBe(1000);
    expect(armed.time).toBeGreaterThan(1000);
    // It struck the node that had just become leader, at that very moment.
    const elected = result.trace.filter((e) => e.k === 'state' && (e.d as { role: string }).role === 'leader' && e.t > 1000)[0]!;
    expect(armed.time).toBe(elected.t);
    expect(armed.outcome).toMatch(new RegExp(`^${elected.n} crashed`));
  });

  it('with nth, wait for that many elections; with afterMs, fire that long after it', () => {
    const result = run([
      { at: 500, kind: 'crash', node: 'leader', loss: 'none' },
      { at: 501, kind: 'crash', node: 'leader', loss: 'none', when: 'elected' },
      { at: 501, kind: 'isolate', node: 'leader', when: 'elected', nth: 2, afterMs: 40 },
    ]);
    const elections = result.trace.filter((e) => e.k === 'state' && (e.d as { role: string }).role === 'leader' && e.t > 500);
    const [first, second] = [result.faults[1]!, result.faults[2]!];
    expect(first.time).toBe(elections[0]!.t);
    expect(second.action.kind).toBe('isolate');
    expect(second.time).toBe(elections[1]!.t + 40);
    expect(second.outcome).toBe(`isolated ${elections[1]!.n}`);
  });

  it('are skipped when no leader is elected before the fault window ends', () => {
    const result = run([{ at: 1000, kind: 'membership', members: ['n1', 'n2', 'n3', 'n4'], when: 'elected' }]);
    expect(result.faults).toEqual([
      { action: { at: 1000, kind: 'membership', members: ['n1', 'n2', 'n3', 'n4'], when: 'elected' }, time: 3000, outcome: 'skipped: no leader was elected between its time and the end of the fault window' },
    ]);
  });
});

describe("'load' actions", () => {
  const run = (actions: FaultAction[]) =>
    new Simulation({ seed: 4, factory: createRaft, nodes: NODES, faultWindowMs: 3000, settleMs: 3000, plan: { version: 1, actions }, keepHistory: true }).run();
  const invoked = (result: ReturnType<typeof run>, from: number, to: number) => result.history!.filter((o) => o.invokeTime >= from && o.invokeTime < to).length;

  it("set the clients' pace from their time to the heal, which restores the scenario's", () => {
    const calm = run([]);
    const busy = run([{ at: 1000, kind: 'load', thinkMs: { minMs: 0, maxMs: 0 } }]);
    expect(invoked(busy, 0, 1000)).toBe(invoked(calm, 0, 1000));
    expect(invoked(busy, 1000, 3000)).toBeGreaterThan(2 * invoked(calm, 1000, 3000));
    expect(invoked(busy, 3500, 6000)).toBeLessThan(1.3 * invoked(calm, 3500, 6000));
  });
});
