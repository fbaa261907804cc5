/**
 * tick-raft: an etcd-style Raft written against the raftsim adapter contract
 * (src/adapter/contract.ts) and the Raft paper / thesis alone.
 *
 * Design in brief:
 * - One periodic logical tick per node (tickMs = heartbeatMs / 5); election timeout and heartbeat
 *   interval are counted in ticks; the election timeout is redrawn from host.random() each reset.
 * - Roles follower / precandidate / candidate / leader; PreVote (thesis §9.6) before every real
 *   election, with a leader lease on the granting side (no pre-vote while a leader is heard from).
 * - "Ready"-style step: every entry point (receive, propose, read, tick) buffers its outgoing
 *   messages; at the end of the step the disk is synced if anything was written, and only then
 *   are the messages sent. So every vote grant / append acknowledgement follows its sync.
 * - Leader: no-op on election, per-follower progress in probe / replicate state (optimistic
 *   nextIndex in replicate, batches of at most 32 entries, next batch sent at once on a success
 *   reply), accelerated back-off from the follower's conflict hint, Figure 8 commit rule,
 *   separate heartbeats carrying min(match, commit) and a ReadIndex context (thesis §6.4), and
 *   CheckQuorum (a leader steps down after an election timeout without hearing from a quorum).
 * - No membership change, no snapshots (the optional capabilities are simply absent).
 * - Storage faults are fail-stop: a corrupted value read from disk throws in that step.
 *
 * Planted bugs: `MUTANT=<name>` (read once at module load); see MUTANTS below.
 */
import {
  isCorrupted,
  type ClusterConfig,
  type Command,
  type LogView,
  type NodeHost,
  type NodeId,
  type NodeView,
  type ProposeResult,
  type RaftFactory,
  type RaftNode,
  type Role,
} from '../../src/adapter/contract.ts';

const MUTANT: string | undefined = process.env.MUTANT;

export const MUTANTS: readonly string[] = [
  'uptodate-index-only',
  'duplicate-vote-counted',
  'prevote-sets-votedfor',
  'append-ack-without-sync',
  'restart-forgets-vote',
  'conflict-truncate-from-hint',
  'commit-old-term-by-count',
  'follower-commit-past-verified',
  'readindex-before-term-commit',
  'reordered-append-truncates',
];

export const info = { name: 'tick-raft', version: '0.1.0' };

const MAX_BATCH = 32;

interface Noop {
  readonly noop: true;
  readonly term: number;
}

interface Entry {
  readonly term: number;
  readonly command: Command | Noop;
}

type Message =
  | { readonly type: 'prevote'; readonly term: number; readonly lastIndex: number; readonly lastTerm: number }
  | { readonly type: 'prevoteResp'; readonly term: number; readonly granted: boolean }
  | { readonly type: 'vote'; readonly term: number; readonly lastIndex: number; readonly lastTerm: number }
  | { readonly type: 'voteResp'; readonly term: number; readonly granted: boolean }
  | {
      readonly type: 'append';
      readonly term: number;
      readonly prevIndex: number;
      readonly prevTerm: number;
      readonly entries: readonly Entry[];
      readonly commit: number;
    }
  | {
      readonly type: 'appendResp';
      readonly term: number;
      readonly success: boolean;
      /** On success: the index of the last entry the request verified. */
      readonly matchIndex: number;
      /** On rejection: the prevIndex that was rejected, and the conflict hint. */
      readonly rejectIndex: number;
      readonly conflictTerm: number;
      readonly conflictIndex: number;
    }
  | { readonly type: 'heartbeat'; readonly term: number; readonly commit: number; readonly ctx: number }
  | { readonly type: 'heartbeatResp'; readonly term: number; readonly ctx: number };

interface Progress {
  match: number;
  next: number;
  state: 'probe' | 'replicate';
  /** Probe state: one append in flight until a reply or heartbeat reply arrives. */
  paused: boolean;
  /** Highest ReadIndex context this peer acknowledged in the current term. */
  ackCtx: number;
  /** CheckQuorum: heard from in the current check period. */
  recentActive: boolean;
}

interface PendingRead {
  readonly seq: number;
  readonly readIndex: number;
  readonly ready: (readIndex: number) => void;
}

const KEY_TERM = 'term';
const KEY_VOTE = 'vote';
const LOG_PREFIX = 'log/';
const logKey = (index: number): string => LOG_PREFIX + String(index).padStart(12, '0');

function readChecked(host: NodeHost, key: string): unknown {
  const value = host.storage.get(key);
  if (isCorrupted(value)) {
    // Fail-stop: refuse to run on a value that failed its checksum.
    throw new Error(`tick-raft ${host.id}: corrupted storage value at ${key}`);
  }
  return value;
}

class TickRaft implements RaftNode {
  private readonly host: NodeHost;
  private readonly members: readonly NodeId[];
  private readonly peers: readonly NodeId[];
  private readonly quorum: number;
  private readonly isMember: boolean;

  private readonly tickMs: number;
  private readonly heartbeatTicks: number;
  private readonly electionMinTicks: number;
  private readonly electionMaxTicks: number;

  // Persistent state (mirrored in memory; written through to host.storage).
  private currentTerm = 0;
  private votedFor: NodeId | null = null;
  private log: Entry[] = [];

  // Volatile state.
  private role: Role = 'follower';
  private leaderId: NodeId | null = null;
  private commitIndex = 0;
  private lastApplied = 0;

  private electionElapsed = 0;
  private randomizedElectionTicks = 0;
  private heartbeatElapsed = 0;
  private ticksSinceLeader = 0;

  private preVotes = new Set<NodeId>();
  private votes = new Set<NodeId>();
  private voteCount = 0;

  private progress = new Map<NodeId, Progress>();
  private readSeq = 0;
  private pendingReads: PendingRead[] = [];
  private waitingReads: Array<(readIndex: number) => void> = [];

  // Step machinery.
  private outbox: Array<[NodeId, Message]> = [];
  private dirty = false;
  private timer: number | null = null;
  private stopped = false;

  constructor(host: NodeHost, config: ClusterConfig) {
    this.host = host;
    this.members = [...config.initialMembers];
    this.peers = this.members.filter((id) => id !== host.id);
    this.quorum = Math.floor(this.members.length / 2) + 1;
    this.isMember = this.members.includes(host.id);

    const t = config.timing;
    this.tickMs = t.heartbeatMs / 5;
    this.heartbeatTicks = Math.max(1, Math.round(t.heartbeatMs / this.tickMs));
    this.electionMinTicks = Math.max(1, Math.round(t.electionTimeoutMinMs / this.tickMs));
    this.electionMaxTicks = Math.max(this.electionMinTicks, Math.round(t.electionTimeoutMaxMs / this.tickMs));

    this.recover();
    this.resetElectionTimer();
    this.timer = host.setTimer(this.tickMs, () => this.onTick());
  }

  // ---------------------------------------------------------------------------------------------
  // Storage

  private recover(): void {
    const host = this.host;
    const term = readChecked(host, KEY_TERM);
    const vote = readChecked(host, KEY_VOTE);
    this.currentTerm = typeof term === 'number' ? term : 0;
    this.votedFor = typeof vote === 'string' ? vote : null;
    if (MUTANT === 'restart-forgets-vote') {
      // BUG (restart recovery): votedFor must survive a restart (Figure 2, persistent state).
      this.votedFor = null;
    }
    const keys = host.storage.keys(LOG_PREFIX);
    const log: Entry[] = [];
    const stray: string[] = [];
    for (const key of keys) {
      const index = Number(key.slice(LOG_PREFIX.length));
      if (index !== log.length + 1 || stray.length > 0) {
        // Beyond a hole (only possible after a torn write): never acknowledged, drop it.
        stray.push(key);
        continue;
      }
      const value = readChecked(host, key) as Entry | undefined;
      if (value === undefined || typeof value !== 'object' || typeof value.term !== 'number') {
        throw new Error(`tick-raft ${host.id}: malformed log entry at ${key}`);
      }
      log.push(value);
    }
    this.log = log;
    if (stray.length > 0) {
      for (let i = stray.length - 1; i >= 0; i--) host.storage.delete(stray[i]!);
      host.storage.sync();
    }
  }

  private persistTermVote(): void {
    this.host.storage.put(KEY_TERM, this.currentTerm);
    this.host.storage.put(KEY_VOTE, this.votedFor);
    this.dirty = true;
  }

  /** Removes entries from `from` on; deletes highest first so a torn prefix stays contiguous. */
  private truncateFrom(from: number, markDirty = true): void {
    for (let i = this.log.length; i >= from; i--) this.host.storage.delete(logKey(i));
    this.log.length = Math.max(0, from - 1);
    if (markDirty) this.dirty = true;
  }

  private appendEntry(entry: Entry, markDirty = true): void {
    this.log.push(entry);
    this.host.storage.put(logKey(this.log.length), entry);
    if (markDirty) this.dirty = true;
  }

  // ---------------------------------------------------------------------------------------------
  // Log helpers

  private lastIndex(): number {
    return this.log.length;
  }

  private termAt(index: number): number {
    if (index <= 0 || index > this.log.length) return 0;
    return this.log[index - 1]!.term;
  }

  private lastTerm(): number {
    return this.termAt(this.log.length);
  }

  private upToDate(lastIndex: number, lastTerm: number): boolean {
    if (MUTANT === 'uptodate-index-only') {
      // BUG (elections, §5.4.1): "up-to-date" compares last terms first, not only lengths.
      return lastIndex >= this.lastIndex();
    }
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  // ---------------------------------------------------------------------------------------------
  // Step machinery

  private send(to: NodeId, message: Message): void {
    this.outbox.push([to, message]);
  }

  /** End of a step: make durable what was written, then send (persist before send). */
  private flush(): void {
    if (this.stopped) {
      this.outbox = [];
      return;
    }
    if (this.dirty) {
      this.host.storage.sync();
      this.dirty = false;
    }
    const out = this.outbox;
    this.outbox = [];
    for (const [to, message] of out) this.host.send(to, message);
  }

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    const span = this.electionMaxTicks - this.electionMinTicks;
    this.randomizedElectionTicks = this.electionMinTicks + Math.floor(this.host.random() * (span + 1));
  }

  private onTick(): void {
    if (this.stopped) return;
    this.timer = this.host.setTimer(this.tickMs, () => this.onTick());
    if (this.role === 'leader') {
      this.electionElapsed++;
      if (this.electionElapsed >= this.electionMinTicks) {
        // CheckQuorum (thesis §6.2): a leader that has not heard from a quorum for an election
        // timeout steps down. It also makes the pre-vote lease below safe for liveness.
        this.electionElapsed = 0;
        let active = 1;
        for (const pr of this.progress.values()) {
          if (pr.recentActive) active++;
          pr.recentActive = false;
        }
        if (active < this.quorum) {
          this.becomeFollower(this.currentTerm, null);
          this.flush();
          return;
        }
      }
      this.heartbeatElapsed++;
      if (this.heartbeatElapsed >= this.heartbeatTicks) {
        this.heartbeatElapsed = 0;
        this.broadcastHeartbeat();
      }
    } else {
      this.electionElapsed++;
      this.ticksSinceLeader++;
      if (this.electionElapsed >= this.randomizedElectionTicks) {
        this.resetElectionTimer();
        if (this.isMember) this.campaignPreVote();
      }
    }
    this.flush();
  }

  // ---------------------------------------------------------------------------------------------
  // Role changes

  private becomeFollower(term: number, leader: NodeId | null): void {
    if (term !== this.currentTerm) {
      this.currentTerm = term;
      this.votedFor = null;
      this.persistTermVote();
    }
    this.role = 'follower';
    this.leaderId = leader;
    this.resetElectionTimer();
    this.dropLeaderState();
  }

  private dropLeaderState(): void {
    this.progress.clear();
    // Reads pending when the node steps down are dropped (never answered).
    this.pendingReads = [];
    this.waitingReads = [];
    this.preVotes.clear();
    this.votes.clear();
    this.voteCount = 0;
  }

  private campaignPreVote(): void {
    this.dropLeaderState();
    this.role = 'precandidate';
    this.leaderId = null;
    this.preVotes.add(this.host.id);
    if (this.preVotes.size >= this.quorum) {
      this.campaign();
      return;
    }
    const msg: Message = { type: 'prevote', term: this.currentTerm + 1, lastIndex: this.lastIndex(), lastTerm: this.lastTerm() };
    for (const p of this.peers) this.send(p, msg);
  }

  private campaign(): void {
    this.dropLeaderState();
    this.currentTerm += 1;
    this.votedFor = this.host.id;
    this.persistTermVote();
    this.role = 'candidate';
    this.leaderId = null;
    this.resetElectionTimer();
    this.votes.add(this.host.id);
    this.voteCount = 1;
    if (this.votes.size >= this.quorum) {
      this.becomeLeader();
      return;
    }
    const msg: Message = { type: 'vote', term: this.currentTerm, lastIndex: this.lastIndex(), lastTerm: this.lastTerm() };
    for (const p of this.peers) this.send(p, msg);
  }

  private becomeLeader(): void {
    this.dropLeaderState();
    this.role = 'leader';
    this.leaderId = this.host.id;
    this.heartbeatElapsed = 0;
    this.electionElapsed = 0;
    const next = this.lastIndex() + 1;
    for (const p of this.peers) {
      this.progress.set(p, { match: 0, next, state: 'probe', paused: false, ackCtx: 0, recentActive: false });
    }
    this.appendEntry({ term: this.currentTerm, command: { noop: true, term: this.currentTerm } });
    this.maybeCommit();
    for (const p of this.peers) this.sendAppend(p);
  }

  // ---------------------------------------------------------------------------------------------
  // Leader: replication

  private sendAppend(to: NodeId): void {
    const pr = this.progress.get(to);
    if (pr === undefined) return;
    if (pr.state === 'probe' && pr.paused) return;
    const prevIndex = pr.next - 1;
    const end = Math.min(this.lastIndex(), prevIndex + MAX_BATCH);
    const entries = this.log.slice(prevIndex, end);
    const msg: Message = {
      type: 'append',
      term: this.currentTerm,
      prevIndex,
      prevTerm: this.termAt(prevIndex),
      entries,
      commit: this.commitIndex,
    };
    this.send(to, msg);
    if (pr.state === 'replicate') {
      if (entries.length > 0) pr.next = prevIndex + entries.length + 1;
    } else {
      pr.paused = true;
    }
  }

  private broadcastHeartbeat(): void {
    const ctx = this.pendingReads.length > 0 ? this.readSeq : 0;
    for (const p of this.peers) {
      const pr = this.progress.get(p)!;
      this.send(p, { type: 'heartbeat', term: this.currentTerm, commit: Math.min(pr.match, this.commitIndex), ctx });
    }
  }

  private maybeCommit(): void {
    const matches = [this.lastIndex()];
    for (const p of this.peers) matches.push(this.progress.get(p)!.match);
    matches.sort((a, b) => b - a);
    const n = matches[this.quorum - 1]!;
    if (n <= this.commitIndex) return;
    if (MUTANT === 'commit-old-term-by-count') {
      // BUG (commit rule, Figure 8 / §5.4.2): only an entry of the leader's own term may be committed by counting replicas.
      this.commitTo(n);
    } else if (this.termAt(n) === this.currentTerm) {
      this.commitTo(n);
    }
  }

  private commitTo(index: number): void {
    if (index <= this.commitIndex) return;
    this.commitIndex = index;
    this.applyCommitted();
    if (this.role === 'leader' && this.termAt(this.commitIndex) === this.currentTerm && this.waitingReads.length > 0) {
      const waiting = this.waitingReads;
      this.waitingReads = [];
      for (const ready of waiting) this.startRead(ready);
    }
  }

  private applyCommitted(): void {
    while (this.lastApplied < this.commitIndex) {
      this.lastApplied++;
      this.host.apply(this.lastApplied, this.log[this.lastApplied - 1]!.command);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // ReadIndex (thesis §6.4)

  private startRead(ready: (readIndex: number) => void): void {
    const seq = ++this.readSeq;
    const read: PendingRead = { seq, readIndex: this.commitIndex, ready };
    if (this.quorum <= 1) {
      ready(read.readIndex);
      return;
    }
    this.pendingReads.push(read);
    for (const p of this.peers) {
      const pr = this.progress.get(p)!;
      this.send(p, { type: 'heartbeat', term: this.currentTerm, commit: Math.min(pr.match, this.commitIndex), ctx: seq });
    }
  }

  private advanceReads(): void {
    while (this.pendingReads.length > 0) {
      const read = this.pendingReads[0]!;
      let acks = 1; // self
      for (const p of this.peers) if (this.progress.get(p)!.ackCtx >= read.seq) acks++;
      if (acks < this.quorum) return;
      this.pendingReads.shift();
      read.ready(read.readIndex);
      if (this.role !== 'leader') return;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Message handling

  private handle(from: NodeId, m: Message): void {
    // Term rules. A pre-vote request carries a prospective term and a granted pre-vote reply echoes
    // it: neither may move this node's term.
    const carriesRealTerm = m.type !== 'prevote' && !(m.type === 'prevoteResp' && m.granted);
    if (carriesRealTerm && m.term > this.currentTerm) {
      const leader = m.type === 'append' || m.type === 'heartbeat' ? from : null;
      this.becomeFollower(m.term, leader);
    }

    switch (m.type) {
      case 'prevote':
        return this.onPreVote(from, m);
      case 'prevoteResp':
        return this.onPreVoteResp(from, m);
      case 'vote':
        return this.onVote(from, m);
      case 'voteResp':
        return this.onVoteResp(from, m);
      case 'append':
        return this.onAppend(from, m);
      case 'appendResp':
        return this.onAppendResp(from, m);
      case 'heartbeat':
        return this.onHeartbeat(from, m);
      case 'heartbeatResp':
        return this.onHeartbeatResp(from, m);
    }
  }

  private onPreVote(from: NodeId, m: Extract<Message, { type: 'prevote' }>): void {
    const inLease = this.role === 'leader' || (this.leaderId !== null && this.ticksSinceLeader < this.electionMinTicks);
    const grant = m.term > this.currentTerm && !inLease && this.upToDate(m.lastIndex, m.lastTerm);
    if (grant) {
      if (MUTANT === 'prevote-sets-votedfor') {
        // BUG (pre-vote, thesis §9.6): granting a pre-vote must not change the voter's state (its vote).
        this.votedFor = from;
        this.persistTermVote();
      }
      this.send(from, { type: 'prevoteResp', term: m.term, granted: true });
    } else {
      this.send(from, { type: 'prevoteResp', term: this.currentTerm, granted: false });
    }
  }

  private onPreVoteResp(from: NodeId, m: Extract<Message, { type: 'prevoteResp' }>): void {
    if (this.role !== 'precandidate' || !m.granted || m.term !== this.currentTerm + 1) return;
    this.preVotes.add(from);
    if (this.preVotes.size >= this.quorum) this.campaign();
  }

  private onVote(from: NodeId, m: Extract<Message, { type: 'vote' }>): void {
    if (m.term < this.currentTerm) {
      this.send(from, { type: 'voteResp', term: this.currentTerm, granted: false });
      return;
    }
    const canVote = this.votedFor === null || this.votedFor === from;
    if (canVote && this.upToDate(m.lastIndex, m.lastTerm)) {
      this.votedFor = from;
      this.persistTermVote();
      this.resetElectionTimer();
      this.send(from, { type: 'voteResp', term: this.currentTerm, granted: true });
    } else {
      this.send(from, { type: 'voteResp', term: this.currentTerm, granted: false });
    }
  }

  private onVoteResp(from: NodeId, m: Extract<Message, { type: 'voteResp' }>): void {
    if (this.role !== 'candidate' || m.term !== this.currentTerm || !m.granted) return;
    if (MUTANT === 'duplicate-vote-counted') {
      // BUG (elections, §5.2): votes must be counted per voter; a duplicated grant counts once.
      this.voteCount++;
      if (this.voteCount >= this.quorum) this.becomeLeader();
      return;
    }
    this.votes.add(from);
    if (this.votes.size >= this.quorum) this.becomeLeader();
  }

  private heardFromLeader(from: NodeId): void {
    if (this.role !== 'follower') {
      // A candidate or pre-candidate of this term learns of the term's leader.
      this.becomeFollower(this.currentTerm, from);
    }
    this.leaderId = from;
    this.electionElapsed = 0;
    this.ticksSinceLeader = 0;
  }

  private onAppend(from: NodeId, m: Extract<Message, { type: 'append' }>): void {
    const reject = (conflictTerm: number, conflictIndex: number): void =>
      this.send(from, {
        type: 'appendResp',
        term: this.currentTerm,
        success: false,
        matchIndex: 0,
        rejectIndex: m.prevIndex,
        conflictTerm,
        conflictIndex,
      });
    if (m.term < this.currentTerm) {
      reject(0, 0);
      return;
    }
    if (this.role === 'leader') return; // cannot happen: one leader per term
    this.heardFromLeader(from);

    if (m.prevIndex > this.lastIndex()) {
      reject(0, this.lastIndex() + 1);
      return;
    }
    if (m.prevIndex > 0 && this.termAt(m.prevIndex) !== m.prevTerm) {
      const conflictTerm = this.termAt(m.prevIndex);
      let conflictIndex = m.prevIndex;
      while (conflictIndex > 1 && this.termAt(conflictIndex - 1) === conflictTerm) conflictIndex--;
      if (MUTANT === 'conflict-truncate-from-hint') {
        // BUG (conflict back-off): a rejecting follower must not drop entries; those before prevIndex may be committed.
        this.truncateFrom(conflictIndex);
      }
      reject(conflictTerm, conflictIndex);
      return;
    }

    const noSync = MUTANT === 'append-ack-without-sync';
    // BUG when noSync (persistence, Figure 2): entries must be durable before they are acknowledged.
    let index = m.prevIndex;
    for (const entry of m.entries) {
      index++;
      if (index <= this.lastIndex()) {
        if (this.termAt(index) === entry.term) continue;
        this.truncateFrom(index, !noSync);
      }
      this.appendEntry(entry, !noSync);
    }
    const lastNew = m.prevIndex + m.entries.length;
    if (MUTANT === 'reordered-append-truncates' && lastNew < this.lastIndex()) {
      // BUG (stale/reordered messages, Figure 2 rule 3): only a conflicting entry may be truncated, never a matching suffix.
      this.truncateFrom(lastNew + 1);
    }
    if (MUTANT === 'follower-commit-past-verified') {
      // BUG (commit rule, Figure 2 rule 5): commitIndex = min(leaderCommit, index of last NEW entry), not of the whole log.
      this.commitTo(Math.min(m.commit, this.lastIndex()));
    } else {
      this.commitTo(Math.min(m.commit, lastNew));
    }
    this.send(from, {
      type: 'appendResp',
      term: this.currentTerm,
      success: true,
      matchIndex: lastNew,
      rejectIndex: 0,
      conflictTerm: 0,
      conflictIndex: 0,
    });
  }

  private onAppendResp(from: NodeId, m: Extract<Message, { type: 'appendResp' }>): void {
    if (this.role !== 'leader' || m.term !== this.currentTerm) return; // stale reply
    const pr = this.progress.get(from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (m.success) {
      pr.paused = false;
      if (m.matchIndex > pr.match) pr.match = m.matchIndex;
      if (pr.state === 'probe') {
        pr.state = 'replicate';
        pr.next = pr.match + 1;
      } else if (pr.next < pr.match + 1) {
        pr.next = pr.match + 1;
      }
      this.maybeCommit();
      if (this.role === 'leader' && pr.next <= this.lastIndex()) this.sendAppend(from);
      return;
    }
    // Rejection: ignore stale ones.
    if (m.rejectIndex <= pr.match) return;
    if (pr.state === 'probe' && m.rejectIndex !== pr.next - 1) return;
    let next: number;
    if (m.conflictTerm > 0) {
      let last = 0;
      for (let i = Math.min(m.rejectIndex, this.lastIndex()); i >= 1; i--) {
        const t = this.termAt(i);
        if (t === m.conflictTerm) {
          last = i;
          break;
        }
        if (t < m.conflictTerm) break;
      }
      next = last > 0 ? last + 1 : m.conflictIndex;
    } else {
      next = m.conflictIndex;
    }
    next = Math.max(pr.match + 1, Math.min(next, m.rejectIndex));
    pr.state = 'probe';
    pr.next = next;
    pr.paused = false;
    this.sendAppend(from);
  }

  private onHeartbeat(from: NodeId, m: Extract<Message, { type: 'heartbeat' }>): void {
    if (m.term < this.currentTerm) {
      this.send(from, { type: 'heartbeatResp', term: this.currentTerm, ctx: 0 });
      return;
    }
    if (this.role === 'leader') return;
    this.heardFromLeader(from);
    this.commitTo(Math.min(m.commit, this.lastIndex()));
    this.send(from, { type: 'heartbeatResp', term: this.currentTerm, ctx: m.ctx });
  }

  private onHeartbeatResp(from: NodeId, m: Extract<Message, { type: 'heartbeatResp' }>): void {
    if (this.role !== 'leader' || m.term !== this.currentTerm) return;
    const pr = this.progress.get(from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.paused = false;
    if (pr.match < this.lastIndex()) this.sendAppend(from);
    if (m.ctx > pr.ackCtx) {
      pr.ackCtx = m.ctx;
      this.advanceReads();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // RaftNode

  receive(from: NodeId, message: unknown): void {
    if (this.stopped) return;
    this.handle(from, message as Message);
    this.flush();
  }

  propose(command: Command): ProposeResult {
    if (this.stopped) return { accepted: false };
    if (this.role !== 'leader') {
      return this.leaderId !== null && this.leaderId !== this.host.id
        ? { accepted: false, leaderHint: this.leaderId }
        : { accepted: false };
    }
    this.appendEntry({ term: this.currentTerm, command });
    const result: ProposeResult = { accepted: true, index: this.lastIndex(), term: this.currentTerm };
    this.maybeCommit();
    for (const p of this.peers) this.sendAppend(p);
    this.flush();
    return result;
  }

  read(ready: (readIndex: number) => void): boolean {
    if (this.stopped || this.role !== 'leader') return false;
    if (MUTANT === 'readindex-before-term-commit') {
      // BUG (ReadIndex, thesis §6.4 step 1): the leader's commitIndex is only current once it has committed an entry of its term.
      this.startRead(ready);
    } else if (this.termAt(this.commitIndex) === this.currentTerm) {
      this.startRead(ready);
    } else {
      this.waitingReads.push(ready);
    }
    this.flush();
    return true;
  }

  inspect(): NodeView {
    const log = this.log;
    const lastIndex = log.length;
    const view: LogView = {
      snapshotIndex: 0,
      snapshotTerm: 0,
      lastIndex,
      termAt: (index: number) => {
        if (index < 1 || index > lastIndex) throw new RangeError(`termAt(${index}) outside 1..${lastIndex}`);
        return log[index - 1]!.term;
      },
      commandAt: (index: number) => {
        if (index < 1 || index > lastIndex) throw new RangeError(`commandAt(${index}) outside 1..${lastIndex}`);
        return log[index - 1]!.command;
      },
    };
    return {
      role: this.role,
      term: this.currentTerm,
      votedFor: this.votedFor,
      commitIndex: this.commitIndex,
      members: this.members,
      log: view,
    };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.host.clearTimer(this.timer);
    this.timer = null;
    this.outbox = [];
  }
}

export const createRaft: RaftFactory = (host, config) => new TickRaft(host, config);
export default createRaft;
