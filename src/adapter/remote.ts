import type { ClusterConfig, Command, LogView, NodeHost, NodeView, ProposeResult, RaftFactory, RaftNode } from './contract.ts';
import { describeBadEffect, PROTOCOL_VERSION, type Answer, type NodeEffect, type NodeEvent, type WireView } from './protocol.ts';
import { errorMessage } from '../errors.ts';

/**
 * The simulator's side of the node protocol (docs/protocol.md): a RaftNode that forwards every
 * call as one event to a node living elsewhere — a child process, a worker thread — and carries
 * out the effects it answers with, through the real NodeHost, before the call returns. To the
 * engine it is an ordinary synchronous node.
 */
export interface Transport {
  /** Sends one event; blocks until the node's answer (its effects, `done` last). Throws on timeout or death. */
  exchange(event: NodeEvent): Answer;
  /** The node crashed or the run is over: free the process or thread. */
  close(): void;
}

/** Opens a transport to a fresh incarnation of node `id`. */
export type TransportOpener = (id: string) => Transport;

/** Thrown for a protocol violation by the node: the engine reports it as an adapter error. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** A LogView over the entries the node sent, cached across views. */
class CachedLog implements LogView {
  snapshotIndex = 0;
  snapshotTerm = 0;
  lastIndex = 0;
  private terms: number[] = [];
  private commands: unknown[] = [];

  update(wire: NonNullable<WireView['log']>): void {
    if (wire.snapshot_index !== this.snapshotIndex) {
      this.terms = [];
      this.commands = [];
    }
    const keep = wire.from - wire.snapshot_index;
    if (keep < 0 || keep > this.terms.length) {
      throw new ProtocolError(`view.log.from is ${wire.from}, but only entries up to ${this.snapshotIndex + this.terms.length} were sent before`);
    }
    if (keep < this.terms.length) {
      // Fresh arrays on truncation: views handed out earlier keep the arrays they were made from.
      this.terms = this.terms.slice(0, keep);
      this.commands = this.commands.slice(0, keep);
    }
    for (const [term, command] of wire.entries) {
      this.terms.push(term);
      this.commands.push(command);
    }
    this.snapshotIndex = wire.snapshot_index;
    this.snapshotTerm = wire.snapshot_term;
    this.lastIndex = wire.last_index;
    if (this.snapshotIndex + this.terms.length !== this.lastIndex) {
      throw new ProtocolError(`view.log: last_index ${wire.last_index} but entries reach ${this.snapshotIndex + this.terms.length}`);
    }
  }

  termAt(index: number): number {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    const term = this.terms[index - this.snapshotIndex - 1];
    if (term === undefined) throw new RangeError(`no entry ${index} (log holds ${this.snapshotIndex + 1}..${this.lastIndex})`);
    return term;
  }

  commandAt(index: number): unknown {
    return this.commands[index - this.snapshotIndex - 1];
  }

  /**
   * An O(1) view that never changes once handed out: arrays are only appended to in place
   * (beyond this view's lastIndex) and replaced, never shortened, on truncation.
   */
  freeze(): LogView {
    const terms = this.terms;
    const commands = this.commands;
    const { snapshotIndex, snapshotTerm, lastIndex } = this;
    return {
      snapshotIndex,
      snapshotTerm,
      lastIndex,
      termAt: (index) => (index === snapshotIndex ? snapshotTerm : terms[index - snapshotIndex - 1]!),
      commandAt: (index) => commands[index - snapshotIndex - 1],
    };
  }
}

export interface RemoteOptions {
  /** Describes the node in error messages (for example the command line). */
  readonly label?: string;
}

/** A RaftFactory whose nodes live behind transports opened by `open`. */
export function remoteFactory(open: TransportOpener, options: RemoteOptions = {}): RaftFactory {
  return (host, config) => new RemoteNode(host, config, open(host.id), options.label ?? 'remote node');
}

class RemoteNode implements RaftNode {
  private readonly timers = new Map<number, number>();
  private readonly reads = new Map<number, (index: number) => void>();
  private nextRead = 1;
  private view: NodeView | undefined;
  private readonly log = new CachedLog();
  private stopped = false;
  private reply: Extract<NodeEffect, { type: 'reply' }> | undefined;
  read?: (ready: (readIndex: number) => void) => boolean;

  constructor(
    private readonly host: NodeHost,
    config: ClusterConfig,
    private readonly transport: Transport,
    private readonly label: string,
  ) {
    const storage: Record<string, unknown> = {};
    for (const key of host.storage.keys('')) storage[key] = host.storage.get(key);
    const answer = this.call({
      type: 'init',
      protocol: PROTOCOL_VERSION,
      id: host.id,
      nodes: config.nodes,
      members: config.initialMembers,
      timing: config.timing,
      options: config.options,
      now: host.now(),
      seed: Math.floor(host.random() * 4294967296),
      storage,
    });
    const done = answer[answer.length - 1] as Extract<NodeEffect, { type: 'done' }>;
    if (done.capabilities?.includes('read')) this.read = (ready) => this.doRead(ready);
  }

  receive(from: string, message: unknown): void {
    this.call({ type: 'message', now: this.host.now(), from, body: message });
  }

  propose(command: Command): ProposeResult {
    this.call({ type: 'propose', now: this.host.now(), command });
    const reply = this.takeReply('propose');
    if (!reply.accepted) return { accepted: false, ...(reply.leader_hint !== undefined ? { leaderHint: reply.leader_hint } : {}) };
    if (!Number.isInteger(reply.index) || !Number.isInteger(reply.term)) {
      throw new ProtocolError(`${this.host.id}: an accepting reply to "propose" needs integer index and term, got ${JSON.stringify(reply)}`);
    }
    return { accepted: true, index: reply.index!, term: reply.term! };
  }

  private doRead(ready: (readIndex: number) => void): boolean {
    const id = this.nextRead++;
    this.reads.set(id, ready);
    this.call({ type: 'read', now: this.host.now(), read_id: id });
    const reply = this.takeReply('read');
    if (!reply.accepted) this.reads.delete(id);
    return reply.accepted;
  }

  inspect(): NodeView {
    if (this.view === undefined) this.call({ type: 'inspect', now: this.host.now() });
    if (this.view === undefined) throw new ProtocolError(`${this.host.id}: answered "inspect" without a "view"`);
    return this.view;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      this.transport.exchange({ type: 'crash', now: this.host.now() });
    } catch {
      // A node that cannot even take its crash is gone anyway.
    }
    this.transport.close();
  }

  private takeReply(event: string): Extract<NodeEffect, { type: 'reply' }> {
    const reply = this.reply;
    this.reply = undefined;
    if (!reply) throw new ProtocolError(`${this.host.id}: answered "${event}" without a "reply"`);
    return reply;
  }

  /** One exchange: the event out, the effects carried out in order. */
  private call(event: NodeEvent): Answer {
    if (this.stopped) throw new ProtocolError(`${this.host.id}: "${event.type}" after the node was stopped`);
    let answer: Answer;
    try {
      answer = this.transport.exchange(event);
    } catch (error) {
      // A dead or silent node: stop using it, and let the engine report the finding.
      this.stopped = true;
      this.transport.close();
      const detail = errorMessage(error);
      throw new ProtocolError(`${this.host.id} (${this.label}) failed on "${event.type}": ${detail}`);
    }
    this.view = undefined;
    this.reply = undefined;
    if (!Array.isArray(answer) || answer.length === 0 || (answer[answer.length - 1] as NodeEffect).type !== 'done') {
      throw new ProtocolError(`${this.host.id}: the answer to "${event.type}" does not end with "done"`);
    }
    for (const effect of answer) this.carryOut(effect, event.type);
    return answer;
  }

  private carryOut(effect: NodeEffect, event: string): void {
    const bad = describeBadEffect(effect);
    if (bad) throw new ProtocolError(`${this.host.id}: bad effect in the answer to "${event}": ${bad}`);
    const host = this.host;
    switch (effect.type) {
      case 'send':
        host.send(effect.to, effect.body);
        return;
      case 'set_timer': {
        const previous = this.timers.get(effect.id);
        if (previous !== undefined) host.clearTimer(previous);
        const id = effect.id;
        const handle = host.setTimer(effect.ms, () => {
          if (this.timers.get(id) !== handle) return;
          this.timers.delete(id);
          this.call({ type: 'timer', now: host.now(), id });
        });
        this.timers.set(id, handle);
        return;
      }
      case 'clear_timer': {
        const handle = this.timers.get(effect.id);
        if (handle !== undefined) host.clearTimer(handle);
        this.timers.delete(effect.id);
        return;
      }
      case 'apply':
        host.apply(effect.index, effect.command);
        return;
      case 'restore':
        host.restore(effect.snapshot);
        return;
      case 'put':
        host.storage.put(effect.key, effect.value);
        return;
      case 'delete':
        host.storage.delete(effect.key);
        return;
      case 'sync':
        host.storage.sync();
        return;
      case 'reply':
        this.reply = effect;
        return;
      case 'read_ready': {
        const ready = this.reads.get(effect.read_id);
        if (!ready) return;
        this.reads.delete(effect.read_id);
        ready(effect.index);
        return;
      }
      case 'view':
        if (effect.log) this.log.update(effect.log);
        this.view = {
          role: effect.role,
          term: effect.term,
          ...(effect.voted_for !== undefined ? { votedFor: effect.voted_for } : {}),
          ...(effect.commit_index !== undefined ? { commitIndex: effect.commit_index } : {}),
          ...(effect.members !== undefined ? { members: effect.members } : {}),
          ...(effect.joint !== undefined ? { joint: effect.joint } : {}),
          ...(effect.log !== undefined ? { log: this.log.freeze() } : {}),
        };
        return;
      case 'log':
      case 'done':
        return;
    }
  }
}
