import { isCorrupted, type NodeHost, type NodeId, type ProposeResult, type RaftFactory, type RaftNode, type Role } from '../../src/adapter/contract.ts';

/**
 * A deliberately broken, test-only leader election (NOT Raft; no log). It exists so the fault
 * generator, the shrinker, the reports and replay can be tested before, and independently of,
 * the reference Raft. Bugs, chosen with `options.bug`:
 * - 'double-vote' (default): a voter grants every RequestVote of the current term, even after it
 *   voted for someone else, so two candidates of one term can both win (two leaders per term);
 * - 'volatile-vote': votedFor is written but never synced, so a crash forgets the vote and the
 *   restarted voter may vote again in the same term;
 * - 'none': correct election safety (for negative tests).
 */
type Message =
  | { type: 'vote'; term: number }
  | { type: 'voteReply'; term: number; granted: boolean }
  | { type: 'heartbeat'; term: number }
  | { type: 'heartbeatReply'; term: number };

export const createBrokenRaft: RaftFactory = (host: NodeHost, config) => {
  const bug = String(config.options.bug ?? 'double-vote');
  const members = config.initialMembers;
  const majority = Math.floor(members.length / 2) + 1;
  const storedTerm = host.storage.get('term');
  const storedVote = host.storage.get('votedFor');
  // A node whose disk failed its checksum stays passive: it neither votes nor campaigns.
  const damaged = isCorrupted(storedTerm) || isCorrupted(storedVote);
  let term = damaged ? 0 : Number(storedTerm ?? 0);
  let votedFor = damaged ? null : ((storedVote as NodeId | null | undefined) ?? null);
  let role: Role = 'follower';
  let votes = new Set<NodeId>();
  let electionTimer = -1;
  let heartbeatTimer = -1;
  let stopped = false;

  const persist = (): void => {
    host.storage.put('term', term);
    host.storage.put('votedFor', votedFor);
    if (bug !== 'volatile-vote') host.storage.sync();
  };
  const resetElectionTimer = (): void => {
    host.clearTimer(electionTimer);
    const { electionTimeoutMinMs: min, electionTimeoutMaxMs: max } = config.timing;
    electionTimer = host.setTimer(min + host.random() * (max - min), startElection);
  };
  const broadcast = (message: Message): void => {
    for (const peer of members) if (peer !== host.id) host.send(peer, message);
  };
  const stepDown = (newTerm: number): void => {
    if (newTerm > term) {
      term = newTerm;
      votedFor = null;
      persist();
    }
    if (role === 'leader') host.clearTimer(heartbeatTimer);
    role = 'follower';
  };
  function startElection(): void {
    if (stopped || damaged || !members.includes(host.id)) return;
    term++;
    role = 'candidate';
    votedFor = host.id;
    votes = new Set([host.id]);
    persist();
    broadcast({ type: 'vote', term });
    resetElectionTimer();
    if (votes.size >= majority) becomeLeader();
  }
  function becomeLeader(): void {
    role = 'leader';
    host.clearTimer(electionTimer);
    const beat = (): void => {
      if (role !== 'leader') return;
      broadcast({ type: 'heartbeat', term });
      heartbeatTimer = host.setTimer(config.timing.heartbeatMs, beat);
    };
    beat();
  }

  resetElectionTimer();
  const node: RaftNode = {
    receive(from: NodeId, raw: unknown): void {
      if (stopped || damaged) return;
      const message = raw as Message;
      if (message.term > term) {
        stepDown(message.term);
        resetElectionTimer();
      }
      switch (message.type) {
        case 'vote': {
          const free = votedFor === null || votedFor === from || bug === 'double-vote';
          const granted = message.term === term && role !== 'leader' && free;
          if (granted) {
            votedFor = from;
            persist();
            resetElectionTimer();
          }
          host.send(from, { type: 'voteReply', term, granted });
          return;
        }
        case 'voteReply':
          if (role === 'candidate' && message.term === term && message.granted) {
            votes.add(from);
            if (votes.size >= majority) becomeLeader();
          }
          return;
        case 'heartbeat':
          if (message.term < term) {
            host.send(from, { type: 'heartbeatReply', term });
            return;
          }
          if (role !== 'follower') stepDown(message.term);
          resetElectionTimer();
          return;
        case 'heartbeatReply':
          return;
      }
    },
    propose(): ProposeResult {
      return { accepted: false };
    },
    inspect() {
      return { role, term, votedFor };
    },
    stop(): void {
      stopped = true;
    },
  };
  return node;
};

export default createBrokenRaft;
