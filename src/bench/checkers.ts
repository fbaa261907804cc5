import { performance } from 'node:perf_hooks';
import type { Command, LogView, NodeId, NodeView, Role } from '../adapter/contract.ts';
import type { ClientOperation } from '../sim/history.ts';
import { STEP_CHECKERS } from '../../invariants/index.ts';
import { checkLinearizable } from '../../invariants/linearizability.ts';
import type { Checker, CheckerDefinition, ClusterInfo } from '../../invariants/types.ts';
import type { RaftFactory } from '../adapter/contract.ts';
import { Simulation } from '../sim/engine.ts';
import { median } from './median.ts';

/**
 * Benchmarks of the invariant checkers (wall-clock time is fine here: nothing below runs on a
 * simulation path).
 *
 * (a) Step overhead, the target figure: a real run of the reference Raft whose log grows past
 *     10,000 entries, with every step checker on and off (benchEngine). Also, as an extra figure,
 *     a synthetic five-node cluster replicates a log to 10,000 entries and beyond,
 *     step by step (leader appends, AppendEntries delivered to each follower, responses, commit,
 *     apply to a key-value map, heartbeats), producing an O(1) NodeView after every step as the
 *     engine does. The timed stretch runs with a log already 10,000 long, once with every step
 *     checker fed (afterStep, onApply, onAcknowledged) and once with none; the ratio is the
 *     checkers' overhead on the same work.
 * (b) Linearizability: generated linearizable histories (10,000 operations over 10 keys; 10
 *     concurrent clients on one key), timed through checkLinearizable.
 */

/** A small deterministic generator (mulberry32), so every run benchmarks the same work. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SynthNode {
  readonly id: NodeId;
  role: Role;
  term: number;
  commitIndex: number;
  applied: number;
  readonly terms: number[];
  readonly commands: unknown[];
  readonly kv: Map<string, string>;
}

/** An O(1) window on a node's log arrays, as a careful implementation's inspect() gives one. */
class SynthLogView implements LogView {
  readonly snapshotIndex = 0;
  readonly snapshotTerm = 0;
  readonly lastIndex: number;

  constructor(
    private readonly terms: readonly number[],
    private readonly commands: readonly unknown[],
  ) {
    this.lastIndex = terms.length - 1;
  }

  termAt(index: number): number {
    return this.terms[index]!;
  }

  commandAt(index: number): unknown {
    return this.commands[index];
  }
}

function logView(node: SynthNode): LogView {
  return new SynthLogView(node.terms, node.commands);
}

function nodeView(node: SynthNode): NodeView {
  return { role: node.role, term: node.term, votedFor: 'n1', commitIndex: node.commitIndex, members: MEMBERS, log: logView(node) };
}

const MEMBERS: readonly NodeId[] = ['n1', 'n2', 'n3', 'n4', 'n5'];

interface Message {
  readonly to: number;
  readonly from: number;
  readonly kind: 'append' | 'ack';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly { term: number; command: unknown }[];
  readonly commit: number;
  readonly match: number;
}

/**
 * Drives the synthetic cluster for `steps` steps, calling `observe` after each step with the
 * changed node's view (and `applied`/`acked` for applies and acknowledgements).
 */
class SynthCluster {
  readonly nodes: SynthNode[];
  private readonly queue: Message[] = [];
  private head = 0;
  private readonly match: number[];
  private seq = 0;
  private step = 0;

  constructor(private readonly checkers: Checker[] | undefined) {
    this.nodes = MEMBERS.map((id, i) => ({
      id,
      role: i === 0 ? 'leader' : 'follower',
      term: 1,
      commitIndex: 0,
      applied: 0,
      terms: [0],
      commands: [undefined],
      kv: new Map(),
    }));
    this.match = MEMBERS.map(() => 0);
    // The followers show their votes for n1 (every view says votedFor n1) before n1 shows itself leader: an election as election-quorum expects it.
    for (let i = 1; i < this.nodes.length; i++) this.observe(i);
  }

  private observe(index: number): void {
    const checkers = this.checkers;
    const view = nodeView(this.nodes[index]!);
    if (!checkers) return;
    for (let i = 0; i < checkers.length; i++) checkers[i]!.afterStep?.(this.nodes[index]!.id, view, this.step);
  }

  private apply(index: number): void {
    const node = this.nodes[index]!;
    const checkers = this.checkers;
    while (node.applied < node.commitIndex) {
      const at = ++node.applied;
      const command = node.commands[at] as Command;
      if (command.op.type === 'append') node.kv.set(command.op.key, (node.kv.get(command.op.key) ?? '') + command.op.value);
      if (!checkers) continue;
      for (let i = 0; i < checkers.length; i++) checkers[i]!.onApply?.(node.id, at, command, this.step);
      if (index === 0) for (let i = 0; i < checkers.length; i++) checkers[i]!.onAcknowledged?.(command, node.id, at, this.step);
    }
  }

  private broadcast(withEntry: boolean): void {
    const leader = this.nodes[0]!;
    const last = leader.terms.length - 1;
    for (let f = 1; f < this.nodes.length; f++) {
      const from = withEntry ? last - 1 : last;
      const entries = [];
      for (let i = from + 1; i <= last; i++) entries.push({ term: leader.terms[i]!, command: leader.commands[i] });
      this.queue.push({ to: f, from: 0, kind: 'append', prevIndex: from, prevTerm: leader.terms[from]!, entries, commit: leader.commitIndex, match: 0 });
    }
  }

  /** One event: a leader proposal (every 10th step a heartbeat), or a message delivery. */
  run(steps: number): void {
    for (let s = 0; s < steps; s++) {
      this.step++;
      if (this.head >= this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
        const leader = this.nodes[0]!;
        if (this.step % 10 === 0) {
          this.broadcast(false);
        } else {
          this.seq++;
          const command: Command = { id: `c1.${this.seq}`, client: 'c1', seq: this.seq, op: { type: 'append', key: `k${this.seq % 10}`, value: `${this.seq};` } };
          leader.terms.push(leader.term);
          leader.commands.push(command);
          this.broadcast(true);
        }
        this.observe(0);
        continue;
      }
      const message = this.queue[this.head++]!;
      const node = this.nodes[message.to]!;
      if (message.kind === 'append') {
        if (node.terms.length - 1 >= message.prevIndex && node.terms[message.prevIndex] === message.prevTerm) {
          let at = message.prevIndex;
          for (const entry of message.entries) {
            at++;
            if (node.terms[at] !== entry.term) {
              node.terms.length = at;
              node.commands.length = at;
              node.terms.push(entry.term);
              node.commands.push(entry.command);
            }
          }
          const commit = Math.min(message.commit, at);
          if (commit > node.commitIndex) node.commitIndex = commit;
          this.apply(message.to);
          this.queue.push({ to: 0, from: message.to, kind: 'ack', prevIndex: 0, prevTerm: 0, entries: [], commit: 0, match: at });
        }
      } else {
        this.match[message.from] = Math.max(this.match[message.from]!, message.match);
        const sorted = [...this.match.slice(1)].sort((a, b) => b - a);
        const majority = sorted[1]!; // with the leader itself: 3 of 5
        if (majority > node.commitIndex) node.commitIndex = majority;
        this.apply(0);
      }
      this.observe(message.to);
    }
  }

  get logLength(): number {
    return this.nodes[0]!.terms.length - 1;
  }
}

const CLUSTER: ClusterInfo = { nodes: MEMBERS, initialMembers: MEMBERS, electionTimeoutMaxMs: 300 };

/** CPU time of this process in ms: steadier than wall time on a shared machine. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function timeCluster(withCheckers: boolean, prefill: number, timedSteps: number): { ms: number; logLength: number } {
  const checkers = withCheckers ? STEP_CHECKERS.map((d) => d.create(CLUSTER)) : undefined;
  const cluster = new SynthCluster(checkers);
  while (cluster.logLength < prefill) cluster.run(1000);
  const start = cpuMs();
  cluster.run(timedSteps);
  return { ms: cpuMs() - start, logLength: cluster.logLength };
}

export interface EngineBench {
  /** Time with every step checker on over time with none, for the same run (same seed, same events): the median over on/off pairs. */
  readonly ratio: number;
  /** The best time with checkers over the best time without. */
  readonly bestOfEachRatio: number;
  readonly checkersOnMs: number;
  readonly checkersOffMs: number;
  readonly events: number;
  /** The longest log at the end of the run (no snapshot compacted it). */
  readonly logLength: number;
  readonly perStepMicros: { readonly on: number; readonly off: number };
  readonly rounds: number;
}

/**
 * The issue's figure: a real run of the reference Raft (src/raft) on the engine, a 5-node
 * cluster under 10 busy clients whose log grows past 10,000 entries (snapshots switched off by a
 * threshold no run reaches, so the log is never compacted), timed with every step checker on and
 * with none, over the same seed. The JIT is warmed on both paths first; then on and off alternate
 * in pairs (the order flips every round) and the median of the pairs' ratios is the figure.
 * Undefined when src/raft cannot be loaded.
 */
export async function benchEngine(options: { rounds?: number; virtualMs?: number; minLog?: number } = {}): Promise<EngineBench | undefined> {
  const rounds = options.rounds ?? 9;
  const virtualMs = options.virtualMs ?? 75_000;
  let createRaft: RaftFactory;
  try {
    createRaft = ((await import('../raft/index.ts')) as { createRaft: RaftFactory }).createRaft;
  } catch {
    return undefined;
  }
  let logLength = 0;
  const measure: CheckerDefinition = {
    name: 'log-length',
    description: 'records the longest final log (finish only, so it costs nothing per step)',
    scope: 'run',
    needs: [],
    create: () => ({
      finish(record) {
        for (const view of record.finalViews.values()) logLength = Math.max(logLength, view.log?.lastIndex ?? 0);
        return undefined;
      },
    }),
  };
  const run = (on: boolean, ms: number) => {
    const start = cpuMs();
    const result = new Simulation({
      seed: 7,
      factory: createRaft,
      nodes: MEMBERS,
      implementationOptions: { snapshotThreshold: 1_000_000_000 },
      workload: { clients: 10, keys: 10, thinkMs: { minMs: 0, maxMs: 2 } },
      faultWindowMs: ms,
      settleMs: 0,
      checkers: on ? [...STEP_CHECKERS, measure] : [measure],
    }).run();
    if (result.violation) throw new Error(`benchEngine: ${result.violation.invariant}: ${result.violation.message}`);
    return { ms: cpuMs() - start, events: result.events, hash: result.traceHash };
  };
  // Warm-up on a shorter run, both ways.
  run(false, virtualMs / 4);
  run(true, virtualMs / 4);
  let on = Infinity;
  let off = Infinity;
  let events = 0;
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const first = r % 2 === 0;
    const a = run(first, virtualMs);
    const b = run(!first, virtualMs);
    if (a.hash !== b.hash) throw new Error('benchEngine: the checkers changed the run (trace hashes differ)');
    const [withCheckers, without] = first ? [a, b] : [b, a];
    on = Math.min(on, withCheckers.ms);
    off = Math.min(off, without.ms);
    ratios.push(withCheckers.ms / without.ms);
    events = a.events;
    await Promise.resolve();
  }
  if (options.minLog !== undefined && logLength < options.minLog) throw new Error(`benchEngine: the log reached only ${logLength} entries`);
  // The median of the paired ratios: a pair shares the machine's load, so it is steadier than best against best.
  return {
    ratio: median(ratios),
    bestOfEachRatio: on / off,
    checkersOnMs: on,
    checkersOffMs: off,
    events,
    logLength,
    perStepMicros: { on: (on * 1000) / events, off: (off * 1000) / events },
    rounds,
  };
}

export interface CheckerBench {
  /**
   * The target figure (issue #4): every step checker on over none, in the same real run of a
   * 5-node cluster whose log grows past 10,000 entries (benchEngine); the synthetic ratio when
   * the engine bench is off or src/raft is missing.
   */
  readonly overheadRatio: number;
  readonly tenThousandEntryLogOverheadRatio: number | undefined;
  /** Per event of that run, with and without the checkers (the synthetic figures without it). */
  readonly perStepMicros: { readonly on: number; readonly off: number };
  readonly engine: EngineBench | undefined;
  /** The synthetic cluster's own ratio: its steps do far less work than a real node's, so the ratio is higher. */
  readonly syntheticStepOverheadRatio: number;
  readonly synthetic: {
    readonly checkersOnMs: number;
    readonly checkersOffMs: number;
    readonly steps: number;
    readonly perStepMicros: { readonly on: number; readonly off: number };
  };
  /** Synthetic log length when the timed stretch began and ended. */
  readonly logLengthFrom: number;
  readonly logLengthTo: number;
}

export async function benchCheckers(options: { prefill?: number; steps?: number; rounds?: number; engine?: boolean; engineVirtualMs?: number } = {}): Promise<CheckerBench> {
  const prefill = options.prefill ?? 10_000;
  const steps = options.steps ?? 200_000;
  const rounds = options.rounds ?? 5;
  // Warm up the JIT on both paths, then alternate and keep the best of a few rounds of each.
  timeCluster(true, 1000, 5000);
  timeCluster(false, 1000, 5000);
  let on = Infinity;
  let off = Infinity;
  let to = 0;
  for (let r = 0; r < rounds; r++) {
    const first = r % 2 === 0;
    const a = timeCluster(first, prefill, steps);
    const b = timeCluster(!first, prefill, steps);
    off = Math.min(off, first ? b.ms : a.ms);
    on = Math.min(on, first ? a.ms : b.ms);
    to = a.logLength;
    await Promise.resolve();
  }
  const engine = options.engine === false ? undefined : await benchEngine({ rounds: 2 * rounds - 1, virtualMs: options.engineVirtualMs ?? 75_000, minLog: 10_000 });
  const synthetic = { checkersOnMs: on, checkersOffMs: off, steps, perStepMicros: { on: (on * 1000) / steps, off: (off * 1000) / steps } };
  return {
    overheadRatio: engine ? engine.ratio : on / off,
    tenThousandEntryLogOverheadRatio: engine?.ratio,
    perStepMicros: engine ? engine.perStepMicros : synthetic.perStepMicros,
    engine,
    syntheticStepOverheadRatio: on / off,
    synthetic,
    logLengthFrom: prefill,
    logLengthTo: to,
  };
}

/**
 * A linearizable key-value history: closed-loop clients with random think times and latencies;
 * each operation takes effect at a random instant between its call and its return, in the order
 * of those instants. A share of writes time out (their effect happens, or not, and the client
 * never learns which).
 */
export function randomHistory(options: { operations: number; clients: number; keys: number; seed: number; timeoutRate?: number; maxLatency?: number }): ClientOperation[] {
  const random = seededRandom(options.seed);
  const maxLatency = options.maxLatency ?? 20;
  const clientTime = Array.from({ length: options.clients }, () => random() * 5);
  const seqs = Array.from({ length: options.clients }, () => 0);
  const pending: { record: ClientOperation; at: number; effect: boolean }[] = [];
  for (let id = 0; id < options.operations; id++) {
    // The client whose next call comes first.
    let c = 0;
    for (let i = 1; i < options.clients; i++) if (clientTime[i]! < clientTime[c]!) c = i;
    const invokeTime = clientTime[c]!;
    const latency = 1 + random() * maxLatency;
    const key = `k${Math.floor(random() * options.keys)}`;
    const roll = random();
    const client = `c${c + 1}`;
    const seq = ++seqs[c]!;
    const op: ClientOperation['op'] = roll < 0.3 ? { type: 'put', key, value: `${client}.${seq}` } : roll < 0.6 ? { type: 'append', key, value: `${client}.${seq};` } : { type: 'get', key };
    const timedOut = op.type !== 'get' && random() < (options.timeoutRate ?? 0.02);
    const record: ClientOperation = { id, client, seq, op, invokeTime, completeTime: invokeTime + latency, status: timedOut ? 'timeout' : 'ok' };
    if (timedOut) delete record.completeTime;
    pending.push({ record, at: invokeTime + random() * latency, effect: !timedOut || random() < 0.5 });
    clientTime[c] = invokeTime + latency + random() * 10;
  }
  pending.sort((a, b) => a.at - b.at);
  const state = new Map<string, string>();
  for (const { record, effect } of pending) {
    const op = record.op;
    if (!effect) continue;
    if (op.type === 'get') record.output = state.get(op.key) ?? '';
    else if (op.type === 'put') state.set(op.key, op.value);
    else state.set(op.key, (state.get(op.key) ?? '') + op.value);
  }
  return pending.map((p) => p.record).sort((a, b) => a.id - b.id);
}

export function benchLinearizability(): { ops10kMs: number; concurrent10Ms: number; concurrentOperations: number } {
  const big = randomHistory({ operations: 10_000, clients: 10, keys: 10, seed: 1 });
  const concurrentOperations = 2_000;
  const hot = randomHistory({ operations: concurrentOperations, clients: 10, keys: 1, seed: 2 });
  let start = performance.now();
  const a = checkLinearizable(big);
  const ops10kMs = performance.now() - start;
  start = performance.now();
  const b = checkLinearizable(hot);
  const concurrent10Ms = performance.now() - start;
  if (a.ok !== true || b.ok !== true) throw new Error(`benchLinearizability: a generated linearizable history was judged ${String(a.ok)}/${String(b.ok)}`);
  return { ops10kMs, concurrent10Ms, concurrentOperations };
}

// `node --import tsx src/bench/checkers.ts` prints both benchmarks.
if (import.meta.url === `file://${process.argv[1]}`) {
  void benchCheckers().then((steps) => {
    console.log('step checkers', JSON.stringify(steps, null, 2));
    console.log('linearizability', JSON.stringify(benchLinearizability()));
  });
}
