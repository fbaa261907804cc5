import type { ClusterConfig, Command, NodeHost, NodeId, NodeView, ProposeResult, RaftNode, Role } from '../adapter/contract.ts';
import { NOOP, RaftLog, type Entry } from './log.ts';
import { ActiveConfig, ServerSlots, changeSize, isConfigCommand, type Config, type ConfigCommand } from './membership.ts';
import {
  asRaftMessage,
  type AppendReply,
  type AppendRequest,
  type RaftMessage,
  type RepairReply,
  type RepairRequest,
  type SnapshotReply,
  type SnapshotRequest,
  type TimeoutNow,
  type VoteReply,
  type VoteRequest,
} from './messages.ts';
import { parseRaftOptions, type RaftOptions } from './options.ts';
import type { BugName } from './bugs.ts';
import { Persistence, fenceBelow, type RecoveryFence, type Suspect } from './storage/persistence.ts';

type InternalRole = 'follower' | 'precandidate' | 'candidate' | 'leader';

/** What the leader knows of one peer. */
interface Progress {
  /** Next index to send; advanced optimistically on send, pulled back on rejection. */
  next: number;
  /** Highest index known replicated there (only ever from what a reply says the request carried). */
  match: number;
  /** Heard from in the current CheckQuorum period. */
  active: boolean;
  /** Highest ReadIndex round the peer has acknowledged. */
  readAck: number;
  /** Local time of the last AppendEntries sent: a heartbeat right after one is redundant. */
  lastSent: number;
  /** Local time of the last reply of our term (only the unsafe-lease-read bug reads it). */
  lastAck: number;
}

interface PendingRead {
  readonly seq: number;
  readonly readIndex: number;
  readonly ready: (readIndex: number) => void;
}

const EMPTY: readonly Entry[] = Object.freeze([]);

/** A configuration frozen all the way down (it goes into log entries, which are immutable). */
function freezeConfig(config: Config): Config {
  Object.freeze(config.voters);
  Object.freeze(config.learners);
  if (config.old !== undefined) Object.freeze(config.old);
  return Object.freeze(config);
}
/** Float slack when comparing a skewed local clock with a deadline. */
const EPSILON = 1e-6;

/**
 * The reference Raft server: Figure 2 of the paper, plus PreVote, CheckQuorum, ReadIndex,
 * joint consensus and single-server membership changes, log compaction, leadership transfer
 * and corruption-aware recovery. It sees the simulator only through the adapter contract.
 */
export class RaftServer implements RaftNode {
  readonly options: RaftOptions;
  /** Planted bugs switched on (src/raft/bugs.ts); empty unless a zoo run asks. */
  private readonly bugs: ReadonlySet<BugName>;
  /** False in ordinary runs: the hot paths then skip the set lookups of bug(). */
  private readonly anyBug: boolean;
  private readonly self: NodeId;
  private readonly persistence: Persistence;
  private readonly log = new RaftLog();

  private role: InternalRole = 'follower';
  private term = 0;
  private votedFor: NodeId | null = null;
  private leaderId: NodeId | null = null;
  private commitIndex = 0;
  private lastApplied = 0;

  /** Configuration entries in the log (index > snapshotIndex), oldest first. */
  private configs: ActiveConfig[] = [];
  private snapshotConfig: ActiveConfig;
  /** The configuration in use: the latest one in the log, committed or not. */
  private config: ActiveConfig;
  private selfIsLearner = false;
  /** Servers of the cluster outside the configuration in use. */
  private outsiders: readonly NodeId[] = [];
  private snapshotData: unknown = undefined;

  private votes = new Set<NodeId>();
  /** Grants received this round, as a bare count (only the vote-count-not-set bug uses it). */
  private grantCount = 0;
  /** Numbers the servers for `progress` and the configurations' quorum arithmetic. */
  private readonly slots: ServerSlots;
  private readonly selfSlot: number;
  /** The leader's view of each peer, indexed by server slot (undefined: not tracked this term). */
  private progress: (Progress | undefined)[] = [];
  private failedElections = 0;
  private lastLeaderContact = -Infinity;

  private electionDeadline = 0;
  private electionTimer: number | undefined;
  private heartbeatTimer: number | undefined;
  private checkQuorumTimer: number | undefined;
  private transferTimer: number | undefined;
  private voteRetryTimer: number | undefined;
  /** Bumped per (pre)election round, so a retry timer of an older round does nothing. */
  private electionRound = 0;
  private stopped = false;
  /** What inspect() returned last. */
  private lastView: NodeView | undefined;

  private readSeq = 0;
  private pendingReads: PendingRead[] = [];
  private readsAwaitingCommit: ((readIndex: number) => void)[] = [];
  private readsQueued: ((readIndex: number) => void)[] = [];
  private transferTarget: NodeId | null = null;
  private timeoutNowSent = false;
  /** Leader only: a membership change waiting for its new servers to catch up as learners. */
  private pendingChange: readonly NodeId[] | null = null;

  private fence: RecoveryFence | undefined;
  private suspect: Suspect | undefined;
  private disqualified = false;

  constructor(
    private readonly host: NodeHost,
    private readonly cluster: ClusterConfig,
  ) {
    this.options = parseRaftOptions(cluster.options);
    this.bugs = this.options.bugs;
    this.anyBug = this.bugs.size > 0;
    this.self = host.id;
    this.persistence = new Persistence(host.storage);
    this.slots = new ServerSlots(cluster.nodes);
    this.selfSlot = this.slots.of(this.self);
    this.snapshotConfig = this.activeConfig(freezeConfig({ voters: [...cluster.initialMembers], learners: [] }), 0);
    this.config = this.snapshotConfig;
    this.recover();
    this.resetElectionDeadline();
  }

  // ---- recovery ------------------------------------------------------------------------------

  private recover(): void {
    const recovered = this.persistence.load();
    this.term = recovered.hardState.term;
    this.votedFor = recovered.hardState.votedFor;
    this.fence = recovered.fence;
    this.suspect = recovered.suspect;
    if (this.bug('corrupt-entry-truncate')) {
      // BUG corrupt-entry-truncate (Alagappan et al., FAST'18): the log is cut at the corrupted
      // entry and we go on as if we never held what followed: no fence, so we campaign and vote
      // on the shortened log — and may help elect a leader without an entry we acknowledged.
      this.fence = undefined;
      this.suspect = undefined;
    }
    this.disqualified = recovered.disqualified;
    const snapshot = recovered.snapshot;
    if (snapshot) {
      this.log.reset(snapshot.index, snapshot.term);
      this.snapshotConfig = this.activeConfig(snapshot.config, snapshot.index);
      this.snapshotData = snapshot.data;
      // Our state machine restarts empty: it becomes the snapshot before anything is applied.
      this.host.restore({ index: snapshot.index, data: snapshot.data });
      this.commitIndex = this.lastApplied = snapshot.index;
    }
    for (const entry of recovered.entries) {
      const index = this.log.append(entry);
      if (isConfigCommand(entry.command)) this.configs.push(this.activeConfig(entry.command.config, index));
    }
    // Lost hard state: we never vote again, but report no term below what the log shows.
    if (this.disqualified) this.term = Math.max(this.term, this.log.lastTerm, this.fence?.term ?? 0);
    this.updateConfig();
  }

  // ---- the RaftNode contract -----------------------------------------------------------------

  receive(from: NodeId, message: unknown): void {
    if (this.stopped) return;
    const m = asRaftMessage(message);
    if (m === undefined) return;
    this.dispatch(from, m);
  }

  private dispatch(from: NodeId, m: RaftMessage): void {
    switch (m.type) {
      case 'vote':
        return this.handleVoteRequest(from, m);
      case 'voteReply':
        return this.handleVoteReply(from, m);
      case 'append':
        return this.handleAppend(from, m);
      case 'appendReply':
        return this.handleAppendReply(from, m);
      case 'snapshot':
        return this.handleSnapshot(from, m);
      case 'snapshotReply':
        return this.handleSnapshotReply(from, m);
      case 'timeoutNow':
        return this.handleTimeoutNow(from, m);
      case 'repair':
        return this.handleRepair(from, m);
      case 'repairReply':
        return this.handleRepairReply(m);
    }
  }

  propose(command: Command): ProposeResult {
    if (this.stopped) return { accepted: false };
    if (this.role !== 'leader') return this.refusal();
    // During a transfer new entries would only delay the target's catching up (thesis §3.10).
    if (this.transferTarget !== null) return { accepted: false, leaderHint: this.transferTarget };
    if (this.bug('no-client-dedup')) command = this.rewrapRetry(command);
    const index = this.appendAsLeader(command);
    return { accepted: true, index, term: this.term };
  }

  /**
   * BUG no-client-dedup (akka-raft #64): exactly-once needs a retried command to keep its client
   * session identity (thesis §6.3). This leader treats a retry of a command it still holds,
   * unapplied, in its log as a new command and re-wraps it under a fresh session (as a Raft
   * library with its own session layer that opens a new session per retry would): the
   * application's (client, seq) table no longer recognises it, and the operation takes effect twice.
   */
  private rewrapRetry(command: Command): Command {
    for (let i = this.lastApplied + 1; i <= this.log.lastIndex; i++) {
      const held = this.log.commandAt(i) as Partial<Command> | undefined;
      if (held?.id === command.id) return { ...command, id: `${command.id}~${i}`, client: `${command.client}~${this.term}.${i}` };
    }
    return command;
  }

  changeMembership(members: readonly NodeId[]): ProposeResult {
    if (this.stopped) return { accepted: false };
    if (this.role !== 'leader') return this.refusal();
    const target = [...new Set(members)].sort();
    if (target.length === 0 || target.some((id) => !this.cluster.nodes.includes(id))) return { accepted: false, leaderHint: this.self };
    if (!this.mayStartMembershipChange()) {
      this.needEntryOfTerm(); // so that a retry may start it
      return { accepted: false, leaderHint: this.self };
    }
    const current = this.config.config.voters;
    const added = target.filter((id) => !current.includes(id));
    if (added.some((id) => !this.caughtUp(id))) {
      // New servers first catch up as learners, so adding them does not stall commits.
      const learners = [...new Set([...this.config.config.learners, ...added])].sort();
      const index = this.appendConfig({ voters: current, learners });
      this.pendingChange = target;
      return { accepted: true, index, term: this.term };
    }
    const index = this.appendFinalChange(target);
    return { accepted: true, index, term: this.term };
  }

  read(ready: (readIndex: number) => void): boolean {
    if (this.stopped || this.role !== 'leader' || this.transferTarget !== null) return false;
    if (this.bug('read-without-leadership-check')) {
      // BUG read-without-leadership-check (consul #54): a leader must confirm it still leads
      // (ReadIndex, §6.4) before answering; this one answers from its own state at once, so a
      // deposed leader that has not noticed yet serves stale reads.
      ready(this.commitIndex);
      return true;
    }
    if (this.bug('unsafe-lease-read') && this.committedInCurrentTerm()) {
      // BUG unsafe-lease-read (thesis §6.4.1): a lease must be shorter than the election timeout
      // by the clock-drift bound. This lease lasts a whole minimum election timeout from the
      // last acknowledgements of a quorum, on our own clock: a slow clock (or fast followers')
      // stretches it past the moment a new leader can be elected.
      const now = this.host.now();
      const lease = this.cluster.timing.electionTimeoutMinMs;
      if (this.config.hasQuorum((id) => id === this.self || now - (this.progressOf(id)?.lastAck ?? -Infinity) < lease)) {
        ready(this.commitIndex);
        return true;
      }
    }
    // ReadIndex (thesis §6.4): our commitIndex is only known to be the cluster's once we have
    // committed an entry of our own term.
    if (!this.committedInCurrentTerm()) {
      this.readsAwaitingCommit.push(ready);
      this.needEntryOfTerm();
    } else this.startReadRound([ready]);
    return true;
  }

  transferLeadership(target: NodeId): boolean {
    if (this.stopped || this.role !== 'leader' || this.transferTarget !== null) return false;
    if (target === this.self || !this.config.isVoter(target)) return false;
    this.transferTarget = target;
    this.transferTimer = this.host.setTimer(this.cluster.timing.electionTimeoutMaxMs, () => {
      this.transferTimer = undefined;
      if (!this.stopped) this.transferTarget = null; // gave up: accept proposals again
    });
    const p = this.peer(target);
    this.timeoutNowSent = false;
    if (p.match >= this.log.lastIndex) this.sendTimeoutNow(target);
    else this.sendAppend(target, p);
    return true;
  }

  private sendTimeoutNow(target: NodeId): void {
    this.timeoutNowSent = true;
    this.send(target, { type: 'timeoutNow', term: this.term } satisfies TimeoutNow);
  }

  inspect(): NodeView {
    // The simulator inspects after every step, and most steps change none of this: the last
    // view is handed out again until something does. A view is not frozen (Object.freeze costs
    // more than building it; neither the engine nor any checker relies on isFrozen), yet it never
    // changes once handed over: a change builds a fresh object here, and `lastView` is only ever
    // read and replaced, never written through. Only its log is live, as a LogView may be.
    const role = this.viewRole();
    const view = this.lastView;
    if (
      view !== undefined &&
      view.role === role &&
      view.term === this.term &&
      view.votedFor === this.votedFor &&
      view.commitIndex === this.commitIndex &&
      view.members === this.config.members
    ) {
      return view;
    }
    return (this.lastView = {
      role,
      term: this.term,
      votedFor: this.votedFor,
      commitIndex: this.commitIndex,
      members: this.config.members,
      joint: this.config.joint,
      log: this.log,
    });
  }

  stop(): void {
    this.stopped = true;
    for (const timer of [this.electionTimer, this.heartbeatTimer, this.checkQuorumTimer, this.transferTimer, this.voteRetryTimer]) {
      if (timer !== undefined) this.host.clearTimer(timer);
    }
    this.electionTimer = this.heartbeatTimer = this.checkQuorumTimer = this.transferTimer = this.voteRetryTimer = undefined;
    this.pendingReads = [];
    this.readsAwaitingCommit = [];
    this.readsQueued = [];
  }

  private viewRole(): Role {
    return this.role === 'follower' && this.selfIsLearner ? 'learner' : this.role;
  }

  private refusal(): ProposeResult {
    const config = this.config;
    if (this.leaderId !== null && this.leaderId !== this.self && (config.isVoter(this.leaderId) || !config.isVoter(this.self))) {
      return { accepted: false, leaderHint: this.leaderId };
    }
    // A server outside the configuration (removed, or not yet added) hears from no leader:
    // point clients at a member rather than leave them guessing.
    if (!config.isVoter(this.self) && !config.isLearner(this.self)) return { accepted: false, leaderHint: config.config.voters[0]! };
    return { accepted: false };
  }

  // ---- timers and elections --------------------------------------------------------------------

  private randomTimeout(): number {
    const { electionTimeoutMinMs: lo, electionTimeoutMaxMs: hi } = this.cluster.timing;
    const { multiplier, maxFactor } = this.options.electionBackoff;
    // (x ** 0 is exactly 1: the usual case skips the power.)
    const factor = Math.min(this.failedElections === 0 ? 1 : multiplier ** this.failedElections, maxFactor);
    return (lo + this.host.random() * (hi - lo)) * factor;
  }

  /**
   * Moves the election deadline. One host timer at a time chases the deadline (re-armed when it
   * fires early), so resetting on every heartbeat costs no timer event.
   */
  private resetElectionDeadline(now: number = this.host.now()): void {
    this.electionDeadline = now + this.randomTimeout();
    if (this.electionTimer === undefined) this.electionTimer = this.host.setTimer(this.electionDeadline - now, this.onElectionTimer);
  }

  private readonly onElectionTimer = (): void => {
    this.electionTimer = undefined;
    if (this.stopped || this.role === 'leader') return;
    const now = this.host.now();
    if (now + EPSILON < this.electionDeadline) {
      this.electionTimer = this.host.setTimer(this.electionDeadline - now, this.onElectionTimer);
      return;
    }
    this.electionTimeout();
  };

  private electionTimeout(): void {
    if (this.role === 'candidate' && this.bug('candidate-no-retry')) {
      // BUG candidate-no-retry: a candidate whose election times out must start a new one
      // (§5.2); this one keeps waiting for the votes of its old term (a split vote never ends).
      this.resetElectionDeadline();
      return;
    }
    if (this.role === 'precandidate' || this.role === 'candidate') this.failedElections++;
    if (!this.canCampaign()) {
      if (this.role !== 'follower') this.becomeFollower(this.term, null);
      this.resetElectionDeadline();
      this.askForRepair();
      return;
    }
    // BUG disruptive-removed-server: a server outside the configuration is no one's peer for a
    // PreVote round, so it goes straight to a real election with a higher term.
    if (this.options.preVote && !(this.bug('disruptive-removed-server') && !this.config.isVoter(this.self))) this.becomePreCandidate();
    else this.becomeCandidate(false);
  }

  /** Only voters of the configuration we know, with a trustworthy log and vote record, campaign. */
  private canCampaign(): boolean {
    // BUG disruptive-removed-server (logcabin #56): a server removed from the configuration
    // keeps campaigning (see also handleVoteRequest and electionTimeout).
    if (this.bug('disruptive-removed-server')) return this.trustsOwnLog();
    return this.config.isVoter(this.self) && this.trustsOwnLog();
  }

  /** See the corruption rule in storage/persistence.ts. */
  private trustsOwnLog(): boolean {
    return !this.disqualified && this.fence === undefined;
  }

  /** Whether we may vote for a candidate with this log: up to date with ours and with any fence. */
  private mayVoteFor(lastLogIndex: number, lastLogTerm: number): boolean {
    if (this.disqualified || !this.isUpToDate(lastLogIndex, lastLogTerm)) return false;
    const fence = this.fence;
    return fence === undefined || !fenceBelow({ term: lastLogTerm, index: lastLogIndex }, fence);
  }

  private becomePreCandidate(): void {
    this.role = 'precandidate';
    this.leaderId = null;
    this.votes = new Set([this.self]);
    this.grantCount = 0;
    this.resetElectionDeadline();
    if (this.config.hasQuorum((id) => this.votes.has(id))) return this.becomeCandidate(false);
    const request: VoteRequest = { type: 'vote', term: this.term + 1, pre: true, lastLogIndex: this.log.lastIndex, lastLogTerm: this.log.lastTerm, transfer: false };
    this.solicitVotes(request);
  }

  /**
   * Sends the (pre)vote request to every other voter, and again each heartbeat period to those
   * that have not granted it while this round lasts: a lost request or reply should not cost a
   * whole election timeout (votes are idempotent for the same candidate and term).
   */
  private solicitVotes(request: VoteRequest): void {
    const round = ++this.electionRound;
    const role = this.role;
    const sendAll = (): void => {
      // (control vote-retransmit-to-all: also to those that granted; safe, grants are a set)
      for (const id of this.config.members) if (id !== this.self && (!this.votes.has(id) || this.bug('vote-retransmit-to-all'))) this.send(id, request);
    };
    sendAll();
    if (this.voteRetryTimer !== undefined) this.host.clearTimer(this.voteRetryTimer);
    const retry = (): void => {
      this.voteRetryTimer = undefined;
      if (this.stopped || this.electionRound !== round || this.role !== role) return;
      sendAll();
      this.voteRetryTimer = this.host.setTimer(this.cluster.timing.heartbeatMs, retry);
    };
    this.voteRetryTimer = this.host.setTimer(this.cluster.timing.heartbeatMs, retry);
  }

  private becomeCandidate(transfer: boolean): void {
    this.role = 'candidate';
    this.term++;
    this.votedFor = this.self;
    this.leaderId = null;
    this.persistHardState();
    // BUG prevote-counts-as-vote (canonical/raft #196): the PreVote grants are kept and counted
    // as votes; a PreVote grant is not a vote (thesis §9.6), so two candidates can both "win" a term.
    if (this.bug('prevote-counts-as-vote')) this.votes.add(this.self);
    else this.votes = new Set([this.self]);
    this.grantCount = 0;
    this.resetElectionDeadline();
    if (this.config.hasQuorum((id) => this.votes.has(id))) return this.becomeLeader();
    const request: VoteRequest = { type: 'vote', term: this.term, pre: false, lastLogIndex: this.log.lastIndex, lastLogTerm: this.log.lastTerm, transfer };
    this.solicitVotes(request);
  }

  private becomeLeader(): void {
    this.role = 'leader';
    this.leaderId = this.self;
    this.failedElections = 0;
    this.transferTarget = null;
    this.pendingChange = null;
    this.progress = [];
    for (const id of this.config.peers) this.peer(id);
    const { heartbeatMs, electionTimeoutMaxMs } = this.cluster.timing;
    const heartbeat = (): void => {
      if (this.stopped || this.role !== 'leader') return;
      // Peers that got an AppendEntries within half a period need no heartbeat yet.
      const recent = this.host.now() - heartbeatMs / 2;
      for (const id of this.config.peers) {
        const p = this.peer(id);
        if (p.lastSent <= recent) this.sendAppend(id, p);
      }
      this.informRetiring();
      this.heartbeatTimer = this.host.setTimer(heartbeatMs, heartbeat);
    };
    this.heartbeatTimer = this.host.setTimer(heartbeatMs, heartbeat);
    if (this.options.checkQuorum) {
      const check = (): void => {
        if (this.stopped || this.role !== 'leader') return;
        if (!this.config.hasQuorum((id) => id === this.self || this.progressOf(id)?.active === true)) {
          this.checkQuorumTimer = undefined;
          this.becomeFollower(this.term, null);
          return;
        }
        for (const p of this.progress) if (p !== undefined) p.active = false;
        this.checkQuorumTimer = this.host.setTimer(electionTimeoutMaxMs, check);
      };
      this.checkQuorumTimer = this.host.setTimer(electionTimeoutMaxMs, check);
    }
    // A no-op of our term lets us commit (and so learn) everything before it (§5.4.2, §6.4).
    // Without it, an inherited joint configuration still needs one, or C_new would wait for a client.
    if (this.options.electionNoop || this.config.joint) this.appendAsLeader(NOOP);
  }

  /** Without the election no-op: something waits for an entry of our term to commit, so append one. */
  private needEntryOfTerm(): void {
    if (this.log.termAt(this.log.lastIndex) !== this.term) this.appendAsLeader(NOOP);
  }

  /** Step down, or follow a (possibly new) leader; adopts `term` when it is newer. */
  private becomeFollower(term: number, leader: NodeId | null): void {
    const wasLeader = this.role === 'leader';
    if (term > this.term) {
      this.term = term;
      this.votedFor = null;
      this.persistHardState();
    }
    this.role = 'follower';
    this.leaderId = leader;
    this.votes.clear();
    if (wasLeader) {
      for (const timer of [this.heartbeatTimer, this.checkQuorumTimer, this.transferTimer]) {
        if (timer !== undefined) this.host.clearTimer(timer);
      }
      this.heartbeatTimer = this.checkQuorumTimer = this.transferTimer = undefined;
      this.transferTarget = null;
      this.pendingChange = null;
      // A deposed leader never answers its pending reads: they may no longer be linearizable.
      this.pendingReads = [];
      this.readsAwaitingCommit = [];
      this.readsQueued = [];
      this.progress = [];
      this.resetElectionDeadline();
    }
  }

  /** The election restriction (§5.4.1): the candidate's log is at least as up to date as ours. */
  private isUpToDate(lastLogIndex: number, lastLogTerm: number): boolean {
    // BUG weak-uptodate-check (jgroups-raft #14): log length only, no last-term comparison (§5.4.1).
    if (this.bug('weak-uptodate-check')) return lastLogIndex >= this.log.lastIndex;
    const ourTerm = this.log.lastTerm;
    return lastLogTerm > ourTerm || (lastLogTerm === ourTerm && lastLogIndex >= this.log.lastIndex);
  }

  /**
   * Disruptive-server guard (thesis §4.2.3): within the minimum election timeout of hearing from
   * a leader, a server ignores vote requests; a leader with CheckQuorum ignores them while it
   * leads. A transfer's campaign is exempt.
   */
  private inLease(request: VoteRequest, from: NodeId): boolean {
    if (request.transfer) return false;
    // BUG disruptive-removed-server: the guard of thesis §4.2.3 is not applied to requests from
    // servers outside our configuration, so a removed server's higher term deposes the leader.
    if (this.bug('disruptive-removed-server') && !this.config.isVoter(from)) return false;
    if (this.role === 'leader') return this.options.checkQuorum;
    return this.leaderId !== null && this.host.now() - this.lastLeaderContact < this.cluster.timing.electionTimeoutMinMs;
  }

  private handleVoteRequest(from: NodeId, m: VoteRequest): void {
    if (m.pre) {
      // A PreVote changes nothing here: no term, no vote, no timer.
      const granted = m.term > this.term && !this.inLease(m, from) && this.mayVoteFor(m.lastLogIndex, m.lastLogTerm);
      this.send(from, { type: 'voteReply', term: granted ? m.term : this.term, pre: true, granted } satisfies VoteReply);
      return;
    }
    if (m.term < this.term) {
      this.send(from, { type: 'voteReply', term: this.term, pre: false, granted: false } satisfies VoteReply);
      return;
    }
    if (this.bug('regrant-same-candidate') && m.term === this.term && this.votedFor === from) {
      // Control regrant-same-candidate: the vote is already cast (and persisted) for this
      // candidate in this term; answering "granted" again, without the lease or log checks,
      // changes nothing.
      this.send(from, { type: 'voteReply', term: this.term, pre: false, granted: true } satisfies VoteReply);
      return;
    }
    if (this.inLease(m, from)) return;
    if (m.term > this.term) this.becomeFollower(m.term, null);
    const granted = (this.votedFor === null || this.votedFor === from) && this.mayVoteFor(m.lastLogIndex, m.lastLogTerm);
    if (granted) {
      this.votedFor = from;
      this.persistHardState(); // synced before the reply leaves
      this.resetElectionDeadline();
    }
    this.send(from, { type: 'voteReply', term: this.term, pre: false, granted } satisfies VoteReply);
  }

  private handleVoteReply(from: NodeId, m: VoteReply): void {
    if (m.pre) {
      if (this.role !== 'precandidate') return;
      if (!m.granted) {
        if (m.term > this.term) this.becomeFollower(m.term, null);
        return;
      }
      if (m.term !== this.term + 1) return; // a reply to an older PreVote round
      if (this.countGrant(from)) this.becomeCandidate(false);
      return;
    }
    if (m.term > this.term) return this.becomeFollower(m.term, null);
    if (m.term < this.term || this.role !== 'candidate' || !m.granted) return; // stale replies are ignored
    if (this.countGrant(from)) this.becomeLeader();
  }

  /** Records a (pre)vote grant; true when the grants now make a quorum. */
  private countGrant(from: NodeId): boolean {
    if (this.bug('vote-count-not-set')) {
      // BUG vote-count-not-set (akka-raft #45): grants are counted, not voters; a duplicated
      // or retransmitted grant counts again, so a minority can elect a leader.
      this.grantCount++;
      return (this.grantCount + 1) * 2 > this.config.config.voters.length;
    }
    this.votes.add(from);
    if (this.bug('joint-consensus-union-quorum')) return this.config.unionHasQuorum((id) => this.votes.has(id));
    return this.config.hasQuorum((id) => this.votes.has(id));
  }

  private handleTimeoutNow(from: NodeId, m: TimeoutNow): void {
    if (m.term < this.term) return;
    if (m.term > this.term) this.becomeFollower(m.term, from);
    if (this.role === 'leader' || !this.canCampaign()) return;
    this.becomeCandidate(true); // straight to a real election: no PreVote, no lease
  }

  // ---- replication: leader side --------------------------------------------------------------

  private peer(id: NodeId): Progress {
    const slot = this.slots.of(id);
    let p = this.progress[slot];
    if (p === undefined) {
      p = { next: this.log.lastIndex + 1, match: 0, active: false, readAck: 0, lastSent: -Infinity, lastAck: -Infinity };
      this.progress[slot] = p;
    }
    return p;
  }

  /** The progress of `id`, if the leader tracks it. */
  private progressOf(id: NodeId): Progress | undefined {
    return this.progress[this.slots.of(id)];
  }

  private activeConfig(config: Config, index: number): ActiveConfig {
    return new ActiveConfig(config, index, this.self, this.slots);
  }

  /** Appends, persists and syncs (so the leader may count itself), then replicates. */
  private appendAsLeader(command: unknown): number {
    // Entries are never mutated: frozen, every node's disk can keep this object instead of a copy.
    const entry: Entry = Object.freeze({ term: this.term, command });
    const index = this.appendEntry(entry);
    this.persistence.sync();
    for (const id of this.config.peers) {
      const p = this.peer(id);
      if (p.next === index) this.sendAppend(id, p); // peers with older entries in flight catch up on replies
    }
    this.maybeCommit();
    return index;
  }

  private broadcastAppend(): void {
    for (const id of this.config.peers) this.sendAppend(id, this.peer(id));
    this.informRetiring();
  }

  /**
   * Servers outside the configuration (removed ones in particular) get AppendEntries until they
   * hold it: then they know they are out and stop campaigning (with PreVote off they would
   * otherwise raise their terms forever). They never count toward a quorum.
   */
  private informRetiring(): void {
    const config = this.config;
    for (const id of this.outsiders) {
      const p = this.peer(id);
      if (p.match < config.index) this.sendAppend(id, p);
    }
  }

  private sendAppend(id: NodeId, p: Progress): void {
    if (p.next <= this.log.snapshotIndex) return this.sendSnapshot(id, p);
    const prev = p.next - 1;
    const last = Math.min(this.log.lastIndex, prev + this.options.maxEntriesPerAppend);
    const entries = last > prev ? this.log.slice(prev + 1, last) : EMPTY;
    const message: AppendRequest = {
      type: 'append',
      term: this.term,
      prevLogIndex: prev,
      prevLogTerm: this.log.termAt(prev),
      entries,
      leaderCommit: this.commitIndex,
      ctx: this.readSeq,
    };
    this.send(id, message);
    p.next = last + 1;
    p.lastSent = this.host.now();
  }

  private sendSnapshot(id: NodeId, p: Progress): void {
    const message: SnapshotRequest = {
      type: 'snapshot',
      term: this.term,
      index: this.log.snapshotIndex,
      lastTerm: this.log.snapshotTerm,
      config: this.snapshotConfig.config,
      data: this.snapshotData,
      leaderCommit: this.commitIndex,
      ctx: this.readSeq,
    };
    this.send(id, message);
    p.next = this.log.snapshotIndex + 1;
  }

  /** A reply of our term from `from`: it counts for CheckQuorum and for ReadIndex rounds. */
  private noteAck(p: Progress, ctx: number): void {
    p.active = true;
    p.lastAck = this.host.now();
    if (ctx > p.readAck) {
      p.readAck = ctx;
      this.checkReads();
    }
  }

  private handleAppendReply(from: NodeId, m: AppendReply): void {
    if (m.term > this.term) return this.becomeFollower(m.term, null);
    if (m.term < this.term || this.role !== 'leader') return;
    const p = this.progressOf(from);
    if (p === undefined) return;
    this.noteAck(p, m.ctx);
    if (this.role !== 'leader') return;
    if (m.success) {
      this.recordMatch(from, p, m.matchIndex);
      return;
    }
    if (m.prevLogIndex < p.match) return; // stale: that prefix has since been confirmed
    if (m.conflictTerm === 0 && m.conflictIndex > 0 && m.conflictIndex <= p.match) {
      // Its log is shorter than what it acknowledged: it lost entries (storage corruption; see
      // storage/persistence.ts), or this is a stale rejection. Lowering match only delays commits.
      p.match = m.conflictIndex - 1;
    }
    p.next = Math.max(p.match + 1, this.nextAfterRejection(m));
    this.sendAppend(from, p);
  }

  /** Where to resume after a rejection: by the conflict hint (§5.3), or one step back (options.backoff). */
  private nextAfterRejection(m: AppendReply): number {
    let next = m.prevLogIndex; // the one-step decrement
    if (this.options.backoff !== 'one-step' && m.conflictIndex > 0) {
      next = m.conflictIndex;
      if (this.options.backoff === 'term-aware' && m.conflictTerm > 0) {
        const last = this.log.lastIndexOfTerm(m.conflictTerm, m.prevLogIndex);
        if (last > 0) next = last + 1;
      }
    }
    return Math.max(1, Math.min(next, m.prevLogIndex));
  }

  private handleSnapshotReply(from: NodeId, m: SnapshotReply): void {
    if (m.term > this.term) return this.becomeFollower(m.term, null);
    if (m.term < this.term || this.role !== 'leader') return;
    const p = this.progressOf(from);
    if (p === undefined) return;
    this.noteAck(p, m.ctx);
    if (this.role !== 'leader') return;
    this.recordMatch(from, p, m.matchIndex);
  }

  private recordMatch(from: NodeId, p: Progress, matchIndex: number): void {
    if (matchIndex > p.match) p.match = matchIndex;
    if (p.next <= p.match) p.next = p.match + 1;
    if (p.match > this.commitIndex) this.maybeCommit();
    if (this.role !== 'leader') return;
    if (this.transferTarget === from && !this.timeoutNowSent && p.match >= this.log.lastIndex) this.sendTimeoutNow(from);
    if (this.pendingChange !== null) this.maybeFinishLearnerPhase();
    if (this.role === 'leader' && p.next <= this.log.lastIndex) this.sendAppend(from, this.peer(from));
  }

  /** The leader may commit only an entry of its own term by counting replicas (§5.4.2, Figure 8). */
  private commitRule(index: number): boolean {
    // BUG figure8-commit-old-term (logcabin #44): an entry of an older term is committed once
    // stored on a majority; Figure 8 shows a later leader overwriting it.
    if (this.bug('figure8-commit-old-term')) return true;
    return this.log.termAt(index) === this.term;
  }

  private maybeCommit(): void {
    if (this.role !== 'leader') return;
    const lastIndex = this.log.lastIndex;
    // BUG joint-consensus-union-quorum (async-raft #62): one majority over C_old ∪ C_new instead of one of each.
    const n = this.bug('joint-consensus-union-quorum')
      ? this.config.unionQuorumMatch((id) => (id === this.self ? lastIndex : (this.progressOf(id)?.match ?? 0)))
      : this.config.quorumMatchOf(this.progress, this.selfSlot, lastIndex);
    if (n > this.commitIndex && this.commitRule(n)) this.advanceCommit(n);
  }

  private committedInCurrentTerm(): boolean {
    return this.log.termAt(this.commitIndex) === this.term;
  }

  // ---- replication: follower side -----------------------------------------------------------

  private handleAppend(from: NodeId, m: AppendRequest): void {
    if (m.term < this.term) {
      this.send(from, this.appendReply(m, false, 0, 0, 0));
      return;
    }
    this.followLeader(from, m.term);
    if (this.role === 'leader') return; // two leaders in one term cannot happen; never obey one
    this.send(from, this.acceptAppend(m));
  }

  /** A message of term >= ours from `from` as leader: follow it and reset the election clock. */
  private followLeader(from: NodeId, term: number): void {
    if (term > this.term || (this.role !== 'follower' && this.role !== 'leader')) this.becomeFollower(term, from);
    if (this.role === 'leader') return;
    this.leaderId = from;
    const now = this.host.now();
    this.lastLeaderContact = now;
    this.failedElections = 0;
    this.resetElectionDeadline(now);
  }

  /**
   * The follower's AppendEntries rule. prevLogIndex/prevLogTerm are checked on heartbeats too;
   * we truncate only where an entry really conflicts (same index, other term), so a stale,
   * duplicated or reordered request never removes entries; commitIndex never passes the
   * prefix this request verified.
   */
  private acceptAppend(m: AppendRequest): AppendReply {
    const log = this.log;
    let prev = m.prevLogIndex;
    let skip = 0;
    if (prev < log.snapshotIndex) {
      // Our snapshot covers those entries; they are committed, hence the leader's too.
      skip = Math.min(m.entries.length, log.snapshotIndex - prev);
      prev += skip;
      if (prev < log.snapshotIndex) return this.appendReply(m, true, m.prevLogIndex + m.entries.length, 0, 0);
    } else if (prev > log.lastIndex) {
      return this.appendReply(m, false, 0, 0, log.lastIndex + 1);
    } else {
      const term = log.termAt(prev);
      // BUG skip-prevlog-check (akka-raft #32): a heartbeat (no entries) is accepted without the
      // prevLogIndex/prevLogTerm consistency check, and its leaderCommit is then believed.
      const skipCheck = m.entries.length === 0 && this.bug('skip-prevlog-check');
      if (term !== m.prevLogTerm && !skipCheck) return this.appendReply(m, false, 0, term, log.firstIndexOfTerm(prev));
    }
    let changed = false;
    const entries = m.entries;
    for (let i = skip; i < entries.length; i++) {
      const index = prev + 1 + (i - skip);
      const entry = entries[i]!;
      if (index <= log.lastIndex) {
        if (log.termAt(index) === entry.term) continue; // already held: never truncate for it
        this.truncateFrom(index);
      }
      this.appendEntry(entry);
      changed = true;
    }
    // BUG ack-before-fsync (tikv #994): the reply leaves before the entries are synced.
    if (changed && !this.bug('ack-before-fsync')) this.persistence.sync(); // durable before we acknowledge
    const lastNew = m.prevLogIndex + entries.length;
    this.maybeLiftFence(m.term, lastNew);
    if (m.leaderCommit > this.commitIndex) {
      // BUG commit-beyond-verified-prefix (copycat #265): min(leaderCommit, lastLogIndex) trusts
      // entries past what this request verified, which may conflict with the leader's.
      const commit = Math.min(m.leaderCommit, this.bug('commit-beyond-verified-prefix') ? log.lastIndex : lastNew);
      if (commit > this.commitIndex) this.advanceCommit(commit);
    }
    return this.appendReply(m, true, lastNew, 0, 0);
  }

  private appendReply(m: AppendRequest, success: boolean, matchIndex: number, conflictTerm: number, conflictIndex: number): AppendReply {
    return { type: 'appendReply', term: this.term, success, matchIndex, prevLogIndex: m.prevLogIndex, conflictTerm, conflictIndex, ctx: m.ctx };
  }

  private handleSnapshot(from: NodeId, m: SnapshotRequest): void {
    if (m.term < this.term) {
      this.send(from, { type: 'snapshotReply', term: this.term, matchIndex: 0, ctx: m.ctx } satisfies SnapshotReply);
      return;
    }
    this.followLeader(from, m.term);
    if (this.role === 'leader') return;
    if (m.index > this.commitIndex) this.installSnapshot(m);
    this.maybeLiftFence(m.term, m.index);
    this.send(from, { type: 'snapshotReply', term: this.term, matchIndex: m.index, ctx: m.ctx } satisfies SnapshotReply);
  }

  /** Installs a leader's snapshot, keeping our entries after it when they match (§7). */
  private installSnapshot(m: SnapshotRequest): void {
    const log = this.log;
    // BUG snapshot-drops-newer-log (camunda #6092): the entries after the snapshot are wiped
    // even when we hold the snapshot's last entry (§7 says keep them): acknowledged entries vanish.
    const keep = m.index <= log.lastIndex && log.termAt(m.index) === m.lastTerm && !this.bug('snapshot-drops-newer-log');
    this.discardSuspect();
    if (!keep) this.persistence.deleteEntriesDown(log.firstIndex, log.lastIndex);
    this.persistence.saveSnapshot({ index: m.index, term: m.lastTerm, config: m.config, data: m.data });
    if (keep) this.persistence.deleteEntriesUp(log.firstIndex, m.index);
    this.persistence.sync();
    if (keep) {
      log.compactTo(m.index, m.lastTerm);
      this.configs = this.configs.filter((c) => c.index > m.index);
    } else {
      log.reset(m.index, m.lastTerm);
      this.configs = [];
    }
    this.snapshotConfig = this.activeConfig(m.config, m.index);
    this.snapshotData = m.data;
    this.updateConfig();
    this.commitIndex = m.index;
    this.lastApplied = m.index;
    this.host.restore({ index: m.index, data: m.data });
  }

  // ---- hole repair after corruption -------------------------------------------------------------

  /** A fenced node that lost one entry with readable ones after it asks its peers for it. */
  private askForRepair(): void {
    const suspect = this.suspect;
    if (suspect === undefined || this.fence === undefined) return;
    if (this.log.lastIndex !== suspect.index - 1) {
      this.discardSuspect(); // the log has moved on: the tail no longer fits
      this.persistence.sync();
      return;
    }
    const request: RepairRequest = { type: 'repair', term: this.term, index: suspect.index, nextTerm: suspect.tail[0]!.term };
    for (const id of this.config.members) if (id !== this.self) this.send(id, request);
  }

  /** Written before any change to our prefix, so no torn write keeps a tail over a new prefix. */
  private discardSuspect(): void {
    if (this.suspect === undefined) return;
    this.suspect = undefined;
    this.persistence.dropSuspect();
  }

  private handleRepair(from: NodeId, m: RepairRequest): void {
    const log = this.log;
    if (m.index <= log.snapshotIndex || m.index + 1 > log.lastIndex || log.termAt(m.index + 1) !== m.nextTerm) return;
    this.send(from, { type: 'repairReply', term: this.term, index: m.index, entry: log.entry(m.index)! } satisfies RepairReply);
  }

  /** Log Matching: the peer's entry precedes one identical to ours, so it is the one we lost. */
  private handleRepairReply(m: RepairReply): void {
    const suspect = this.suspect;
    if (suspect === undefined || m.index !== suspect.index || this.log.lastIndex !== suspect.index - 1) return;
    this.suspect = undefined;
    this.appendEntry(m.entry);
    for (const entry of suspect.tail) this.appendEntry(entry);
    this.persistence.dropSuspect(); // after the entries: a torn write keeps one or the other
    this.persistence.sync();
    const fence = this.fence;
    if (fence !== undefined && !fenceBelow({ term: this.log.lastTerm, index: this.log.lastIndex }, fence)) {
      this.fence = undefined;
      this.persistence.saveFence(undefined);
      this.persistence.sync();
    }
  }

  private maybeLiftFence(leaderTerm: number, verifiedThrough: number): void {
    const fence = this.fence;
    if (fence === undefined || leaderTerm < fence.term || verifiedThrough < fence.index) return;
    this.fence = undefined;
    this.discardSuspect();
    this.persistence.saveFence(undefined);
    this.persistence.sync();
  }

  // ---- log, configuration, commit and apply -----------------------------------------------------

  /** Appends to memory and (unsynced) to disk; a configuration takes effect once appended. */
  private appendEntry(entry: Entry): number {
    const index = this.log.append(entry);
    this.persistence.putEntry(index, entry);
    if (isConfigCommand(entry.command)) {
      this.configs.push(this.activeConfig(entry.command.config, index));
      this.updateConfig();
    }
    if (this.bug('apply-uncommitted')) this.applyCommitted();
    return index;
  }

  private truncateFrom(index: number): void {
    this.discardSuspect(); // our prefix is about to change: the old tail would no longer fit it
    this.persistence.deleteEntriesDown(index, this.log.lastIndex);
    this.log.truncateFrom(index);
    let popped = false;
    while (this.configs.length > 0 && this.configs[this.configs.length - 1]!.index >= index) {
      this.configs.pop();
      popped = true;
    }
    if (popped) this.updateConfig();
  }

  private updateConfig(): void {
    this.config = this.configs.length > 0 ? this.configs[this.configs.length - 1]! : this.snapshotConfig;
    this.selfIsLearner = this.config.isLearner(this.self);
    const peers = this.config.peers;
    this.outsiders = this.cluster.nodes.filter((id) => id !== this.self && !peers.includes(id));
    if (this.role === 'leader') for (const id of this.config.peers) this.peer(id);
  }

  private advanceCommit(index: number): void {
    this.commitIndex = index;
    this.applyCommitted();
    if (this.role === 'leader') this.leaderAfterCommit();
    this.maybeCompact();
  }

  private applyCommitted(): void {
    // BUG apply-uncommitted: entries are applied as soon as they are appended; only committed
    // entries may be applied (§5.3).
    const upTo = this.bug('apply-uncommitted') ? this.log.lastIndex : this.commitIndex;
    while (this.lastApplied < upTo && !this.stopped) {
      const index = this.lastApplied + 1;
      const entry = this.log.entry(index);
      if (entry === undefined) break;
      this.lastApplied = index;
      this.host.apply(index, entry.command); // our own no-ops and configurations too: no gaps
    }
  }

  private leaderAfterCommit(): void {
    const config = this.config;
    if (config.index <= this.commitIndex) {
      if (config.joint) {
        // C_old,new is committed: now C_new alone.
        if (this.committedInCurrentTerm()) this.appendConfig({ voters: config.config.voters, learners: config.config.learners });
      } else if (!config.isVoter(this.self)) {
        // C_new is committed and we are not in it (thesis §4.2.2): step down.
        this.becomeFollower(this.term, null);
        return;
      } else if (this.pendingChange !== null) {
        this.maybeFinishLearnerPhase();
      }
    }
    if (this.readsAwaitingCommit.length > 0 && this.committedInCurrentTerm()) {
      const waiting = this.readsAwaitingCommit;
      this.readsAwaitingCommit = [];
      this.startReadRound(waiting);
    }
  }

  /**
   * One change at a time, and only after an entry of this term is committed (Ongaro, 2015).
   * A change still waiting for its learners to catch up may be replaced: learners do not vote.
   */
  private mayStartMembershipChange(): boolean {
    return (
      this.transferTarget === null &&
      !this.config.joint &&
      this.config.index <= this.commitIndex &&
      // BUG config-change-before-term-commit (Ongaro 2015): a change may start before this
      // leader committed an entry of its term, racing an uncommitted change of an old leader.
      (this.committedInCurrentTerm() || this.bug('config-change-before-term-commit'))
    );
  }

  private caughtUp(id: NodeId): boolean {
    if (id === this.self) return true;
    const p = this.progressOf(id);
    return p !== undefined && p.match >= this.commitIndex && p.match > 0;
  }

  private maybeFinishLearnerPhase(): void {
    const target = this.pendingChange;
    if (target === null || this.config.index > this.commitIndex || !this.committedInCurrentTerm()) return;
    const current = this.config.config.voters;
    if (target.some((id) => !current.includes(id) && !this.caughtUp(id))) return;
    this.appendFinalChange(target);
  }

  /** Single-server change when one server differs; joint consensus otherwise. */
  private appendFinalChange(target: readonly NodeId[]): number {
    this.pendingChange = null;
    const current = this.config.config.voters;
    if (changeSize(current, target) <= 1) return this.appendConfig({ voters: target, learners: [] });
    return this.appendConfig({ voters: target, old: current, learners: [] });
  }

  private appendConfig(config: Config): number {
    const command: ConfigCommand = Object.freeze({ $raft: 'config', config: freezeConfig(config) });
    return this.appendAsLeader(command);
  }

  /** Snapshot once enough applied entries sit in the log (§7). */
  private maybeCompact(): void {
    if (this.lastApplied - this.log.snapshotIndex < this.options.snapshotThreshold) return;
    const snapshot = this.host.snapshot();
    if (snapshot.index !== this.lastApplied) return; // the state machine is not where we think: do not trust it
    const index = this.lastApplied;
    const term = this.log.termAt(index);
    let config = this.snapshotConfig;
    for (const c of this.configs) if (c.index <= index) config = c;
    this.persistence.saveSnapshot({ index, term, config: config.config, data: snapshot.data });
    this.persistence.deleteEntriesUp(this.log.firstIndex, index);
    this.persistence.sync();
    this.log.compactTo(index, term);
    this.snapshotConfig = config;
    this.configs = this.configs.filter((c) => c.index > index);
    this.snapshotData = snapshot.data;
  }

  // ---- ReadIndex --------------------------------------------------------------------------------

  /**
   * Starts a ReadIndex round: readIndex = commitIndex now, confirmed by a heartbeat round that a
   * quorum acknowledges. Reads arriving while a round is in flight wait and share the next one,
   * so a burst of reads costs one round instead of one each.
   */
  private startReadRound(ready: readonly ((readIndex: number) => void)[]): void {
    if (this.pendingReads.length > 0) {
      for (const r of ready) this.readsQueued.push(r);
      return;
    }
    const seq = ++this.readSeq;
    for (const r of ready) this.pendingReads.push({ seq, readIndex: this.commitIndex, ready: r });
    if (this.config.selfIsQuorum(this.self)) this.checkReads();
    else this.broadcastAppend(); // a heartbeat round carrying ctx = seq
  }

  private checkReads(): void {
    while (this.pendingReads.length > 0 && this.role === 'leader') {
      const read = this.pendingReads[0]!;
      const confirmed = this.config.hasReadQuorum(this.progress, this.selfSlot, read.seq);
      if (!confirmed) return;
      this.pendingReads.shift();
      read.ready(read.readIndex);
    }
    if (this.readsQueued.length > 0 && this.role === 'leader') {
      const queued = this.readsQueued;
      this.readsQueued = [];
      this.startReadRound(queued);
    }
  }

  // ---- plumbing ----------------------------------------------------------------------------------

  /** Whether planted bug `name` (src/raft/bugs.ts) is switched on. */
  private bug(name: BugName): boolean {
    return this.anyBug && this.bugs.has(name);
  }

  private persistHardState(): void {
    this.persistence.saveHardState({ term: this.term, votedFor: this.votedFor });
    // BUG vote-not-persisted (hashicorp/raft #507): term and vote are written but not synced
    // before the reply leaves (Figure 2: persist before responding); a crash forgets them.
    if (this.bug('vote-not-persisted')) return;
    this.persistence.sync();
  }

  private send(to: NodeId, message: RaftMessage): void {
    this.host.send(to, message);
  }
}
