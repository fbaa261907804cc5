import type { Command, KvOperation, NodeId } from '../adapter/contract.ts';
import type { ClientOperation } from './history.ts';
import type { Rng } from './rng.ts';

export interface WorkloadConfig {
  /** Number of closed-loop clients; each has one operation outstanding at a time. */
  readonly clients: number;
  readonly keys: number;
  /** Pause between one operation's end and the next one's start. */
  readonly thinkMs: { readonly minMs: number; readonly maxMs: number };
  /** Shares of each operation type (normalised). */
  readonly mix: { readonly put: number; readonly append: number; readonly get: number };
  /** One attempt's timeout: then the client retries at another node. */
  readonly requestTimeoutMs: number;
  /** After this long the client gives up on the operation (its outcome stays unknown). */
  readonly operationTimeoutMs: number;
  /** Pause before retrying after a redirect. */
  readonly retryBackoffMs: number;
}

/** What a 'load' fault changes: the closed-loop clients' pace. */
export type ClientPace = Pick<WorkloadConfig, 'thinkMs' | 'requestTimeoutMs'>;

function workloadPace(config: WorkloadConfig): ClientPace {
  return { thinkMs: config.thinkMs, requestTimeoutMs: config.requestTimeoutMs };
}

export const DEFAULT_WORKLOAD: WorkloadConfig = {
  clients: 3,
  keys: 3,
  thinkMs: { minMs: 10, maxMs: 100 },
  mix: { put: 0.3, append: 0.3, get: 0.4 },
  requestTimeoutMs: 400,
  operationTimeoutMs: 4000,
  retryBackoffMs: 20,
};

/** A client's request to a node, and the node's answers. */
export interface ClientRequest {
  readonly client: number;
  readonly opId: number;
  readonly command: Command;
}
export type ClientReply =
  | { readonly opId: number; readonly type: 'ok'; readonly node: NodeId; readonly output: string; readonly index: number }
  | { readonly opId: number; readonly type: 'redirect'; readonly leaderHint?: NodeId };

/** What the clients need from the engine. */
export interface ClientTransport {
  readonly nodes: readonly NodeId[];
  now(): number;
  sendRequest(node: number, request: ClientRequest): void;
  /** Calls `onTick(client, token)` after `delayMs`. */
  scheduleTick(client: number, delayMs: number, token: number): void;
  record(operation: ClientOperation): void;
  completed(operation: ClientOperation, command: Command): void;
}

interface Outstanding {
  readonly record: ClientOperation;
  readonly command: Command;
  /** Increments per attempt; a tick or reply for an older attempt is stale. */
  attempt: number;
  /** True once an attempt went unanswered: the write may have taken effect. */
  uncertain: boolean;
}

/** Tick tokens: -1 starts the next operation, n >= 0 times out attempt n, -2 - n re-sends as attempt n. */
const NEXT_OPERATION = -1;
const resendToken = (attempt: number): number => -2 - attempt;

/**
 * Simulated clients: each runs a closed loop of key-value operations against the cluster,
 * through the simulated network, with a per-attempt timeout, retries at other nodes, and
 * redirects to the leader hint. Retries reuse the (client, seq) pair so the state machine
 * applies a write once.
 */
export class ClientPool {
  private readonly outstanding: (Outstanding | undefined)[] = [];
  private readonly seqs: number[] = [];
  private readonly leaderGuess: number[] = [];
  private readonly names: string[] = [];
  private readonly oneShot: boolean[] = [];
  private readonly rngs: Rng[] = [];
  private nextOperationId = 0;
  private stopped = false;
  private pace: ClientPace;

  constructor(
    private readonly config: WorkloadConfig,
    private readonly transport: ClientTransport,
    private readonly rngFor: (client: string) => Rng,
  ) {
    this.pace = workloadPace(config);
  }

  start(): void {
    for (let c = 0; c < this.config.clients; c++) this.addClient(`c${c + 1}`, false);
  }

  /** A burst: `count` extra one-shot clients, each issuing one operation now. */
  burst(count: number): void {
    for (let i = 0; i < count; i++) this.addClient(`b${this.names.length + 1}`, true);
  }

  /** From now on the clients think and time out attempts as `change` says (the rest stays). */
  setPace(change: Partial<ClientPace>): void {
    this.pace = { ...this.pace, ...change };
  }

  /** Back to the workload's own pace (the heal at the end of the fault window). */
  restorePace(): void {
    this.pace = workloadPace(this.config);
  }

  /** No new operations from now on (those outstanding still finish or time out). */
  stop(): void {
    this.stopped = true;
  }

  clientName(client: number): string {
    return this.names[client]!;
  }

  onTick(client: number, token: number): void {
    const current = this.outstanding[client];
    if (token === NEXT_OPERATION) {
      if (!current && !this.stopped) this.begin(client);
      return;
    }
    if (!current) return;
    if (token < NEXT_OPERATION) {
      if (resendToken(current.attempt) === token) this.attempt(client, current);
      return;
    }
    if (token !== current.attempt) return;
    // The attempt went unanswered: its fate is unknown. Try another node, or give up.
    current.uncertain = true;
    const nodes = this.transport.nodes.length;
    if (nodes > 1) this.leaderGuess[client] = (this.leaderGuess[client]! + this.rngs[client]!.int(1, nodes - 1)) % nodes;
    this.retryOrGiveUp(client, current, 0);
  }

  onReply(client: number, reply: ClientReply): void {
    const current = this.outstanding[client];
    if (!current || reply.opId !== current.record.id) return;
    if (reply.type === 'ok') {
      const record = current.record;
      record.status = 'ok';
      record.completeTime = this.transport.now();
      if (record.op.type === 'get') record.output = reply.output;
      record.appliedIndex = reply.index;
      record.answeredBy = reply.node;
      this.finish(client);
      this.transport.completed(record, current.command);
      return;
    }
    const hint = reply.leaderHint === undefined ? -1 : this.transport.nodes.indexOf(reply.leaderHint);
    const nodes = this.transport.nodes.length;
    this.leaderGuess[client] = hint >= 0 && hint !== this.leaderGuess[client] ? hint : (this.leaderGuess[client]! + 1) % nodes;
    this.retryOrGiveUp(client, current, this.config.retryBackoffMs);
  }

  private addClient(name: string, oneShot: boolean): void {
    const client = this.names.length;
    this.names.push(name);
    this.oneShot.push(oneShot);
    this.seqs.push(0);
    this.outstanding.push(undefined);
    const rng = this.rngFor(name);
    this.rngs.push(rng);
    this.leaderGuess.push(rng.int(0, this.transport.nodes.length - 1));
    const { minMs, maxMs } = this.pace.thinkMs;
    this.transport.scheduleTick(client, oneShot ? 0 : rng.between(minMs, maxMs), NEXT_OPERATION);
  }

  private begin(client: number): void {
    const rng = this.rngs[client]!;
    const name = this.names[client]!;
    const seq = ++this.seqs[client]!;
    const op = this.chooseOperation(rng, name, seq);
    const record: ClientOperation = {
      id: this.nextOperationId++,
      client: name,
      seq,
      op,
      invokeTime: this.transport.now(),
      status: 'pending',
    };
    // Frozen: commands are immutable by contract, and a disk stores a deeply frozen value without copying it.
    const command: Command = Object.freeze({ id: `${name}.${seq}`, client: name, seq, op });
    const current: Outstanding = { record, command, attempt: 0, uncertain: false };
    this.outstanding[client] = current;
    this.transport.record(record);
    this.attempt(client, current);
  }

  private chooseOperation(rng: Rng, name: string, seq: number): KvOperation {
    const key = `k${rng.int(1, this.config.keys)}`;
    const { put, append, get } = this.config.mix;
    const roll = rng.next() * (put + append + get);
    // Written values are unique, so a duplicated or lost write is visible in the history.
    if (roll < put) return Object.freeze({ type: 'put', key, value: `${name}.${seq}` });
    if (roll < put + append) return Object.freeze({ type: 'append', key, value: `${name}.${seq};` });
    return Object.freeze({ type: 'get', key });
  }

  private attempt(client: number, current: Outstanding): void {
    current.attempt++;
    this.transport.sendRequest(this.leaderGuess[client]!, { client, opId: current.record.id, command: current.command });
    this.transport.scheduleTick(client, this.pace.requestTimeoutMs, current.attempt);
  }

  private retryOrGiveUp(client: number, current: Outstanding, delayMs: number): void {
    const record = current.record;
    if (this.transport.now() - record.invokeTime >= this.config.operationTimeoutMs) {
      // A read has no effect, and a write that every node explicitly refused never took one.
      record.status = record.op.type !== 'get' && current.uncertain ? 'timeout' : 'fail';
      record.completeTime = this.transport.now();
      this.finish(client);
      return;
    }
    // Bumping the attempt makes this attempt's pending timeout stale.
    current.attempt++;
    this.transport.scheduleTick(client, delayMs, resendToken(current.attempt));
  }

  private finish(client: number): void {
    this.outstanding[client] = undefined;
    if (this.oneShot[client] || this.stopped) return;
    const { minMs, maxMs } = this.pace.thinkMs;
    this.transport.scheduleTick(client, this.rngs[client]!.between(minMs, maxMs), NEXT_OPERATION);
  }
}
