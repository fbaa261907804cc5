import { isDeepStrictEqual } from 'node:util';
import type { Command, NodeHost, NodeId, NodeView, RaftFactory, RaftNode } from './contract.ts';
import type { CheckerDefinition, Checker, Violation } from '../../invariants/types.ts';

/**
 * The pieces of `raftsim check-adapter` that run inside a simulation: a paranoid wrapper around
 * an implementation (messages mutated after send, an impure inspect), traps on the globals an
 * adapter must not use on the simulation path, and a checker of the views inspect() returns.
 */

/** A broken rule of the adapter contract; the engine reports it as an 'adapter-error' naming the rule. */
export class ConformanceError extends Error {
  override readonly name = 'ConformanceError';
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(`[${rule}] ${message}`);
  }
}

/** The rule tag of a violation message produced by a ConformanceError, if any. */
export function conformanceRule(message: string): string | undefined {
  return /ConformanceError: \[([a-z-]+)\]/.exec(message)?.[1];
}

interface SentRecord {
  readonly copy: unknown;
  readonly from: NodeId;
  readonly to: NodeId;
}

function show(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return String(value);
  }
}

function viewSummary(view: NodeView): unknown {
  return {
    role: view.role,
    term: view.term,
    votedFor: view.votedFor,
    commitIndex: view.commitIndex,
    members: view.members ? [...view.members] : undefined,
    log: view.log ? [view.log.snapshotIndex, view.log.snapshotTerm, view.log.lastIndex] : undefined,
  };
}

/**
 * Wraps `factory` so that a message changed between send and delivery, a received message
 * changed by its receiver (a duplicate of it may still be delivered), or an inspect() whose
 * answer changes when nothing happened, stops the run with a ConformanceError.
 */
export function paranoidFactory(factory: RaftFactory): RaftFactory {
  // Shared by all nodes of the factory: a message sent by one node is checked at the other.
  const sent = new WeakMap<object, SentRecord>();
  return (host, config) => {
    const wrappedHost: NodeHost = Object.create(host) as NodeHost;
    Object.defineProperties(wrappedHost, {
      id: { value: host.id },
      storage: { value: host.storage },
      send: {
        value(to: NodeId, message: unknown): void {
          if (typeof message === 'object' && message !== null) {
            let copy: unknown;
            try {
              copy = structuredClone(message);
            } catch (error) {
              throw new ConformanceError('message-not-data', `node ${host.id} sent ${to} a message that cannot be copied (${String(error)}): messages must be plain data`);
            }
            sent.set(message, { copy, from: host.id, to });
          }
          host.send(to, message);
        },
      },
    });
    for (const name of ['now', 'setTimer', 'clearTimer', 'random', 'apply', 'snapshot', 'restore'] as const) {
      Object.defineProperty(wrappedHost, name, { value: (host[name] as (...args: unknown[]) => unknown).bind(host) });
    }
    const node = factory(wrappedHost, config);
    const check = (message: unknown, when: 'before' | 'after'): void => {
      if (typeof message !== 'object' || message === null) return;
      const record = sent.get(message);
      if (!record || isDeepStrictEqual(record.copy, message)) return;
      if (when === 'before') {
        throw new ConformanceError('message-mutated', `a message from ${record.from} to ${record.to} changed after it was sent: sent ${show(record.copy)}, delivered ${show(message)}. Never mutate a message after host.send (send a copy)`);
      }
      throw new ConformanceError('message-mutated', `node ${host.id} changed a message it received from ${record.from}: received ${show(record.copy)}, now ${show(message)}. A received message may be a duplicate still in flight: treat it as read-only`);
    };
    const wrapped: RaftNode = {
      receive(from, message) {
        check(message, 'before');
        node.receive(from, message);
        check(message, 'after');
      },
      propose: (command: Command) => node.propose(command),
      inspect() {
        const first = node.inspect();
        const second = node.inspect();
        if (first && second && typeof first === 'object' && !isDeepStrictEqual(viewSummary(first), viewSummary(second))) {
          throw new ConformanceError('inspect-impure', `node ${host.id}: two inspect() calls in a row disagree: ${show(viewSummary(first))} then ${show(viewSummary(second))}. inspect() must not change the node`);
        }
        return first;
      },
    };
    if (node.changeMembership) wrapped.changeMembership = (members) => node.changeMembership!(members);
    if (node.read) wrapped.read = (ready) => node.read!(ready);
    if (node.transferLeadership) wrapped.transferLeadership = (target) => node.transferLeadership!(target);
    if (node.stop) wrapped.stop = () => node.stop!();
    return wrapped;
  };
}

// ---- globals ---------------------------------------------------------------------------------

export interface LeakReport {
  /** What was called ("Date.now", "setTimeout", …) -> number of calls and the first call's stack. */
  readonly calls: Map<string, { count: number; stack: string }>;
  restore(): void;
}

/**
 * Replaces the wall-clock, timer and randomness globals by versions that record who called them
 * (then call the original, so the run goes on). Install only around a run on this thread.
 */
export function trapGlobals(): LeakReport {
  const calls = new Map<string, { count: number; stack: string }>();
  const record = (name: string): void => {
    const entry = calls.get(name);
    if (entry) {
      entry.count++;
      return;
    }
    const stack = (new Error().stack ?? '').split('\n').slice(3, 9).map((line) => line.trim()).join('\n    ');
    calls.set(name, { count: 1, stack });
  };
  const restorers: (() => void)[] = [];
  const trap = (owner: object, key: string, name: string): void => {
    const descriptor = Object.getOwnPropertyDescriptor(owner, key);
    const original = (owner as Record<string, unknown>)[key];
    if (typeof original !== 'function') return;
    const replacement = function (this: unknown, ...args: unknown[]): unknown {
      record(name);
      return new.target ? Reflect.construct(original as new (...a: unknown[]) => unknown, args, new.target) : Reflect.apply(original as (...a: unknown[]) => unknown, this, args);
    };
    if (key === 'Date') {
      // Date: keep the class (statics, instanceof) but trap construction of "now" and Date.now.
      const RealDate = original as DateConstructor;
      const TrappedDate = new Proxy(RealDate, {
        construct(target, args, newTarget) {
          if (args.length === 0) record('new Date()');
          return Reflect.construct(target, args, newTarget);
        },
        apply(target, thisArg, args) {
          record('Date()');
          return Reflect.apply(target, thisArg, args);
        },
        get(target, property, receiver) {
          if (property === 'now') {
            return () => {
              record('Date.now');
              return target.now();
            };
          }
          return Reflect.get(target, property, receiver);
        },
      });
      Object.defineProperty(owner, key, { writable: true, configurable: true, ...descriptor, value: TrappedDate });
    } else {
      Object.defineProperty(owner, key, { writable: true, configurable: true, ...descriptor, value: replacement });
    }
    // An inherited method (performance.now, crypto.*) is shadowed by an own property: delete it.
    restorers.push(() => (descriptor ? Object.defineProperty(owner, key, descriptor) : delete (owner as Record<string, unknown>)[key]));
  };
  const g = globalThis as unknown as Record<string, object>;
  for (const key of ['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask']) {
    if (key !== 'queueMicrotask') trap(g, key, key);
  }
  trap(g, 'Date', 'Date');
  trap(Math, 'random', 'Math.random');
  trap(globalThis.performance, 'now', 'performance.now');
  trap(process, 'hrtime', 'process.hrtime');
  const crypto = globalThis.crypto as unknown as Record<string, unknown> | undefined;
  if (crypto) {
    trap(crypto, 'randomUUID', 'crypto.randomUUID');
    trap(crypto, 'getRandomValues', 'crypto.getRandomValues');
  }
  return {
    calls,
    restore() {
      for (const restore of restorers.reverse()) restore();
    },
  };
}

// ---- views -----------------------------------------------------------------------------------

/**
 * inspect() must describe a sane node: within one incarnation term and commitIndex never go
 * down; votedFor names a known node; members are known nodes; the log's last entry has a term
 * no greater than the node's and no smaller than the entry before it; commitIndex is within
 * the log. A restarted node's log ends no later than its log before the crash, and where both
 * end at one index, with the same term: the disk can lose writes, never add entries, so a longer
 * log is a tail the node had deleted (an adapter that truncates in memory but not on disk) or
 * one its view never showed. Only the tail of the log is read per step, so the check stays O(1).
 */
export const adapterViewChecker: CheckerDefinition = {
  name: 'adapter-view',
  description: 'inspect() is consistent: term and commitIndex never decrease within an incarnation, the log view agrees with commitIndex',
  scope: 'step',
  needs: [],
  create(cluster) {
    const known = new Set(cluster.nodes);
    const last = new Map<NodeId, NodeView>();
    /** The end of each node's log as of its last step (read there anyway), kept across a crash. */
    const logEnd = new Map<NodeId, { index: number; term: number }>();
    const endBeforeCrash = new Map<NodeId, { index: number; term: number }>();
    const bad = (node: NodeId, message: string): Violation => ({ invariant: 'adapter-view', message: `node ${node}: inspect() ${message}` });
    const checker: Checker = {
      onCrash(node) {
        last.delete(node);
        const end = logEnd.get(node);
        if (end) endBeforeCrash.set(node, end);
      },
      onRestart(node, view) {
        last.set(node, view);
        const before = endBeforeCrash.get(node);
        endBeforeCrash.delete(node);
        const log = view.log;
        if (!before || !log || log.lastIndex <= log.snapshotIndex) return undefined;
        if (log.lastIndex > before.index) {
          return bad(node, `shows a log ending at index ${log.lastIndex} after its restart, but it ended at ${before.index} before the crash: a restart may lose entries, never bring back ones the node had removed (is a truncated tail still on disk?)`);
        }
        const term = log.termAt(log.lastIndex);
        if (log.lastIndex === before.index && term !== before.term) {
          return bad(node, `shows term ${term} at its last index ${log.lastIndex} after its restart, but term ${before.term} there before the crash: a restart may lose entries, never change one`);
        }
        return undefined;
      },
      afterStep(node, view) {
        const before = last.get(node);
        last.set(node, view);
        if (before && view.term < before.term) return bad(node, `term went down from ${before.term} to ${view.term} without a crash`);
        if (before?.commitIndex !== undefined && view.commitIndex !== undefined && view.commitIndex < before.commitIndex) {
          return bad(node, `commitIndex went down from ${before.commitIndex} to ${view.commitIndex} without a crash`);
        }
        if (view.votedFor !== undefined && view.votedFor !== null && !known.has(view.votedFor)) {
          return bad(node, `votedFor is ${JSON.stringify(view.votedFor)}, not a node of the cluster (${[...known].join(', ')})`);
        }
        if (view.members) {
          const stranger = view.members.find((m) => !known.has(m));
          if (stranger !== undefined) return bad(node, `members include ${JSON.stringify(stranger)}, not a node of the cluster`);
        }
        const log = view.log;
        if (log) {
          if (log.lastIndex <= log.snapshotIndex) logEnd.set(node, { index: log.lastIndex, term: log.snapshotTerm });
          if (view.commitIndex !== undefined && view.commitIndex > log.lastIndex) {
            return bad(node, `commitIndex ${view.commitIndex} is beyond the log's lastIndex ${log.lastIndex}`);
          }
          if (view.commitIndex !== undefined && log.snapshotIndex > view.commitIndex) {
            return bad(node, `the log's snapshotIndex ${log.snapshotIndex} is beyond commitIndex ${view.commitIndex}: only committed entries may be compacted`);
          }
          if (log.lastIndex > log.snapshotIndex) {
            let lastTerm: unknown;
            try {
              lastTerm = log.termAt(log.lastIndex);
            } catch (error) {
              return bad(node, `log.termAt(${log.lastIndex}) threw ${String(error)} for its own lastIndex`);
            }
            if (typeof lastTerm !== 'number' || !Number.isInteger(lastTerm) || lastTerm < 0) return bad(node, `log.termAt(${log.lastIndex}) is ${JSON.stringify(lastTerm)}, not a term`);
            logEnd.set(node, { index: log.lastIndex, term: lastTerm });
            if (lastTerm > view.term) return bad(node, `the last log entry (${log.lastIndex}) has term ${lastTerm}, beyond the node's term ${view.term}`);
            if (log.lastIndex - 1 > log.snapshotIndex) {
              const previous = log.termAt(log.lastIndex - 1);
              if (previous > lastTerm) return bad(node, `log terms go down: entry ${log.lastIndex - 1} has term ${previous}, entry ${log.lastIndex} term ${lastTerm}`);
            }
          }
        }
        return undefined;
      },
    };
    return checker;
  },
};
