import type { NodeHost, ProposeResult, RaftFactory, RaftNode } from '../../src/adapter/contract.ts';

/**
 * A stand-in node for engine tests, NOT Raft: every `pingMs` it sends a ping to each peer and
 * counts what it receives. It refuses every proposal, and persists its ping counter.
 */
export function pingFactory(pingMs = 10): RaftFactory {
  return (host: NodeHost, config) => {
    let received = Number(host.storage.get('received') ?? 0);
    let sent = 0;
    const tick = (): void => {
      for (const peer of config.nodes) if (peer !== host.id) host.send(peer, { type: 'ping', n: sent++ });
      host.setTimer(pingMs, tick);
    };
    host.setTimer(pingMs * host.random(), tick);
    const node: RaftNode & { received(): number } = {
      receive(): void {
        received++;
        host.storage.put('received', received);
      },
      propose(): ProposeResult {
        return { accepted: false };
      },
      inspect() {
        return { role: 'follower', term: received };
      },
      received: () => received,
    };
    return node;
  };
}
