import type { NodeHost, NodeId, ProposeResult, RaftFactory, RaftNode } from '../../src/adapter/contract.ts';

/** What a scripted node saw, shared across its incarnations. */
export interface Observed {
  received: { node: NodeId; time: number; from: NodeId; message: unknown }[];
  fired: { node: NodeId; time: number; label: string }[];
  hosts: Map<NodeId, NodeHost>;
}

/**
 * A test node that does nothing by itself: the test drives it through its host (send, set
 * timers) and reads what it observed. Not Raft.
 */
export function scriptedFactory(observed: Observed, onStart?: (host: NodeHost) => void): RaftFactory {
  return (host: NodeHost) => {
    observed.hosts.set(host.id, host);
    onStart?.(host);
    const node: RaftNode = {
      receive(from, message) {
        observed.received.push({ node: host.id, time: host.now(), from, message });
      },
      propose(): ProposeResult {
        return { accepted: false };
      },
      inspect() {
        return { role: 'follower', term: 0 };
      },
    };
    return node;
  };
}

export function newObserved(): Observed {
  return { received: [], fired: [], hosts: new Map() };
}

export function timer(observed: Observed, host: NodeHost, delayMs: number, label: string): number {
  return host.setTimer(delayMs, () => observed.fired.push({ node: host.id, time: host.now(), label }));
}
