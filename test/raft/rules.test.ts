import { describe, expect, it } from 'vitest';
import type { RaftNode } from '../../src/adapter/contract.ts';
import { ActiveConfig, ServerSlots } from '../../src/raft/membership.ts';
import { parseRaftOptions } from '../../src/raft/options.ts';
import { Persistence } from '../../src/raft/storage/persistence.ts';
import { Rng } from '../../src/sim/rng.ts';
import { FakeHost, ackAppends, append, clusterConfig, cmd, crashAndRestart, electLeader, startNode } from './fake-host.ts';

const FIVE = ['n1', 'n2', 'n3', 'n4', 'n5'];
const THREE = ['n1', 'n2', 'n3'];

/** Writes a log and hard state straight to a node's disk, as if it had lived before. */
function seedDisk(host: FakeHost, term: number, entries: { term: number; command: unknown }[]): void {
  const p = new Persistence(host.storage);
  p.saveHardState({ term, votedFor: null });
  entries.forEach((e, i) => p.putEntry(i + 1, e));
  p.sync();
}

function voteRequest(term: number, lastLogIndex: number, lastLogTerm: number, pre = false) {
  return { type: 'vote', term, pre, lastLogIndex, lastLogTerm, transfer: false };
}

function lastReply(host: FakeHost, type: string): any {
  const replies = host.take(type);
  return replies[replies.length - 1]?.message;
}

describe('reference raft: rules', () => {
  it('Figure 8: a leader does not commit an old-term entry by counting replicas', () => {
    const host = new FakeHost('n1');
    seedDisk(host, 3, [
      { term: 1, command: cmd(1) },
      { term: 2, command: cmd(2) },
    ]);
    const config = clusterConfig(FIVE);
    const node = startNode(host, config);
    electLeader(host, node, ['n2', 'n3']);
    expect(node.inspect().term).toBe(4);
    expect(node.inspect().log!.lastIndex).toBe(3); // the no-op of term 4
    // n2 and n3 hold entries 1..2 (term 2) but not yet the no-op: a majority of 3 holds index 2.
    ackAppends(host, node, 'n2', 2);
    ackAppends(host, node, 'n3', 2);
    expect(node.inspect().commitIndex).toBe(0);
    expect(host.applied).toEqual([]);
    // Once the term-4 no-op reaches a majority, everything up to it commits at once.
    host.advance(50); // heartbeat re-sends the no-op
    ackAppends(host, node, 'n2');
    ackAppends(host, node, 'n3');
    expect(node.inspect().commitIndex).toBe(3);
    expect(host.applied.map((a) => a.index)).toEqual([1, 2, 3]);
  });

  it('Figure 8 without the election no-op (Figure 2 as written): old entries wait for an entry of the term', () => {
    for (const bugs of [[], ['figure8-commit-old-term']]) {
      const host = new FakeHost('n1');
      seedDisk(host, 3, [
        { term: 1, command: cmd(1) },
        { term: 2, command: cmd(2) },
      ]);
      const node = startNode(host, clusterConfig(FIVE, { electionNoop: false, bugs }));
      electLeader(host, node, ['n2', 'n3']);
      expect(node.inspect().log!.lastIndex).toBe(2); // no no-op of term 4
      host.advance(50);
      ackAppends(host, node, 'n2');
      ackAppends(host, node, 'n3');
      // The paper's Figure 8 (c): index 2 (term 2) is on a majority; only the bug commits it.
      expect(node.inspect().commitIndex).toBe(bugs.length === 0 ? 0 : 2);
    }
  });

  it('without the election no-op, a read makes the leader append one, and answers once it commits', () => {
    const host = new FakeHost('n1');
    const node = startNode(host, clusterConfig(THREE, { electionNoop: false }));
    electLeader(host, node, ['n2']);
    expect(node.inspect().log!.lastIndex).toBe(0);
    const answered: number[] = [];
    expect(node.read!((i) => answered.push(i))).toBe(true);
    expect(node.inspect().log!.lastIndex).toBe(1);
    ackAppends(host, node, 'n2');
    expect(node.inspect().commitIndex).toBe(1);
    ackAppends(host, node, 'n2');
    host.advance(50);
    ackAppends(host, node, 'n2');
    expect(answered).toEqual([1]);
  });

  it('a vote survives a crash: same term, a second candidate is refused', () => {
    const host = new FakeHost('n1');
    const config = clusterConfig(THREE);
    const node = startNode(host, config);
    node.receive('n2', voteRequest(5, 0, 0));
    expect(lastReply(host, 'voteReply')).toMatchObject({ term: 5, granted: true });
    const restarted = crashAndRestart(host, node, config, 'all');
    expect(restarted.node.inspect()).toMatchObject({ term: 5, votedFor: 'n2' });
    restarted.node.receive('n3', voteRequest(5, 10, 5));
    expect(lastReply(restarted.host, 'voteReply')).toMatchObject({ term: 5, granted: false });
    restarted.node.receive('n2', voteRequest(5, 0, 0));
    expect(lastReply(restarted.host, 'voteReply')).toMatchObject({ term: 5, granted: true }); // the same candidate again: fine
  });

  it('truncates only on a real conflict, never on a stale, duplicated or reordered AppendEntries', () => {
    const host = new FakeHost('n2');
    const node = startNode(host, clusterConfig(THREE));
    const e = [1, 2, 3].map((n) => ({ term: 1, command: cmd(n) }));
    node.receive('n1', append(1, 0, 0, e, 0));
    expect(node.inspect().log!.lastIndex).toBe(3);
    // A stale copy of an older request (just entry 1), delivered late.
    node.receive('n1', append(1, 0, 0, [e[0]!], 0));
    expect(node.inspect().log!.lastIndex).toBe(3);
    expect(lastReply(host, 'appendReply')).toMatchObject({ success: true, matchIndex: 1 });
    // A reordered one covering 2 only, and a heartbeat at prevLogIndex 1.
    node.receive('n1', append(1, 1, 1, [e[1]!], 0));
    node.receive('n1', append(1, 1, 1, [], 0));
    expect(node.inspect().log!.lastIndex).toBe(3);
    // A real conflict: a leader of term 2 has another entry at index 2.
    const other = { term: 2, command: cmd(9) };
    node.receive('n3', append(2, 1, 1, [other], 0));
    const log = node.inspect().log!;
    expect(log.lastIndex).toBe(2);
    expect(log.termAt(2)).toBe(2);
    expect(log.commandAt(2)).toEqual(cmd(9));
    // And the truncation is what a restart finds.
    const again = crashAndRestart(host, node, clusterConfig(THREE), 'none');
    expect(again.node.inspect().log!.lastIndex).toBe(2);
    expect(again.node.inspect().log!.termAt(2)).toBe(2);
  });

  it('a heartbeat with a mismatching prevLogTerm is rejected with a conflict hint', () => {
    const host = new FakeHost('n2');
    const node = startNode(host, clusterConfig(THREE));
    node.receive('n1', append(1, 0, 0, [1, 2, 3].map((n) => ({ term: 1, command: cmd(n) })), 0));
    host.take();
    node.receive('n3', append(3, 3, 2, [], 0));
    expect(lastReply(host, 'appendReply')).toMatchObject({ success: false, conflictTerm: 1, conflictIndex: 1 });
    node.receive('n3', append(3, 7, 2, [], 0));
    expect(lastReply(host, 'appendReply')).toMatchObject({ success: false, conflictTerm: 0, conflictIndex: 4 });
  });

  it('commitIndex never passes the prefix the request verified', () => {
    const host = new FakeHost('n2');
    const node = startNode(host, clusterConfig(THREE));
    node.receive('n1', append(1, 0, 0, [1, 2, 3].map((n) => ({ term: 1, command: cmd(n) })), 0));
    // A new leader (term 2) sends a heartbeat that only verifies index 1, with leaderCommit 3:
    // our entries 2..3 may not be the leader's, so we may commit only up to 1.
    node.receive('n3', append(2, 1, 1, [], 3));
    expect(node.inspect().commitIndex).toBe(1);
    expect(host.applied.map((a) => a.index)).toEqual([1]);
  });

  it('a stale vote reply (older term) is ignored', () => {
    const host = new FakeHost('n1');
    const node = startNode(host, clusterConfig(FIVE, { preVote: false }));
    host.advance(301);
    expect(node.inspect()).toMatchObject({ role: 'candidate', term: 1 });
    host.take();
    host.advance(301 * 2);
    expect(node.inspect()).toMatchObject({ role: 'candidate', term: 2 });
    for (const peer of ['n2', 'n3', 'n4']) node.receive(peer, { type: 'voteReply', term: 1, pre: false, granted: true });
    expect(node.inspect().role).toBe('candidate');
    node.receive('n2', { type: 'voteReply', term: 2, pre: false, granted: true });
    node.receive('n3', { type: 'voteReply', term: 2, pre: false, granted: true });
    expect(node.inspect().role).toBe('leader');
  });

  it('steps down on a higher term in a reply', () => {
    const host = new FakeHost('n1');
    const node = startNode(host, clusterConfig(THREE));
    electLeader(host, node, ['n2']);
    node.receive('n2', { type: 'appendReply', term: 9, success: false, matchIndex: 0, prevLogIndex: 0, conflictTerm: 0, conflictIndex: 0, ctx: 0 });
    expect(node.inspect()).toMatchObject({ role: 'follower', term: 9, votedFor: null });
  });

  it('the election restriction: a candidate with a less up-to-date log gets no vote', () => {
    const host = new FakeHost('n1');
    seedDisk(host, 3, [
      { term: 1, command: cmd(1) },
      { term: 3, command: cmd(2) },
    ]);
    const node = startNode(host, clusterConfig(THREE));
    node.receive('n2', voteRequest(4, 5, 2)); // longer but older last term
    expect(lastReply(host, 'voteReply')).toMatchObject({ granted: false, term: 4 });
    node.receive('n3', voteRequest(4, 2, 3));
    expect(lastReply(host, 'voteReply')).toMatchObject({ granted: true, term: 4 });
  });

  it('a follower that heard from a leader recently ignores vote requests (disruptive servers)', () => {
    const host = new FakeHost('n2');
    const node = startNode(host, clusterConfig(THREE));
    node.receive('n1', append(1, 0, 0, [], 0));
    host.take();
    node.receive('n3', voteRequest(5, 0, 0));
    expect(host.take('voteReply')).toEqual([]);
    expect(node.inspect().term).toBe(1);
    host.advance(151);
    node.receive('n3', voteRequest(5, 0, 0));
    expect(lastReply(host, 'voteReply')).toMatchObject({ granted: true, term: 5 });
  });

  it('a PreVote changes neither term nor vote', () => {
    const host = new FakeHost('n2');
    const node = startNode(host, clusterConfig(THREE));
    node.receive('n3', voteRequest(7, 0, 0, true));
    expect(lastReply(host, 'voteReply')).toMatchObject({ pre: true, granted: true, term: 7 });
    expect(node.inspect()).toMatchObject({ term: 0, votedFor: null });
  });
});

describe('reference raft: joint consensus and membership', () => {
  it('needs separate majorities of C_old and C_new, to elect and to commit', () => {
    const host = new FakeHost('n1');
    const joint = { $raft: 'config', config: { voters: ['n1', 'n4', 'n5'], old: ['n1', 'n2', 'n3'], learners: [] } };
    seedDisk(host, 1, [{ term: 1, command: joint }]);
    const node = startNode(host, clusterConfig(FIVE, { preVote: false }));
    expect([...node.inspect().members!]).toEqual(FIVE);
    host.advance(301);
    const requests = host.take('vote');
    expect([...new Set(requests.map((r) => r.to))].sort()).toEqual(['n2', 'n3', 'n4', 'n5']);
    const term = node.inspect().term;
    node.receive('n2', { type: 'voteReply', term, pre: false, granted: true });
    node.receive('n3', { type: 'voteReply', term, pre: false, granted: true });
    expect(node.inspect().role).toBe('candidate'); // all of C_old, but only itself in C_new
    node.receive('n4', { type: 'voteReply', term, pre: false, granted: true });
    expect(node.inspect().role).toBe('leader');
    // Commit: n2 and n3 (C_old) are not enough.
    ackAppends(host, node, 'n2');
    ackAppends(host, node, 'n3');
    expect(node.inspect().commitIndex).toBe(0);
    host.advance(50);
    ackAppends(host, node, 'n4');
    expect(node.inspect().commitIndex).toBeGreaterThanOrEqual(2);
    // The committed joint configuration is followed by C_new alone.
    const log = node.inspect().log!;
    expect(log.commandAt(log.lastIndex)).toMatchObject({ $raft: 'config', config: { voters: ['n1', 'n4', 'n5'] } });
    expect([...node.inspect().members!]).toEqual(['n1', 'n4', 'n5']);
  });

  it('ActiveConfig quorum arithmetic', () => {
    const joint = new ActiveConfig({ voters: ['a', 'b', 'c'], old: ['c', 'd', 'e'], learners: ['f'] }, 1, 'a');
    expect(joint.hasQuorum((id) => ['a', 'b'].includes(id))).toBe(false);
    expect(joint.hasQuorum((id) => ['a', 'b', 'd', 'e'].includes(id))).toBe(true);
    expect(joint.hasQuorum((id) => ['c', 'a', 'd'].includes(id))).toBe(true);
    const match: Record<string, number> = { a: 9, b: 8, c: 1, d: 7, e: 2, f: 100 };
    expect(joint.quorumMatch((id) => match[id]!)).toBe(2);
    expect(joint.peers).toEqual(['b', 'c', 'd', 'e', 'f']);
    expect(joint.isVoter('f')).toBe(false);
  });

  it('a leader removed by a change steps down once C_new commits, and does not campaign', () => {
    const host = new FakeHost('n1');
    const node = startNode(host, clusterConfig(THREE));
    electLeader(host, node, ['n2']);
    ackAppends(host, node, 'n2');
    expect(node.inspect().commitIndex).toBe(1);
    const result = node.changeMembership!(['n2', 'n3']);
    expect(result).toMatchObject({ accepted: true, index: 2 });
    expect(node.inspect().role).toBe('leader');
    expect([...node.inspect().members!]).toEqual(['n2', 'n3']); // in effect once appended
    ackAppends(host, node, 'n2');
    expect(node.inspect().role).toBe('leader'); // C_new = {n2, n3} needs both
    ackAppends(host, node, 'n3');
    expect(node.inspect().commitIndex).toBe(2);
    expect(node.inspect().role).toBe('follower');
    host.take();
    host.advance(5000);
    expect(host.take('vote')).toEqual([]);
  });

  it('refuses a second change while one is pending, and before a current-term commit', () => {
    const host = new FakeHost('n1');
    const node = startNode(host, clusterConfig(['n1', 'n2', 'n3', 'n4']));
    electLeader(host, node, ['n2', 'n3']);
    expect(node.changeMembership!(['n1', 'n2'])).toMatchObject({ accepted: false }); // no-op not committed yet
    ackAppends(host, node, 'n2');
    ackAppends(host, node, 'n3');
    expect(node.changeMembership!(['n1', 'n2', 'n3'])).toMatchObject({ accepted: true });
    expect(node.changeMembership!(['n1', 'n2'])).toMatchObject({ accepted: false });
  });

  it('adds a new server as a learner first, then promotes it', () => {
    const host = new FakeHost('n1');
    const config = clusterConfig(['n1', 'n2', 'n3', 'n4'], {}, THREE);
    const node = startNode(host, config);
    electLeader(host, node, ['n2']);
    ackAppends(host, node, 'n2');
    const result = node.changeMembership!(['n1', 'n2', 'n3', 'n4']);
    expect(result.accepted).toBe(true);
    const log = node.inspect().log!;
    expect(log.commandAt(log.lastIndex)).toMatchObject({ config: { voters: THREE, learners: ['n4'] } });
    ackAppends(host, node, 'n2');
    expect(node.inspect().commitIndex).toBe(2);
    host.advance(50);
    ackAppends(host, node, 'n4'); // the learner catches up
    expect(log.commandAt(log.lastIndex)).toMatchObject({ config: { voters: ['n1', 'n2', 'n3', 'n4'], learners: [] } });
  });

  it('a server outside every configuration it knows never campaigns', () => {
    const host = new FakeHost('n4');
    const node = startNode(host, clusterConfig(['n1', 'n2', 'n3', 'n4'], {}, THREE));
    host.advance(10_000);
    expect(host.take('vote')).toEqual([]);
    expect(node.inspect().role).toBe('follower');
  });
});

describe('reference raft: leadership transfer', () => {
  it('stops taking proposals, catches the target up, then sends TimeoutNow', () => {
    const host = new FakeHost('n1');
    const node = startNode(host, clusterConfig(THREE));
    electLeader(host, node, ['n2']);
    ackAppends(host, node, 'n2');
    expect(node.transferLeadership!('n3')).toBe(true);
    expect(node.propose(cmd(1) as never)).toMatchObject({ accepted: false, leaderHint: 'n3' });
    expect(host.sent.filter((s) => s.message.type === 'timeoutNow')).toEqual([]);
    ackAppends(host, node, 'n3');
    expect(host.take('timeoutNow').map((s) => s.to)).toEqual(['n3']);
  });

  it('the target campaigns at once, and voters let it through the disruptive-server guard', () => {
    const host = new FakeHost('n3');
    const node = startNode(host, clusterConfig(THREE));
    node.receive('n1', append(1, 0, 0, [], 0));
    host.take();
    node.receive('n1', { type: 'timeoutNow', term: 1 });
    expect(node.inspect()).toMatchObject({ role: 'candidate', term: 2 });
    const requests = host.take('vote');
    expect(requests.map((r) => r.message)).toContainEqual(expect.objectContaining({ pre: false, transfer: true, term: 2 }));

    const voter = new FakeHost('n2');
    const other = startNode(voter, clusterConfig(THREE));
    other.receive('n1', append(1, 0, 0, [], 0)); // just heard from the leader
    other.receive('n3', { ...requests[0]!.message });
    expect(lastReply(voter, 'voteReply')).toMatchObject({ granted: true, term: 2 });
  });
});

describe('reference raft: ReadIndex', () => {
  function readyLeader(): { host: FakeHost; node: RaftNode } {
    const host = new FakeHost('n1');
    const node = startNode(host, clusterConfig(THREE));
    electLeader(host, node, ['n2']);
    return { host, node };
  }

  it('waits for a current-term commit, then a majority heartbeat round', () => {
    const { host, node } = readyLeader();
    const answered: number[] = [];
    expect(node.read!((i) => answered.push(i))).toBe(true);
    host.advance(50);
    // Acks of the heartbeat carry ctx 0, and the no-op is not committed: nothing yet.
    const first = host.take('append').filter((s) => s.to === 'n2');
    for (const { message } of first) node.receive('n2', { type: 'appendReply', term: message.term, success: true, matchIndex: 0, prevLogIndex: message.prevLogIndex, conflictTerm: 0, conflictIndex: 0, ctx: message.ctx });
    expect(answered).toEqual([]);
    // Commit the no-op: a round starts with readIndex = 1; its heartbeat must be acknowledged.
    host.advance(50);
    ackAppends(host, node, 'n2');
    expect(node.inspect().commitIndex).toBe(1);
    expect(answered).toEqual([]);
    ackAppends(host, node, 'n3');
    expect(answered).toEqual([1]);
  });

  it('never answers after stepping down, and refuses on a follower', () => {
    const { host, node } = readyLeader();
    ackAppends(host, node, 'n2');
    const answered: number[] = [];
    node.read!((i) => answered.push(i));
    node.receive('n3', append(5, 0, 0, [], 0));
    ackAppends(host, node, 'n2');
    expect(answered).toEqual([]);
    expect(node.read!(() => undefined)).toBe(false);
  });
});

describe('reference raft: storage', () => {
  it('recovers from one corrupted hard-state copy', () => {
    const host = new FakeHost('n1');
    const config = clusterConfig(THREE);
    const node = startNode(host, config);
    node.receive('n2', voteRequest(4, 0, 0));
    host.storage.corrupt({ pick: (items: readonly string[]) => items[0]! } as never, 'raft/hs/a');
    const again = crashAndRestart(host, node, config);
    expect(again.node.inspect()).toMatchObject({ term: 4, votedFor: 'n2' });
  });

  it('a node that lost a log entry to corruption does not vote until a leader replicated past it', () => {
    const host = new FakeHost('n2');
    const config = clusterConfig(THREE);
    const node = startNode(host, config);
    node.receive('n1', append(1, 0, 0, [1, 2, 3].map((n) => ({ term: 1, command: cmd(n) })), 0));
    host.storage.corrupt({ pick: (items: readonly string[]) => items[0]! } as never, 'raft/log/000000000002');
    const again = crashAndRestart(host, node, config);
    const log = again.node.inspect().log!;
    expect(log.lastIndex).toBe(1);
    again.host.advance(151);
    again.node.receive('n3', voteRequest(2, 1, 1));
    expect(lastReply(again.host, 'voteReply')).toMatchObject({ granted: false });
    // ... but it may vote for a candidate at least as up to date as the log it lost.
    again.node.receive('n4', voteRequest(2, 3, 1));
    expect(lastReply(again.host, 'voteReply')).toMatchObject({ granted: true });
    again.host.advance(10_000);
    expect(again.host.take('vote')).toEqual([]); // no campaign either
    // A leader of term 2 replicates through index 3 (past what was lost): voting resumes.
    again.node.receive('n1', append(2, 1, 1, [2, 3].map((n) => ({ term: 1, command: cmd(n) })), 0));
    again.host.advance(151);
    again.node.receive('n3', voteRequest(4, 3, 1));
    expect(lastReply(again.host, 'voteReply')).toMatchObject({ granted: true, term: 4 });
  });

  it('a lost entry with readable entries after it is refilled from a peer (Log Matching), lifting the fence', () => {
    const config = clusterConfig(THREE);
    const host = new FakeHost('n2');
    const node = startNode(host, config);
    const peerHost = new FakeHost('n3');
    const peer = startNode(peerHost, config);
    const entries = [1, 2, 3].map((n) => ({ term: 1, command: cmd(n) }));
    node.receive('n1', append(1, 0, 0, entries, 0));
    peer.receive('n1', append(1, 0, 0, entries, 0));
    host.storage.corrupt({ pick: (items: readonly string[]) => items[0]! } as never, 'raft/log/000000000002');
    const first = crashAndRestart(host, node, config);
    const again = crashAndRestart(first.host, first.node, config); // the tail survives a second crash
    expect(again.node.inspect().log!.lastIndex).toBe(1);
    again.host.advance(301); // cannot campaign: asks for the hole instead
    const asks = again.host.take('repair');
    expect(asks.map((a) => a.to).sort()).toEqual(['n1', 'n3']);
    const ask = asks.find((a) => a.to === 'n3')!;
    peer.receive('n2', ask.message);
    const answer = peerHost.take('repairReply');
    expect(answer.length).toBe(1);
    again.node.receive('n3', answer[0]!.message);
    const log = again.node.inspect().log!;
    expect(log.lastIndex).toBe(3);
    expect(log.commandAt(2)).toEqual(cmd(2));
    again.host.advance(1000);
    expect(again.host.take('vote').length).toBeGreaterThan(0); // campaigns again
  });

  it('a torn truncation recovers to a prefix of the old or of the new log', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const host = new FakeHost('n2');
      const config = clusterConfig(THREE);
      const node = startNode(host, config);
      node.receive('n1', append(1, 0, 0, [1, 2, 3, 4, 5].map((n) => ({ term: 1, command: cmd(n) })), 0));
      // Keep the conflicting rewrite unsynced by calling through a disk whose sync we skip.
      const storage = host.storage;
      const sync = storage.sync.bind(storage);
      storage.sync = () => undefined;
      node.receive('n3', append(2, 1, 1, [7, 8].map((n) => ({ term: 2, command: cmd(n) })), 0));
      storage.sync = sync;
      const again = crashAndRestart(host, node, config, 'torn', seed);
      const log = again.node.inspect().log!;
      const terms = Array.from({ length: log.lastIndex }, (_, i) => log.termAt(i + 1));
      const oldPrefix = terms.every((t) => t === 1);
      const newPrefix = terms.length <= 3 && terms.every((t, i) => t === (i === 0 ? 1 : 2));
      expect(oldPrefix || newPrefix, `seed ${seed}: terms ${terms.join(',')}`).toBe(true);
    }
  });
});

describe('reference raft: lost entries seen from the leader', () => {
  it('a follower that rejects below its matchIndex is caught up again', () => {
    const host = new FakeHost('n1');
    const node = startNode(host, clusterConfig(THREE));
    electLeader(host, node, ['n2']);
    node.propose(cmd(1) as never);
    ackAppends(host, node, 'n2');
    ackAppends(host, node, 'n3');
    host.take();
    // n3 lost its log (corruption) and now says its log ends at 0.
    node.receive('n3', { type: 'appendReply', term: 1, success: false, matchIndex: 0, prevLogIndex: 2, conflictTerm: 0, conflictIndex: 1, ctx: 0 });
    const resend = host.take('append').filter((s) => s.to === 'n3');
    expect(resend.length).toBe(1);
    expect(resend[0]!.message).toMatchObject({ prevLogIndex: 0 });
    expect(resend[0]!.message.entries.length).toBe(2);
  });
});

describe('reference raft: costs', () => {
  it('an append writes one key per new entry, and inspect() hands out the same LogView', () => {
    const host = new FakeHost('n2');
    const node = startNode(host, clusterConfig(THREE));
    node.receive('n1', append(1, 0, 0, Array.from({ length: 100 }, (_, i) => ({ term: 1, command: cmd(i) })), 0));
    const written: string[] = [];
    const put = host.storage.put.bind(host.storage);
    host.storage.put = (key: string, value: unknown) => {
      written.push(key);
      put(key, value);
    };
    node.receive('n1', append(1, 100, 1, [{ term: 1, command: cmd(100) }], 0));
    expect(written).toEqual(['raft/log/000000000101']);
    expect(node.inspect().log).toBe(node.inspect().log);
    expect(node.inspect().log!.lastIndex).toBe(101);
  });
});

describe('reference raft: snapshots', () => {
  it('installing a snapshot keeps the matching entries after it', () => {
    const host = new FakeHost('n2');
    const node = startNode(host, clusterConfig(THREE));
    node.receive('n1', append(1, 0, 0, [1, 2, 3, 4, 5].map((n) => ({ term: 1, command: cmd(n) })), 0));
    node.receive('n1', { type: 'snapshot', term: 1, index: 3, lastTerm: 1, config: { voters: THREE, learners: [] }, data: { upTo: 3 }, leaderCommit: 3, ctx: 0 });
    const log = node.inspect().log!;
    expect(log.snapshotIndex).toBe(3);
    expect(log.lastIndex).toBe(5);
    expect(host.restored).toEqual([{ index: 3, data: { upTo: 3 } }]);
    expect(node.inspect().commitIndex).toBe(3);
  });

  it('compacts, and after a restart restores the snapshot before applying', () => {
    const host = new FakeHost('n1');
    const config = clusterConfig(THREE, { snapshotThreshold: 3 });
    const node = startNode(host, config);
    electLeader(host, node, ['n2']);
    for (let n = 1; n <= 5; n++) node.propose(cmd(n) as never);
    ackAppends(host, node, 'n2');
    expect(node.inspect().commitIndex).toBe(6);
    expect(node.inspect().log!.snapshotIndex).toBe(6);
    const again = crashAndRestart(host, node, config);
    expect(again.host.restored.map((s) => s.index)).toEqual([6]);
    expect(again.node.inspect().log!.snapshotIndex).toBe(6);
    expect(again.node.inspect().commitIndex).toBe(6);
  });
});

describe('reference raft: options', () => {
  it('has documented defaults and rejects unknown keys', () => {
    expect(parseRaftOptions({})).toMatchObject({ preVote: true, checkQuorum: true, snapshotThreshold: 64, maxEntriesPerAppend: 64, electionBackoff: { multiplier: 2, maxFactor: 4 } });
    expect(() => parseRaftOptions({ preVot: true })).toThrow(/preVot/);
    expect(() => parseRaftOptions({ snapshotThreshold: 0 })).toThrow(/snapshotThreshold/);
  });
});

describe('closure-free quorum helpers over progress arrays', () => {
  it('equals quorumMatch with the same match function, for plain and joint configurations', () => {
    const rng = new Rng(5);
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];
    for (let round = 0; round < 2000; round++) {
      const pick = (): string[] => ids.filter(() => rng.chance(0.6));
      const voters = pick();
      const old = rng.chance(0.3) ? pick() : undefined;
      const slots = new ServerSlots(ids);
      const config = new ActiveConfig({ voters, learners: [], ...(old ? { old } : {}) }, 0, 'n1', slots);
      const progress: ({ match: number } | undefined)[] = [];
      for (const id of ids) if (rng.chance(0.8)) progress[slots.of(id)] = { match: rng.int(-1, 6) };
      const self = rng.pick(ids);
      const selfMatch = rng.int(0, 6);
      const matchOf = (id: string): number => (id === self ? selfMatch : (progress[slots.of(id)]?.match ?? 0));
      expect(config.quorumMatchOf(progress, slots.of(self), selfMatch)).toBe(config.quorumMatch(matchOf));
      const acks: ({ readAck: number } | undefined)[] = [];
      for (const id of ids) if (rng.chance(0.8)) acks[slots.of(id)] = { readAck: rng.int(0, 3) };
      const seq = rng.int(0, 3);
      expect(config.hasReadQuorum(acks, slots.of(self), seq)).toBe(config.hasQuorum((id) => id === self || (acks[slots.of(id)]?.readAck ?? 0) >= seq));
      expect(config.selfIsQuorum(self)).toBe(config.hasQuorum((id) => id === self));
    }
  });
});
