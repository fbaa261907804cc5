import type { ClockSource } from './virtual-time.ts';
import { VirtualGlobals } from './virtual-time.ts';
import type { NodeHost, RaftFactory, RaftNode } from './contract.ts';

/**
 * In-process virtual globals for a callback-style library (one that uses setTimeout, Date.now and
 * Math.random, but not promises): wraps `factory` so that during every call into a node — the
 * factory itself, receive, propose, read, inspect, stop, the library's timer callbacks and the adapter's own host.setTimer callbacks — the
 * globals are that node's virtual ones (src/adapter/virtual-time.ts), and are put back after.
 * setImmediate callbacks run before the call returns.
 *
 * Promise continuations cannot run inside a synchronous engine step on this thread; a library
 * that needs them must use threadedFactory (src/adapter/threaded.ts) instead.
 */
export function virtualized(factory: RaftFactory): RaftFactory {
  return (host, config) => {
    const globals = new VirtualGlobals();
    const enter = <T>(fn: () => T): T => {
      globals.install();
      try {
        const result = fn();
        for (let round = 0; globals.runImmediates() > 0; round++) {
          if (round > 100_000) throw new Error('setImmediate livelock: more than 100 000 rounds in one call');
        }
        return result;
      } finally {
        globals.uninstall();
      }
    };
    const source: ClockSource = {
      now: () => host.now(),
      random: () => host.random(),
      setTimer: (delay, fire) => host.setTimer(delay, () => enter(fire)),
      clearTimer: (handle) => host.clearTimer(handle),
    };
    globals.attach(source);
    // The node's own host timers (an adapter ticking its library through host.setTimer) run
    // under the virtual globals too, not only the library's setTimeout callbacks.
    const wrappedHost: NodeHost = Object.create(host) as NodeHost;
    Object.defineProperty(wrappedHost, 'setTimer', { value: (delay: number, fire: () => void) => host.setTimer(delay, () => enter(fire)) });
    for (const name of ['now', 'send', 'clearTimer', 'random', 'apply', 'snapshot', 'restore'] as const) {
      Object.defineProperty(wrappedHost, name, { value: (host[name] as (...args: unknown[]) => unknown).bind(host) });
    }
    Object.defineProperty(wrappedHost, 'id', { value: host.id });
    Object.defineProperty(wrappedHost, 'storage', { value: host.storage });
    const node = enter(() => factory(wrappedHost, config));
    const wrapped: RaftNode = {
      receive: (from, message) => enter(() => node.receive(from, message)),
      propose: (command) => enter(() => node.propose(command)),
      inspect: () => enter(() => node.inspect()),
    };
    if (node.read) wrapped.read = (ready) => enter(() => node.read!(ready));
    if (node.changeMembership) wrapped.changeMembership = (members) => enter(() => node.changeMembership!(members));
    if (node.transferLeadership) wrapped.transferLeadership = (target) => enter(() => node.transferLeadership!(target));
    wrapped.stop = () => {
      try {
        if (node.stop) enter(() => node.stop!());
      } finally {
        globals.detach();
      }
    };
    return wrapped;
  };
}
