import type {
  ClusterConfig,
  Command,
  LogView,
  NodeHost,
  NodeId,
  NodeView,
  ProposeResult,
  RaftFactory,
  RaftNode,
  Snapshot,
  TimingConfig,
} from '../adapter/contract.ts';
import type { FaultAction, FaultPlan, NodeRef } from '../faults/plan.ts';
import type { Capability, Checker, CheckerDefinition, ClusterInfo, ClusterStatus, MembershipChange, RunRecord, Violation } from '../../invariants/types.ts';
import { ClientPool, DEFAULT_WORKLOAD, type ClientReply, type ClientRequest, type WorkloadConfig } from './clients.ts';
import { SimDisk, type CrashLoss } from './disk.ts';
import type { ClientOperation } from './history.ts';
import { KvStateMachine, isFrameworkCommand } from './kv.ts';
import { DEFAULT_LINK, Network, type LinkBehaviour } from './network.ts';
import { EventQueue } from './queue.ts';
import { Rng } from './rng.ts';
import { Trace, TRACE_KINDS, type TraceEntry, type TraceMode } from './trace.ts';
import { describeError } from '../errors.ts';

export const DEFAULT_TIMING: TimingConfig = { electionTimeoutMinMs: 150, electionTimeoutMaxMs: 300, heartbeatMs: 50 };

export interface SimulationOptions {
  readonly seed: number;
  readonly factory: RaftFactory;
  readonly nodes: readonly NodeId[];
  /** Voting members at start; defaults to all nodes. */
  readonly initialMembers?: readonly NodeId[];
  readonly timing?: TimingConfig;
  /** Options passed through to the implementation. */
  readonly implementationOptions?: Readonly<Record<string, unknown>>;
  readonly network?: Partial<LinkBehaviour>;
  /** The simulated clients; `false` runs no clients. */
  readonly workload?: Partial<WorkloadConfig> | false;
  readonly plan?: FaultPlan;
  /** Virtual time at which the fault window ends and the cluster is healed. */
  readonly faultWindowMs?: number;
  /** Virtual time after the heal that the run goes on for (liveness needs it). */
  readonly settleMs?: number;
  /** Clients start no new operation this long before the end, so the cluster can converge. Default 1000. */
  readonly quiesceMs?: number;
  readonly checkers?: readonly CheckerDefinition[];
  readonly maxSteps?: number;
  readonly trace?: TraceMode;
  /** Keep the clients' whole history in the result (it grows with virtual time); a full trace keeps it too. */
  readonly keepHistory?: boolean;
}

export interface SkippedCheck {
  readonly checker: string;
  readonly reason: string;
}

export interface AppliedFault {
  readonly action: FaultAction;
  readonly time: number;
  /** What the action did, or why it was skipped. */
  readonly outcome: string;
}

export interface RunResult {
  readonly seed: number;
  readonly traceHash: string;
  readonly events: number;
  readonly virtualMs: number;
  readonly violation?: Violation;
  /** Only when asked for (SimulationOptions.keepHistory, or a full trace). */
  readonly history?: readonly ClientOperation[];
  readonly capabilities: readonly Capability[];
  readonly skippedChecks: readonly SkippedCheck[];
  readonly faults: readonly AppliedFault[];
  readonly trace: readonly TraceEntry[];
  readonly traceOmitted: number;
}

const enum EventKind {
  Deliver,
  Timer,
  Fault,
  ClientRequest,
  ClientReply,
  ClientTick,
  Heal,
  Quiesce,
}

interface SimEvent {
  time: number;
  seq: number;
  kind: EventKind;
  /** Target node or client index. */
  target: number;
  /** Sender node index, or the timer id. */
  source: number;
  /** The target node's incarnation when scheduled; a crash makes older events stale. */
  epoch: number;
  payload: unknown;
  /** Virtual time the event was scheduled (a message's send time, for traces). */
  sent: number;
}

const ROLE_CODES: Record<string, number> = { follower: 1, candidate: 2, leader: 3, learner: 4, precandidate: 5 };

/**
 * A node's live timers by id, in two arrays sorted by id. Ids come from one growing counter, so a
 * new timer goes at the end; lookups are binary searches. A node keeps a handful of timers at
 * once, and over a few entries this beats a Map, whose delete was the costly part of every fire.
 */
class TimerSet {
  private readonly ids: number[] = [];
  private readonly fires: (() => void)[] = [];

  /** Adds timer `id`, which is above every id added before (they come from one counter). */
  add(id: number, fire: () => void): void {
    this.ids.push(id);
    this.fires.push(fire);
  }

  /** Removes timer `id` and returns its callback; undefined when it is not live. */
  take(id: number): (() => void) | undefined {
    const ids = this.ids;
    const i = this.find(id);
    if (ids[i] !== id) return undefined;
    const fire = this.fires[i];
    this.removeAt(i);
    return fire;
  }

  delete(id: number): void {
    const i = this.find(id);
    if (this.ids[i] === id) this.removeAt(i);
  }

  clear(): void {
    this.ids.length = 0;
    this.fires.length = 0;
  }

  /** The first position whose id is >= `id`. */
  private find(id: number): number {
    const ids = this.ids;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private removeAt(i: number): void {
    const ids = this.ids;
    const fires = this.fires;
    const last = ids.length - 1;
    for (let j = i; j < last; j++) {
      ids[j] = ids[j + 1]!;
      fires[j] = fires[j + 1]!;
    }
    ids.pop();
    fires.pop();
  }
}

/** The engine's record of one server: its disk outlives its incarnations. */
class NodeSlot {
  up = false;
  epoch = 0;
  incarnation = 0;
  raft: RaftNode | undefined;
  kv = new KvStateMachine();
  readonly timers = new TimerSet();
  /** Client requests waiting for their command to be applied here, by command id. */
  readonly waitingWrites = new Map<string, ClientRequest[]>();
  /** Reads waiting for the state machine to reach their read index. */
  waitingReads: { readIndex: number; request: ClientRequest }[] = [];
  view: NodeView | undefined;
  /** The view last offered to the checkers, to trace role and term changes. */
  lastObserved: NodeView | undefined;
  clockRate = 1;
  clockBaseVirtual = 0;
  clockBaseLocal = 0;
  /** The step at which this incarnation started, and the last at which the node read a corrupted value from its disk (-1: never). */
  startStep = 0;
  corruptedReadStep = -1;
  /** Stopped for good: it threw on reading a corrupted value (fail-stop); no restart or heal brings it back. */
  halted = false;

  constructor(
    readonly id: NodeId,
    readonly index: number,
    readonly disk: SimDisk,
  ) {}

  localTime(virtual: number): number {
    return this.clockBaseLocal + (virtual - this.clockBaseVirtual) * this.clockRate;
  }
}

/** The NodeHost of one incarnation; once that incarnation has crashed it does nothing. */
class SimHost implements NodeHost {
  readonly id: NodeId;
  readonly storage: SimDisk;

  constructor(
    private readonly sim: Simulation,
    private readonly slot: NodeSlot,
    private readonly epoch: number,
    private readonly rng: Rng,
  ) {
    this.id = slot.id;
    this.storage = slot.disk;
  }

  private get live(): boolean {
    return this.slot.epoch === this.epoch && this.slot.up;
  }

  now(): number {
    return this.slot.localTime(this.sim.now);
  }

  send(to: NodeId, message: unknown): void {
    if (this.live) this.sim.sendMessage(this.slot, to, message);
  }

  setTimer(delayMs: number, fire: () => void): number {
    return this.sim.setTimer(this.slot, this.epoch, delayMs, fire);
  }

  clearTimer(timer: number): void {
    if (this.live) this.slot.timers.delete(timer);
  }

  random(): number {
    return this.rng.next();
  }

  apply(index: number, command: unknown): void {
    if (this.live) this.sim.applyEntry(this.slot, index, command);
  }

  snapshot(): Snapshot {
    return this.slot.kv.snapshot();
  }

  restore(snapshot: Snapshot): void {
    if (this.live) this.sim.restoreSnapshot(this.slot, snapshot);
  }
}

/** Thrown inside the run loop to stop it at a violation. */
class StopRun extends Error {
  constructor(readonly violation: Violation) {
    super(violation.message);
  }
}

/** Thrown out of a node's step once it has stopped on a corrupted disk (see Simulation.halt): the step ends there, the run goes on. */
class NodeHalted extends Error {}

/**
 * The discrete-event simulator. It owns virtual time, the network, the disks and the clients;
 * the implementation runs inside it and is reached only through the adapter contract. Each
 * step pops the earliest event (by virtual time, then insertion order), executes it, and offers
 * the changed node to every checker.
 */
export class Simulation {
  now = 0;
  private steps = 0;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly freeEvents: SimEvent[] = [];
  private readonly slots: NodeSlot[];
  private readonly indexOf = new Map<NodeId, number>();
  private readonly network: Network;
  private readonly linkRngs: Rng[];
  private readonly faultRng: Rng;
  private readonly clientLinkRng: Rng;
  private readonly clients: ClientPool | undefined;
  /** The clients' whole history, kept only when asked for: checkers follow it through their hooks. */
  private readonly history: ClientOperation[] | undefined;
  private readonly trace: Trace;
  /** trace.full, read on every step. */
  private readonly traceFull: boolean;
  private readonly config: ClusterConfig;
  private readonly checkers: { name: string; checker: Checker }[] = [];
  /** The checkers that have each per-event hook, picked once: a hook nobody has costs nothing per event. */
  private readonly stepCheckers: { name: string; checker: Checker }[] = [];
  private readonly applyCheckers: { name: string; checker: Checker }[] = [];
  private readonly ackCheckers: { name: string; checker: Checker }[] = [];
  private readonly invokeCheckers: Checker[] = [];
  private readonly operationOkCheckers: Checker[] = [];
  /** The time handed to onApply, kept as a boxed value (undefined at first, so the field holds any value; see applyEntry). */
  private checkerTime: number | undefined = undefined;
  private readonly skipped: SkippedCheck[] = [];
  private readonly faults: AppliedFault[] = [];
  private readonly membershipChanges: MembershipChange[] = [];
  private readonly statuses: ClusterStatus[] = [];
  private capabilities: Capability[] = [];
  private nextTimerId = 1;
  /** Crashed nodes, most recent last: the "crashed" NodeRef resolves to the last one still down. */
  private readonly crashOrder: NodeSlot[] = [];
  /** Actions with `when: "elected"` whose time has come, and how many elections each still awaits. */
  private armed: { readonly action: FaultAction; elections: number }[] = [];
  /** Armed actions released by an election, about to fire. */
  private readonly firing = new Set<FaultAction>();
  private healedAt: number | undefined;
  private violation: Violation | undefined;
  private readonly endTime: number;
  private readonly faultWindowMs: number;
  private readonly maxSteps: number;
  private readonly rng: Rng;

  constructor(private readonly options: SimulationOptions) {
    if (options.nodes.length === 0) throw new Error('SimulationOptions.nodes: give at least one node id');
    this.rng = new Rng(options.seed);
    options.nodes.forEach((id, i) => {
      if (this.indexOf.has(id)) throw new Error(`SimulationOptions.nodes: node id "${id}" appears twice`);
      this.indexOf.set(id, i);
    });
    this.slots = options.nodes.map((id, i) => new NodeSlot(id, i, new SimDisk()));
    for (const slot of this.slots) slot.disk.onCorruptedRead = () => void (slot.corruptedReadStep = this.steps);
    const n = options.nodes.length;
    this.network = new Network(n, { ...DEFAULT_LINK, ...options.network });
    const networkRng = this.rng.fork('network');
    this.linkRngs = [];
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) this.linkRngs.push(networkRng.fork(`${a}>${b}`));
    this.clientLinkRng = networkRng.fork('clients');
    this.faultRng = this.rng.fork('faults');
    this.trace = new Trace(options.trace ?? 'hash');
    this.traceFull = this.trace.full;
    this.history = options.keepHistory || this.traceFull ? [] : undefined;
    const timing = options.timing ?? DEFAULT_TIMING;
    this.config = {
      nodes: [...options.nodes],
      initialMembers: [...(options.initialMembers ?? options.nodes)],
      timing,
      options: options.implementationOptions ?? {},
    };
    const lastAction = Math.max(0, ...(options.plan?.actions ?? []).map((a) => a.at));
    this.faultWindowMs = Math.max(options.faultWindowMs ?? 0, lastAction);
    this.endTime = this.faultWindowMs + (options.settleMs ?? 10 * timing.electionTimeoutMaxMs + 2000);
    this.maxSteps = options.maxSteps ?? 5_000_000;
    if (options.workload !== false) {
      const workload = { ...DEFAULT_WORKLOAD, ...options.workload };
      const clientRng = this.rng.fork('clients');
      this.clients = new ClientPool(workload, this.clientTransport(), (name) => clientRng.fork(name));
    }
  }

  /** Runs to the end (or the first violation) and returns the result. */
  run(): RunResult {
    try {
      this.startNodes();
      for (const action of this.options.plan?.actions ?? []) this.schedule(action.at, EventKind.Fault, -1, -1, 0, action);
      this.schedule(this.faultWindowMs, EventKind.Heal, -1, -1, 0, undefined);
      const quiesceAt = Math.max(this.faultWindowMs, this.endTime - (this.options.quiesceMs ?? 1000));
      if (this.clients) this.schedule(quiesceAt, EventKind.Quiesce, -1, -1, 0, undefined);
      this.clients?.start();
      this.recordStatus();
      this.loop();
      this.finish();
    } catch (error) {
      // Anything else thrown is a finding too, never a crash of the campaign: the seed reproduces it.
      this.violation = error instanceof StopRun ? error.violation : this.unexpected(error);
    }
    if (this.violation && this.traceFull) {
      this.trace.record({ i: this.steps, t: this.now, k: 'violation', d: this.violation });
    }
    return {
      seed: this.options.seed,
      traceHash: this.trace.hash,
      events: this.steps,
      virtualMs: this.now,
      ...(this.violation ? { violation: this.violation } : {}),
      ...(this.history ? { history: this.history } : {}),
      capabilities: this.capabilities,
      skippedChecks: this.skipped,
      faults: this.faults,
      trace: this.trace.entries,
      traceOmitted: this.trace.omitted,
    };
  }

  private loop(): void {
    const queue = this.queue;
    const endTime = this.endTime;
    for (;;) {
      if (queue.size === 0 || queue.peekTime() > endTime) break;
      const event = queue.pop()!;
      this.now = event.time;
      if (++this.steps > this.maxSteps) {
        this.fail('step-budget', `the run exceeded ${this.maxSteps} steps by virtual time ${this.now.toFixed(1)} ms: a livelock or timer storm in the implementation`);
      }
      try {
        this.dispatch(event);
      } catch (error) {
        if (!(error instanceof NodeHalted)) throw error;
      }
      // Executed events are reused: most of a run's allocations would otherwise be events.
      event.payload = undefined;
      this.freeEvents.push(event);
    }
    this.now = Math.max(this.now, this.endTime);
  }

  private dispatch(event: SimEvent): void {
    switch (event.kind) {
      case EventKind.Deliver:
        return this.deliver(event);
      case EventKind.Timer:
        return this.fireTimer(event);
      case EventKind.Fault:
        return this.applyFault(event.payload as FaultAction);
      case EventKind.ClientRequest:
        return this.serveRequest(event);
      case EventKind.ClientReply:
        this.traceEvent('reply', event.target, -1, event.payload);
        return this.clients!.onReply(event.target, event.payload as ClientReply);
      case EventKind.ClientTick:
        return this.clients!.onTick(event.target, event.source);
      case EventKind.Heal:
        return this.heal();
      case EventKind.Quiesce:
        return this.clients!.stop();
    }
  }

  // ---- nodes -------------------------------------------------------------------------------

  private startNodes(): void {
    for (const slot of this.slots) this.startNode(slot, false);
    // Capabilities are read off the first node; checkers exist only from here on.
    this.enableCheckers(this.slots[0]!.raft!, this.slots[0]!.view!);
    for (const slot of this.slots) this.observe(slot, slot.view!);
  }

  private startNode(slot: NodeSlot, restart: boolean): void {
    slot.up = true;
    slot.epoch++;
    slot.incarnation++;
    slot.startStep = this.steps;
    slot.kv = new KvStateMachine();
    const host = new SimHost(this, slot, slot.epoch, this.rng.fork(`node:${slot.id}:${slot.incarnation}`));
    slot.raft = this.callAdapter(slot, restart ? 'factory (restart)' : 'factory', () => this.options.factory(host, this.config));
    const view = this.inspect(slot);
    slot.view = view;
    if (!restart) return;
    // The hash never depends on the trace mode: a report's full trace hashes like the hash-only run.
    this.trace.mix(this.now, TRACE_KINDS.restart, slot.index, view.term);
    slot.lastObserved = view;
    if (this.traceFull) this.trace.record({ i: this.steps, t: this.now, k: 'state', n: slot.id, d: { role: view.role, term: view.term, commitIndex: view.commitIndex } });
    for (const { name, checker } of this.checkers) this.report(name, checker.onRestart?.(slot.id, view, this.now));
  }

  /** Restarts a node; undefined, or how it stopped for good at once (see halt). */
  private restartNode(slot: NodeSlot): string | undefined {
    try {
      this.startNode(slot, true);
      return undefined;
    } catch (error) {
      if (error instanceof NodeHalted) return error.message;
      throw error;
    }
  }

  private crashNode(slot: NodeSlot, loss: CrashLoss): string {
    if (!slot.up) return `${slot.id} was already down`;
    const raft = slot.raft;
    slot.up = false;
    slot.epoch++;
    slot.raft = undefined;
    slot.view = undefined;
    slot.lastObserved = undefined;
    slot.timers.clear();
    slot.waitingWrites.clear();
    slot.waitingReads = [];
    if (raft?.stop) this.callAdapter(slot, 'stop', () => raft.stop!());
    this.crashOrder.push(slot);
    const lost = slot.disk.crash(loss, this.faultRng);
    for (const { checker } of this.checkers) checker.onCrash?.(slot.id, this.now);
    return `${slot.id} crashed, ${lost} unsynced write(s) lost`;
  }

  /** Runs adapter code; an exception becomes a finding, never a crash of the runner. */
  private callAdapter<T>(slot: NodeSlot, what: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      this.adapterThrew(slot, what, error);
    }
  }

  private adapterThrew(slot: NodeSlot, what: string, error: unknown): never {
    if (error instanceof StopRun || error instanceof NodeHalted) throw error;
    const detail = describeError(error);
    if (slot.corruptedReadStep === this.steps) this.halt(slot, `it threw in ${what} on reading a corrupted value (${detail})`);
    // A throw while the cluster is first built comes before any fault: most often the options.
    const startUp = this.steps === 0 && what === 'factory' ? ` — at start-up, before any event: check the implementation options (${JSON.stringify(this.config.options)})` : '';
    this.fail('adapter-error', `node ${slot.id} threw in ${what} at ${this.now.toFixed(1)} ms: ${detail}${startUp}${this.storageFaultHint(slot)}`);
  }

  /**
   * Fail-stop on a corrupted disk: a node that throws in the very step in which it read a
   * corrupted value has refused to run on it, as etcd panics on a checksum mismatch. That is a
   * legitimate answer to a storage fault, not a finding: the node crashes and stays down for the
   * rest of the run (no restart action or heal brings it back), and the run goes on without it.
   */
  private halt(slot: NodeSlot, reason: string): never {
    this.crashNode(slot, 'none');
    slot.halted = true;
    const outcome = `${slot.id} stopped for good: ${reason}`;
    this.trace.mixString(outcome);
    if (this.traceFull) this.trace.record({ i: this.steps, t: this.now, k: 'crash', n: slot.id, d: { halted: outcome } });
    this.recordStatus();
    throw new NodeHalted(outcome);
  }

  /** For a finding at a node that read a corrupted value in this incarnation: what happened to its disk, and the choices. */
  private storageFaultHint(slot: NodeSlot): string {
    if (slot.corruptedReadStep < slot.startStep) return '';
    return ` — it had read a corrupted value from its disk at step ${slot.corruptedReadStep} (a storage fault: see isCorrupted in src/adapter/contract.ts; a node may repair, fence itself, or stop by throwing in the step that reads it; a scenario without "corrupt" in generate.kinds runs without storage faults)`;
  }

  private inspect(slot: NodeSlot): NodeView {
    let view: NodeView;
    try {
      view = slot.raft!.inspect();
    } catch (error) {
      this.adapterThrew(slot, 'inspect', error);
    }
    const problem = describeBadView(view);
    if (problem) this.fail('adapter-contract', `node ${slot.id}: inspect() returned ${problem}${this.storageFaultHint(slot)}`);
    return view;
  }

  /** After a step at `slot`: trace its state, hash it, and offer it to every checker. */
  private afterStep(slot: NodeSlot): void {
    if (!slot.up || slot.raft === undefined) return;
    this.observe(slot, this.inspect(slot));
  }

  private observe(slot: NodeSlot, view: NodeView): void {
    const before = slot.lastObserved;
    slot.view = view;
    slot.lastObserved = view;
    if (this.armed.length > 0 && view.role === 'leader' && before?.role !== 'leader') this.fireArmed();
    const commit = view.commitIndex ?? -1;
    this.trace.mix(this.now, view.term, ROLE_CODES[view.role] ?? 0, commit);
    if (this.traceFull && (!before || before.role !== view.role || before.term !== view.term)) {
      this.trace.record({ i: this.steps, t: this.now, k: 'state', n: slot.id, d: { role: view.role, term: view.term, commitIndex: view.commitIndex } });
    }
    const checkers = this.stepCheckers;
    for (let i = 0; i < checkers.length; i++) {
      const { name, checker } = checkers[i]!;
      this.report(name, checker.afterStep!(slot.id, view, this.now));
    }
  }

  private enableCheckers(raft: RaftNode, view: NodeView): void {
    const caps: Capability[] = [];
    if (view.log) caps.push('log');
    if (view.commitIndex !== undefined) caps.push('commitIndex');
    if (view.votedFor !== undefined) caps.push('votedFor');
    if (view.members) caps.push('members');
    if (typeof raft.read === 'function') caps.push('read');
    if (typeof raft.changeMembership === 'function') caps.push('membership');
    if (typeof raft.transferLeadership === 'function') caps.push('transfer');
    this.capabilities = caps;
    const info = this.clusterInfo();
    for (const definition of this.options.checkers ?? []) {
      const missing = definition.needs.filter((need) => !caps.includes(need));
      if (missing.length > 0) {
        this.skipped.push({ checker: definition.name, reason: `the implementation does not expose ${missing.join(', ')}` });
      } else {
        this.checkers.push({ name: definition.name, checker: definition.create(info) });
      }
    }
    for (const entry of this.checkers) {
      if (entry.checker.afterStep) this.stepCheckers.push(entry);
      if (entry.checker.onApply) this.applyCheckers.push(entry);
      if (entry.checker.onAcknowledged) this.ackCheckers.push(entry);
      if (entry.checker.onInvoke) this.invokeCheckers.push(entry.checker);
      if (entry.checker.onOperationOk) this.operationOkCheckers.push(entry.checker);
    }
  }

  // ---- timers ------------------------------------------------------------------------------

  /** Called through a host: timers of a skewed clock fire early or late in virtual time. */
  setTimer(slot: NodeSlot, epoch: number, delayMs: number, fire: () => void): number {
    const id = this.nextTimerId++;
    if (slot.epoch !== epoch || !slot.up) return id;
    if (!(delayMs >= 0) || !Number.isFinite(delayMs)) {
      this.fail('adapter-contract', `node ${slot.id}: setTimer(${delayMs}) needs a finite delay >= 0`);
    }
    slot.timers.add(id, fire);
    this.schedule(this.now + delayMs / slot.clockRate, EventKind.Timer, slot.index, id, epoch, undefined);
    return id;
  }

  private fireTimer(event: SimEvent): void {
    const slot = this.slots[event.target]!;
    if (slot.epoch !== event.epoch) return;
    const fire = slot.timers.take(event.source);
    if (fire === undefined) return;
    this.trace.mix(this.now, TRACE_KINDS.timer, slot.index, event.source);
    if (this.traceFull) this.trace.record({ i: this.steps, t: this.now, k: 'timer', n: slot.id });
    try {
      fire();
    } catch (error) {
      this.adapterThrew(slot, 'a timer callback', error);
    }
    this.afterStep(slot);
  }

  // ---- network -----------------------------------------------------------------------------

  /** The index of a node id: a scan for small clusters (cheaper than the map for a handful of ids). */
  private nodeIndex(id: NodeId): number | undefined {
    const ids = this.options.nodes;
    if (ids.length > 8) return this.indexOf.get(id);
    for (let i = 0; i < ids.length; i++) if (ids[i] === id) return i;
    return undefined;
  }

  sendMessage(from: NodeSlot, to: NodeId, message: unknown): void {
    const target = this.nodeIndex(to);
    if (target === undefined) this.fail('adapter-contract', `node ${from.id} sent a message to unknown node "${to}"`);
    const network = this.network;
    if (network.isBlocked(from.index, target)) {
      if (this.traceFull) this.trace.record({ i: this.steps, t: this.now, k: 'drop', n: to, f: from.id, d: message });
      return;
    }
    const slot = this.slots[target]!;
    network.plan(network.behaviour(from.index, target), this.linkRngs[from.index * this.slots.length + target]!);
    for (let c = 0; c < network.copies; c++) {
      this.schedule(this.now + network.delays[c]!, EventKind.Deliver, target, from.index, slot.epoch, message);
    }
    if (network.copies === 0 && this.traceFull) this.trace.record({ i: this.steps, t: this.now, k: 'drop', n: to, f: from.id, d: message });
  }

  private deliver(event: SimEvent): void {
    const slot = this.slots[event.target]!;
    // A crash drops messages in flight to the node; a cut made after sending drops them on arrival.
    if (!slot.up || slot.epoch !== event.epoch || this.network.isBlocked(event.source, event.target)) {
      if (this.traceFull) this.trace.record({ i: this.steps, t: this.now, k: 'drop', n: slot.id, f: this.slots[event.source]!.id, d: event.payload });
      return;
    }
    this.trace.mix(this.now, TRACE_KINDS.deliver, event.target, event.source);
    if (this.traceFull) {
      this.trace.record({ i: this.steps, t: this.now, k: 'deliver', n: slot.id, f: this.slots[event.source]!.id, s: event.sent, d: event.payload });
    }
    try {
      slot.raft!.receive(this.slots[event.source]!.id, event.payload);
    } catch (error) {
      this.adapterThrew(slot, 'receive', error);
    }
    this.afterStep(slot);
  }

  // ---- clients and the framework's state machine ------------------------------------------

  private clientTransport() {
    const sim = this;
    return {
      nodes: this.options.nodes,
      now: () => sim.now,
      sendRequest(node: number, request: ClientRequest): void {
        sim.traceEvent('request', node, -1, request.command);
        const delay = sim.clientLinkDelay();
        if (delay !== undefined) sim.schedule(sim.now + delay, EventKind.ClientRequest, node, request.client, 0, request);
      },
      scheduleTick(client: number, delayMs: number, token: number): void {
        sim.schedule(sim.now + delayMs, EventKind.ClientTick, client, token, 0, undefined);
      },
      record(operation: ClientOperation): void {
        sim.history?.push(operation);
        if (sim.traceFull) sim.trace.record({ i: sim.steps, t: sim.now, k: 'invoke', n: operation.client, d: operation.op });
        for (const checker of sim.invokeCheckers) checker.onInvoke!(operation);
      },
      completed(operation: ClientOperation, command: Command): void {
        if (sim.traceFull) {
          sim.trace.record({ i: sim.steps, t: sim.now, k: 'complete', n: operation.client, d: { op: operation.op, output: operation.output, status: operation.status } });
        }
        for (const checker of sim.operationOkCheckers) checker.onOperationOk!(operation);
        if (operation.op.type === 'get' || operation.answeredBy === undefined) return;
        for (const { name, checker } of sim.ackCheckers) {
          sim.report(name, checker.onAcknowledged!(command, operation.answeredBy, operation.appliedIndex ?? -1, sim.now));
        }
      },
    };
  }

  /** Clients reach every server; their links have the default latency and drop rate. */
  private clientLinkDelay(): number | undefined {
    const network = this.network;
    network.plan(network.defaultBehaviour, this.clientLinkRng);
    return network.copies === 0 ? undefined : network.delays[0];
  }

  private reply(slot: NodeSlot, request: ClientRequest, reply: ClientReply): void {
    const delay = this.clientLinkDelay();
    if (delay === undefined) return;
    this.schedule(this.now + delay, EventKind.ClientReply, request.client, slot.index, 0, reply);
  }

  private serveRequest(event: SimEvent): void {
    const slot = this.slots[event.target]!;
    const request = event.payload as ClientRequest;
    if (!slot.up) return;
    const raft = slot.raft!;
    const { command } = request;
    this.trace.mix(this.now, TRACE_KINDS.request, slot.index, request.opId);
    const cached = slot.kv.cachedResult(command.client, command.seq);
    if (cached !== undefined) {
      this.reply(slot, request, { opId: request.opId, type: 'ok', node: slot.id, output: cached, index: slot.kv.cachedIndex(command.client) });
      return;
    }
    if (command.op.type === 'get' && typeof raft.read === 'function') {
      const epoch = slot.epoch;
      const served = this.callAdapter(slot, 'read', () =>
        raft.read!((readIndex) => {
          if (slot.epoch !== epoch || !slot.up) return;
          if (!Number.isInteger(readIndex) || readIndex < 0) this.fail('adapter-contract', `node ${slot.id}: read() called ready(${String(readIndex)}); expected an index, an integer >= 0`);
          slot.waitingReads.push({ readIndex, request });
          this.answerReads(slot);
        }),
      );
      if (!served) this.reply(slot, request, { opId: request.opId, type: 'redirect' });
      this.afterStep(slot);
      return;
    }
    // callAdapter inlined: no closure per proposal on this hot path.
    let result: ProposeResult;
    try {
      result = raft.propose(command);
    } catch (error) {
      this.adapterThrew(slot, 'propose', error);
    }
    if (typeof result?.accepted !== 'boolean') this.fail('adapter-contract', `node ${slot.id}: propose() returned ${describeValue(result)}; expected { accepted: boolean, index?, leaderHint? }`);
    if (result.accepted) {
      const waiting = slot.waitingWrites.get(command.id);
      if (waiting) waiting.push(request);
      else slot.waitingWrites.set(command.id, [request]);
    } else {
      this.reply(slot, request, { opId: request.opId, type: 'redirect', ...(result.leaderHint !== undefined ? { leaderHint: result.leaderHint } : {}) });
    }
    this.afterStep(slot);
  }

  private answerReads(slot: NodeSlot): void {
    if (slot.waitingReads.length === 0) return;
    const applied = slot.kv.appliedIndex;
    const still: typeof slot.waitingReads = [];
    for (const waiting of slot.waitingReads) {
      if (waiting.readIndex > applied) {
        still.push(waiting);
        continue;
      }
      const op = waiting.request.command.op;
      this.reply(slot, waiting.request, { opId: waiting.request.opId, type: 'ok', node: slot.id, output: slot.kv.read(op.key), index: applied });
    }
    slot.waitingReads = still;
  }

  /** Called through a host: the node applies a committed entry. */
  applyEntry(slot: NodeSlot, index: number, command: unknown): void {
    const expected = slot.kv.appliedIndex + 1;
    if (index !== expected) {
      this.fail('apply-order', `node ${slot.id} applied index ${index} but its state machine expected ${expected}: entries must be applied in order, without gaps`);
    }
    const result = slot.kv.apply(index, command);
    this.trace.mix(this.now, TRACE_KINDS.apply, slot.index, index);
    if (this.traceFull) this.trace.record({ i: this.steps, t: this.now, k: 'apply', n: slot.id, d: { index, command } });
    const checkers = this.applyCheckers;
    if (checkers.length > 0) {
      // Boxed once for all the checkers (the field holds any value): passed as a number, the time was boxed again for each call.
      this.checkerTime = this.now;
      for (let i = 0; i < checkers.length; i++) this.report(checkers[i]!.name, checkers[i]!.checker.onApply!(slot.id, index, command, this.checkerTime));
    }
    if (isFrameworkCommand(command)) {
      const waiting = slot.waitingWrites.get(command.id);
      if (waiting) {
        slot.waitingWrites.delete(command.id);
        const output = result ?? slot.kv.cachedResult(command.client, command.seq) ?? '';
        for (const request of waiting) this.reply(slot, request, { opId: request.opId, type: 'ok', node: slot.id, output, index });
      }
    }
    this.answerReads(slot);
  }

  /** Called through a host: the node installs a snapshot. */
  restoreSnapshot(slot: NodeSlot, snapshot: Snapshot): void {
    slot.kv.restore(snapshot);
    this.trace.mix(this.now, TRACE_KINDS.apply, slot.index, -snapshot.index);
    if (this.traceFull) this.trace.record({ i: this.steps, t: this.now, k: 'apply', n: slot.id, d: { snapshot: snapshot.index } });
    for (const { name, checker } of this.checkers) this.report(name, checker.onRestore?.(slot.id, snapshot.index, this.now));
    this.answerReads(slot);
  }

  // ---- faults ------------------------------------------------------------------------------

  private resolve(ref: NodeRef): NodeSlot | undefined {
    if (ref === 'leader') {
      let best: NodeSlot | undefined;
      for (const slot of this.slots) {
        if (slot.up && slot.view?.role === 'leader' && (!best || slot.view.term > best.view!.term)) best = slot;
      }
      return best;
    }
    if (ref === 'follower') {
      return this.slots.find((slot) => slot.up && slot.view !== undefined && slot.view.role !== 'leader');
    }
    if (ref === 'crashed') {
      for (let i = this.crashOrder.length - 1; i >= 0; i--) if (!this.crashOrder[i]!.up) return this.crashOrder[i];
      return undefined;
    }
    const index = this.indexOf.get(ref);
    return index === undefined ? undefined : this.slots[index];
  }

  private resolveAll(refs: readonly NodeRef[]): number[] | undefined {
    const slots = refs.map((ref) => this.resolve(ref));
    return slots.every((s) => s !== undefined) ? slots.map((s) => s!.index) : undefined;
  }

  private applyFault(action: FaultAction): void {
    if (action.when === 'elected' && !this.firing.delete(action)) {
      this.armed.push({ action, elections: action.nth ?? 1 });
      return;
    }
    this.recordFault(action, this.executeFault(action));
  }

  /** A fault's outcome: in the run's list of faults, the hash and the full trace. */
  private recordFault(action: FaultAction, outcome: string): void {
    this.faults.push({ action, time: this.now, outcome });
    this.trace.mixString(action.kind);
    this.trace.mixString(outcome);
    if (this.traceFull) this.trace.record({ i: this.steps, t: this.now, k: 'fault', d: { action, outcome } });
    this.recordStatus();
  }

  private executeFault(action: FaultAction): string {
    const network = this.network;
    switch (action.kind) {
      case 'partition': {
        const groups = action.groups.map((group) => this.resolveAll(group.filter((ref) => ref !== '*')));
        if (groups.some((g) => g === undefined)) return 'skipped: a node of the partition could not be resolved';
        // A "*" in a group stands for every node no other group names.
        const named = new Set(groups.flatMap((g) => g!));
        action.groups.forEach((group, g) => {
          if (group.includes('*')) groups[g] = [...groups[g]!, ...this.slots.map((s) => s.index).filter((i) => !named.has(i))];
        });
        network.partition(groups as number[][]);
        return `partitioned ${groups.map((g) => g!.map((i) => this.slots[i]!.id).join(',')).join(' | ')}`;
      }
      case 'isolate': {
        const slot = this.resolve(action.node);
        if (!slot) return `skipped: no node "${action.node}"`;
        network.isolate(slot.index);
        return `isolated ${slot.id}`;
      }
      case 'cut': {
        const [from, to] = [this.resolve(action.from), this.resolve(action.to)];
        if (!from || !to) return 'skipped: an end of the cut could not be resolved';
        network.cut(from.index, to.index);
        return `cut ${from.id} -> ${to.id}`;
      }
      case 'bridge': {
        const pairs = action.links.map(([a, b]) => this.resolveAll([a, b]));
        if (pairs.some((p) => p === undefined)) return 'skipped: a node of the bridge could not be resolved';
        network.bridge(pairs.map((p) => [p![0]!, p![1]!] as [number, number]));
        return `bridge: only ${pairs.map((p) => `${this.slots[p![0]!]!.id}-${this.slots[p![1]!]!.id}`).join(', ')} connected`;
      }
      case 'heal':
        network.heal();
        return 'healed the network';
      case 'crash': {
        const slot = this.resolve(action.node);
        if (!slot) return `skipped: no node "${action.node}"`;
        return this.crashNode(slot, action.loss ?? 'all');
      }
      case 'restart': {
        const slot = this.resolve(action.node);
        if (!slot) return `skipped: no node "${action.node}"`;
        if (slot.up) return `${slot.id} was already up`;
        if (slot.halted) return `skipped: ${slot.id} stopped for good on a corrupted disk`;
        return this.restartNode(slot) ?? `restarted ${slot.id}`;
      }
      case 'corrupt': {
        const slot = this.resolve(action.node);
        if (!slot) return `skipped: no node "${action.node}"`;
        const key = slot.disk.corrupt(this.faultRng);
        if (key !== undefined) for (const { checker } of this.checkers) checker.onStorageFault?.(slot.id, this.now);
        return key === undefined ? `${slot.id} had nothing synced to corrupt` : `corrupted ${slot.id}'s "${key}"`;
      }
      case 'link': {
        const from = action.from === undefined ? undefined : this.resolve(action.from);
        const to = action.to === undefined ? undefined : this.resolve(action.to);
        if ((action.from !== undefined && !from) || (action.to !== undefined && !to)) return 'skipped: an end of the link could not be resolved';
        const { at: _at, kind: _kind, when: _when, from: _from, to: _to, ...rates } = action;
        network.setBehaviour(from?.index, to?.index, rates);
        return `link ${from?.id ?? '*'} -> ${to?.id ?? '*'}: ${JSON.stringify(rates)}`;
      }
      case 'skew': {
        const slot = this.resolve(action.node);
        if (!slot) return `skipped: no node "${action.node}"`;
        this.setClockRate(slot, action.rate);
        return `${slot.id}'s clock runs at ${action.rate}x`;
      }
      case 'membership': {
        const leader = this.resolve('leader');
        if (!leader) return 'skipped: no leader to change the membership';
        const raft = leader.raft!;
        if (typeof raft.changeMembership !== 'function') return 'skipped: the implementation cannot change membership';
        const result = this.callAdapter(leader, 'changeMembership', () => raft.changeMembership!(action.members));
        if (typeof result?.accepted !== 'boolean') this.fail('adapter-contract', `node ${leader.id}: changeMembership() returned ${describeValue(result)}; expected { accepted: boolean, index? }`);
        this.membershipChanges.push({ time: this.now, leader: leader.id, members: [...action.members], accepted: result.accepted });
        this.afterStep(leader);
        return result.accepted ? `${leader.id} accepted members ${action.members.join(',')} at index ${result.index}` : `${leader.id} refused members ${action.members.join(',')}`;
      }
      case 'transfer': {
        const leader = this.resolve('leader');
        const target = this.resolve(action.to);
        if (!leader || !target) return 'skipped: no leader or no target';
        const raft = leader.raft!;
        if (typeof raft.transferLeadership !== 'function') return 'skipped: the implementation cannot transfer leadership';
        const ok = this.callAdapter(leader, 'transferLeadership', () => raft.transferLeadership!(target.id));
        this.afterStep(leader);
        return ok ? `${leader.id} transfers leadership to ${target.id}` : `${leader.id} refused to transfer to ${target.id}`;
      }
      case 'burst':
        if (!this.clients) return 'skipped: the run has no clients';
        this.clients.burst(action.operations);
        return `${action.operations} one-shot client operation(s)`;
      case 'load': {
        if (!this.clients) return 'skipped: the run has no clients';
        const { at: _at, kind: _kind, when: _when, ...pace } = action;
        this.clients.setPace(pace);
        return `clients' pace ${JSON.stringify(pace)}`;
      }
    }
  }

  private setClockRate(slot: NodeSlot, rate: number): void {
    slot.clockBaseLocal = slot.localTime(this.now);
    slot.clockBaseVirtual = this.now;
    slot.clockRate = rate;
  }

  /**
   * A node just became leader: the armed actions whose election this is fire, each as its own
   * event, now or `afterMs` later (skipped if that is past the fault window).
   */
  private fireArmed(): void {
    const waiting: typeof this.armed = [];
    for (const entry of this.armed) {
      if (--entry.elections > 0) {
        waiting.push(entry);
        continue;
      }
      const at = this.now + (entry.action.afterMs ?? 0);
      if (at > this.now && at >= this.faultWindowMs) {
        this.recordFault(entry.action, 'skipped: its time after the election is past the fault window');
        continue;
      }
      this.firing.add(entry.action);
      this.schedule(at, EventKind.Fault, -1, -1, 0, entry.action);
    }
    this.armed = waiting;
  }

  /** End of the fault window: network whole, every node up, every clock true. */
  private heal(): void {
    for (const { action } of this.armed) this.recordFault(action, 'skipped: no leader was elected between its time and the end of the fault window');
    this.armed = [];
    this.network.heal();
    this.clients?.restorePace();
    for (const slot of this.slots) {
      if (slot.clockRate !== 1) this.setClockRate(slot, 1);
      if (!slot.up && !slot.halted) this.restartNode(slot);
    }
    this.healedAt = this.now;
    this.trace.mixString('heal');
    if (this.traceFull) this.trace.record({ i: this.steps, t: this.now, k: 'heal' });
    this.recordStatus();
  }

  private recordStatus(): void {
    const up = this.slots.filter((s) => s.up).map((s) => s.id);
    const connected: [NodeId, NodeId][] = [];
    for (let a = 0; a < this.slots.length; a++) {
      for (let b = a + 1; b < this.slots.length; b++) {
        if (this.network.connectedBothWays(a, b)) connected.push([this.slots[a]!.id, this.slots[b]!.id]);
      }
    }
    const whole = up.length === this.slots.length && this.network.isWhole && this.slots.every((s) => s.clockRate === 1);
    const impaired = this.network.impaired || this.slots.some((s) => s.clockRate !== 1);
    this.statuses.push({ time: this.now, up, connected, whole, impaired });
  }

  // ---- plumbing ----------------------------------------------------------------------------

  private schedule(time: number, kind: EventKind, target: number, source: number, epoch: number, payload: unknown): void {
    const event = this.freeEvents.pop();
    if (event === undefined) {
      this.queue.push({ time, seq: 0, kind, target, source, epoch, payload, sent: this.now });
      return;
    }
    event.time = time;
    event.kind = kind;
    event.target = target;
    event.source = source;
    event.epoch = epoch;
    event.payload = payload;
    event.sent = this.now;
    this.queue.push(event);
  }

  private traceEvent(kind: 'request' | 'reply', target: number, source: number, detail: unknown): void {
    if (!this.traceFull) return;
    const n = kind === 'request' ? this.slots[target]!.id : this.clients!.clientName(target);
    this.trace.record({ i: this.steps, t: this.now, k: kind, n, ...(source >= 0 ? { f: this.slots[source]!.id } : {}), d: detail });
  }

  /**
   * The finding for an exception that is neither the implementation's own (those are caught where
   * the engine calls it: adapter-error) nor a violation: most often a checker reading a LogView
   * whose termAt or commandAt throws inside its bounds, which is the implementation's fault;
   * otherwise a bug in a checker or in raftsim.
   */
  private unexpected(error: unknown): Violation {
    const detail = describeError(error);
    const at = { time: this.now, step: this.steps };
    for (const slot of this.slots) {
      const log = slot.up ? slot.view?.log : undefined;
      const broken = log ? probeLogView(log) : undefined;
      if (broken) return { invariant: 'adapter-contract', message: `node ${slot.id}: its LogView ${broken} (the run stopped on ${detail})`, ...at };
    }
    const frames = error instanceof Error && error.stack ? error.stack.split('\n').slice(1, 4).map((line) => line.trim()).join('; ') : '';
    return { invariant: 'internal-error', message: `an exception outside the implementation: ${detail}${frames ? ` (${frames})` : ''} — a bug in a checker or in raftsim; the seed reproduces it`, ...at };
  }

  private report(checker: string, violation: Violation | undefined): void {
    if (violation) throw new StopRun({ ...violation, invariant: violation.invariant || checker, time: this.now, step: this.steps });
  }

  private fail(invariant: string, message: string): never {
    throw new StopRun({ invariant, message, time: this.now, step: this.steps });
  }

  private clusterInfo(): ClusterInfo {
    return { nodes: this.config.nodes, initialMembers: this.config.initialMembers, electionTimeoutMaxMs: this.config.timing.electionTimeoutMaxMs };
  }

  private finish(): void {
    const finalViews = new Map<NodeId, NodeView>();
    const finalStates = new Map<NodeId, { appliedIndex: number; entries: [string, string][] }>();
    for (const slot of this.slots) {
      if (!slot.up || !slot.view) continue;
      finalViews.set(slot.id, slot.view);
      finalStates.set(slot.id, { appliedIndex: slot.kv.appliedIndex, entries: slot.kv.entries() });
    }
    const record: RunRecord = {
      cluster: this.clusterInfo(),
      ...(this.history ? { history: this.history } : {}),
      statuses: this.statuses,
      healedAt: this.healedAt,
      endTime: this.now,
      finalViews,
      finalStates,
      membershipChanges: this.membershipChanges,
    };
    for (const { name, checker } of this.checkers) this.report(name, checker.finish?.(record));
  }
}

/** A value as a message quotes it (JSON where it has one). */
function describeValue(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** How a LogView fails on an index it must answer for ("threw on termAt(7): Error: …"), or undefined if none does. */
function probeLogView(log: LogView): string | undefined {
  let last: number;
  let first: number;
  try {
    last = log.lastIndex;
    first = log.snapshotIndex;
  } catch (error) {
    return `threw on reading lastIndex or snapshotIndex: ${describeError(error)}`;
  }
  for (let index = last; index > first; index--) {
    for (const method of ['termAt', 'commandAt'] as const) {
      let answer: unknown;
      try {
        answer = log[method](index);
      } catch (error) {
        return `threw on ${method}(${index}), an index within (snapshotIndex, lastIndex] that it must answer: ${describeError(error)}`;
      }
      if (method === 'termAt' && (!Number.isInteger(answer) || (answer as number) < 0)) return `gave term ${String(answer)} at index ${index}; terms are integers >= 0`;
    }
  }
  return undefined;
}

/** Cheap shape checks on a NodeView: nonsense from an adapter is a finding, not a crash. */
function describeBadView(view: unknown): string | undefined {
  if (typeof view !== 'object' || view === null) return `${String(view)} instead of a NodeView object`;
  const v = view as Partial<NodeView>;
  if (typeof v.role !== 'string' || !(v.role in ROLE_CODES)) return `role ${JSON.stringify(v.role)}; expected one of ${Object.keys(ROLE_CODES).join(', ')}`;
  if (typeof v.term !== 'number' || !Number.isInteger(v.term) || v.term < 0) return `term ${JSON.stringify(v.term)}; expected an integer >= 0`;
  if (v.commitIndex !== undefined && (!Number.isInteger(v.commitIndex) || v.commitIndex < 0)) return `commitIndex ${JSON.stringify(v.commitIndex)}; expected an integer >= 0`;
  if (v.votedFor !== undefined && v.votedFor !== null && typeof v.votedFor !== 'string') return `votedFor ${describeValue(v.votedFor)}; expected a node id, null or no field`;
  if (v.members !== undefined && !Array.isArray(v.members)) return 'members that are not an array of node ids';
  if (v.joint !== undefined && typeof v.joint !== 'boolean') return `joint ${JSON.stringify(v.joint)}; expected true, false or no field`;
  if (v.log !== undefined) {
    const log = v.log;
    if (typeof log.termAt !== 'function' || typeof log.commandAt !== 'function' || !Number.isInteger(log.lastIndex) || log.lastIndex < log.snapshotIndex) {
      return 'a log that is not a LogView (termAt, commandAt, lastIndex >= snapshotIndex)';
    }
  }
  return undefined;
}
