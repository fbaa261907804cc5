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
 * - Log compaction (thesis ch. 5): once SNAPSHOT_THRESHOLD entries beyond the last snapshot are
 *   applied, host.snapshot() is persisted with its last index/term and configuration, synced, and
 *   the covered entries are deleted. A follower behind the leader's snapshot gets InstallSnapshot
 *   (the whole snapshot in one message); it installs it only if newer than its commit point, keeps
 *   the suffix after a matching last entry, otherwise drops its log; persists, syncs, restores.
 * - Single-server membership change (thesis §4.1–4.3): configuration entries in the log, each
 *   server uses the latest one in its log (committed or not), falling back when it is truncated;
 *   a leader takes one change at a time, only after committing an entry of its term.
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
  type Snapshot,
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
  'install-drops-newer-log',
  'install-stale-snapshot',
  'snapshot-term-from-current',
  'removed-leader-counts-self',
  'truncate-keeps-config',
  'config-change-before-term-commit',
];

export const info = { name: 'tick-raft', version: '0.1.0' };

const MAX_BATCH = 32;
/** Applied entries beyond the last snapshot that trigger a compaction (option `snapshotThreshold`). */
const SNAPSHOT_THRESHOLD = 64;

interface Noop {
  readonly noop: true;
  readonly term: number;
}

/** A configuration entry: the voting members from this entry on (single-server changes only). */
interface ConfigChange {
  readonly config: readonly NodeId[];
}

interface Entry {
  readonly term: number;
  readonly command: Command | Noop | ConfigChange;
}

function isConfig(command: Entry['command']): command is ConfigChange {
  return typeof command === 'object' && command !== null && Array.isArray((command as { config?: unknown }).config);
}

/** What is persisted under KEY_SNAP and carried by InstallSnapshot. */
interface SnapshotRecord {
  readonly index: number;
  readonly term: number;
  /** The configuration in use at `index`. */
  readonly members: readonly NodeId[];
  readonly snapshot: Snapshot;
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
  | { readonly type: 'heartbeatResp'; readonly term: number; readonly ctx: number }
  | {
      readonly type: 'snapshot';
      readonly term: number;
      readonly index: number;
      readonly lastTerm: number;
      readonly members: readonly NodeId[];
      readonly snapshot: Snapshot;
    }
  | { readonly type: 'snapshotResp'; readonly term: number; readonly success: boolean; readonly index: number };

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
const KEY_SNAP = 'snapshot';
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
  private readonly snapshotThreshold: number;

  private readonly tickMs: number;
  private readonly heartbeatTicks: number;
  private readonly electionMinTicks: number;
  private readonly electionMaxTicks: number;

  // Persistent state (mirrored in memory; written through to host.storage).
  private currentTerm = 0;
  private votedFor: NodeId | null = null;
  /** Entries snapIndex+1 .. lastIndex(). */
  private log: Entry[] = [];
  private snapIndex = 0;
  private snapTerm = 0;
  /** The latest snapshot (for InstallSnapshot), null before the first. */
  private snapshot: Snapshot | null = null;

  // Configuration in use: the latest configuration entry in the log, else `baseMembers` (the
  // snapshot's configuration, or the initial members before any snapshot).
  private baseMembers: readonly NodeId[];
  private members: readonly NodeId[] = [];
  private peers: readonly NodeId[] = [];
  /** Index of the configuration entry in use; <= snapIndex when it comes from baseMembers. */
  private configIndex = 0;

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
    this.baseMembers = [...config.initialMembers].sort();
    const threshold = config.options['snapshotThreshold'];
    this.snapshotThreshold =
      typeof threshold === 'number' && Number.isInteger(threshold) && threshold >= 1 ? threshold : SNAPSHOT_THRESHOLD;

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

    const rec = readChecked(host, KEY_SNAP) as SnapshotRecord | undefined;
    if (rec !== undefined) {
      if (typeof rec !== 'object' || rec === null || typeof rec.index !== 'number' || typeof rec.term !== 'number' || !Array.isArray(rec.members)) {
        throw new Error(`tick-raft ${host.id}: malformed snapshot record`);
      }
      this.snapIndex = rec.index;
      this.snapTerm = rec.term;
      this.baseMembers = rec.members;
      this.snapshot = rec.snapshot ?? null;
    }
    const S = this.snapIndex;

    // The log keys form one contiguous run; anything beyond a hole (only possible after a torn
    // write) was never acknowledged and is dropped.
    const keys = host.storage.keys(LOG_PREFIX);
    const run: Array<[number, string]> = [];
    const beyondHole: string[] = [];
    for (const key of keys) {
      const index = Number(key.slice(LOG_PREFIX.length));
      if (beyondHole.length === 0 && (run.length === 0 || index === run[run.length - 1]![0] + 1)) run.push([index, key]);
      else beyondHole.push(key);
    }
    // Which part of the run follows the snapshot? Entries at or below it are left over from an
    // interrupted compaction or install: the suffix is this node's log only if the run's entry at
    // S is the snapshot's last entry (else it is a stale log an install was discarding).
    let keepFrom = run.length;
    if (run.length > 0) {
      const first = run[0]![0];
      const last = run[run.length - 1]![0];
      if (last > S && first === S + 1) {
        keepFrom = 0;
      } else if (last > S && first <= S) {
        const atS = readChecked(host, run[S - first]![1]) as Entry | undefined;
        if (typeof atS === 'object' && atS !== null && atS.term === this.snapTerm) keepFrom = S - first + 1;
      }
    }
    const log: Entry[] = [];
    for (let k = keepFrom; k < run.length; k++) {
      const value = readChecked(host, run[k]![1]) as Entry | undefined;
      if (value === undefined || typeof value !== 'object' || value === null || typeof value.term !== 'number') {
        throw new Error(`tick-raft ${host.id}: malformed log entry at ${run[k]![1]}`);
      }
      log.push(value);
    }
    this.log = log;
    const stale: string[] = [];
    for (let k = beyondHole.length - 1; k >= 0; k--) stale.push(beyondHole[k]!);
    if (keepFrom === run.length) {
      for (let k = run.length - 1; k >= 0; k--) stale.push(run[k]![1]); // highest first
    } else {
      for (let k = 0; k < keepFrom; k++) stale.push(run[k]![1]); // covered prefix, lowest first
    }
    if (stale.length > 0) {
      for (const key of stale) host.storage.delete(key);
      host.storage.sync();
    }

    this.commitIndex = S;
    this.lastApplied = S;
    if (S > 0) {
      if (this.snapshot === null) throw new Error(`tick-raft ${host.id}: snapshot record without a snapshot`);
      // The state machine starts empty at every start: restore it before anything is applied.
      this.host.restore(this.snapshot);
    }
    this.recomputeConfig();
  }

  private persistTermVote(): void {
    this.host.storage.put(KEY_TERM, this.currentTerm);
    this.host.storage.put(KEY_VOTE, this.votedFor);
    this.dirty = true;
  }

  /** Removes entries from `from` on; deletes highest first so a torn prefix stays contiguous. */
  private truncateFrom(from: number, markDirty = true): void {
    from = Math.max(from, this.snapIndex + 1);
    for (let i = this.lastIndex(); i >= from; i--) this.host.storage.delete(logKey(i));
    this.log.length = Math.max(0, from - 1 - this.snapIndex);
    if (markDirty) this.dirty = true;
    if (from <= this.configIndex) {
      if (MUTANT === 'truncate-keeps-config') {
        // BUG (membership, thesis §4.1): when a configuration entry is truncated, the server must fall back to the previous configuration.
        // (it keeps using the truncated configuration)
      } else {
        this.recomputeConfig();
      }
    }
  }

  private appendEntry(entry: Entry, markDirty = true): void {
    this.log.push(entry);
    this.host.storage.put(logKey(this.lastIndex()), entry);
    if (markDirty) this.dirty = true;
    if (isConfig(entry.command)) this.setConfig(entry.command.config, this.lastIndex());
  }

  // ---------------------------------------------------------------------------------------------
  // Configuration

  /** The configuration in use at `index` (<= lastIndex): the latest entry at or below it. */
  private configAt(index: number): { members: readonly NodeId[]; index: number } {
    for (let i = Math.min(index, this.lastIndex()); i > this.snapIndex; i--) {
      const command = this.log[i - this.snapIndex - 1]!.command;
      if (isConfig(command)) return { members: command.config, index: i };
    }
    return { members: this.baseMembers, index: this.snapIndex };
  }

  private recomputeConfig(): void {
    const c = this.configAt(this.lastIndex());
    this.setConfig(c.members, c.index);
  }

  private setConfig(members: readonly NodeId[], index: number): void {
    this.members = members;
    this.configIndex = index;
    this.peers = members.filter((id) => id !== this.host.id);
    if (this.role === 'leader') {
      for (const p of this.peers) {
        if (!this.progress.has(p)) {
          this.progress.set(p, { match: 0, next: this.lastIndex() + 1, state: 'probe', paused: false, ackCtx: 0, recentActive: true });
        }
      }
      for (const p of [...this.progress.keys()]) if (!this.peers.includes(p)) this.progress.delete(p);
    } else if ((this.role === 'candidate' || this.role === 'precandidate') && !this.isMember()) {
      this.becomeFollower(this.currentTerm, null);
    }
  }

  private isMember(): boolean {
    return this.members.includes(this.host.id);
  }

  private quorum(): number {
    return Math.floor(this.members.length / 2) + 1;
  }

  /** Number of members (self included if a member) for which `has` holds, against the quorum. */
  private hasQuorum(has: (id: NodeId) => boolean): boolean {
    let n = 0;
    for (const id of this.members) if (has(id)) n++;
    return n >= this.quorum();
  }

  // ---------------------------------------------------------------------------------------------
  // Log helpers

  private lastIndex(): number {
    return this.snapIndex + this.log.length;
  }

  /** Term at index; snapTerm at snapIndex; 0 outside (snapIndex..lastIndex] and for index 0. */
  private termAt(index: number): number {
    if (index === this.snapIndex) return this.snapTerm;
    if (index < this.snapIndex || index > this.lastIndex()) return 0;
    return this.log[index - this.snapIndex - 1]!.term;
  }

  private lastTerm(): number {
    return this.termAt(this.lastIndex());
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
        // CheckQuorum (thesis §6.2): a leader that has not heard from a quorum of its
        // configuration for an election timeout steps down. It also makes the pre-vote lease
        // below safe for liveness.
        this.electionElapsed = 0;
        const active = this.hasQuorum((id) => id === this.host.id || this.progress.get(id)?.recentActive === true);
        for (const pr of this.progress.values()) pr.recentActive = false;
        if (!active) {
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
        // A server outside its own configuration (not yet added, or removed) never campaigns.
        if (this.isMember()) this.campaignPreVote();
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
    if (this.hasQuorum((id) => this.preVotes.has(id))) {
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
    if (this.hasQuorum((id) => this.votes.has(id))) {
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
    if (prevIndex < this.snapIndex) {
      // The entries the follower needs are compacted: InstallSnapshot (one message, one at a time).
      this.sendSnapshot(to, pr);
      return;
    }
    const end = Math.min(this.lastIndex(), prevIndex + MAX_BATCH);
    const entries = this.log.slice(prevIndex - this.snapIndex, end - this.snapIndex);
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

  private sendSnapshot(to: NodeId, pr: Progress): void {
    if (this.snapshot === null) throw new Error(`tick-raft ${this.host.id}: no snapshot at ${this.snapIndex}`);
    this.send(to, {
      type: 'snapshot',
      term: this.currentTerm,
      index: this.snapIndex,
      lastTerm: this.snapTerm,
      members: this.baseMembers,
      snapshot: this.snapshot,
    });
    // Wait for its reply (or a heartbeat reply, which resends it if still needed).
    pr.state = 'probe';
    pr.paused = true;
  }

  private broadcastHeartbeat(): void {
    const ctx = this.pendingReads.length > 0 ? this.readSeq : 0;
    for (const p of this.peers) {
      const pr = this.progress.get(p)!;
      this.send(p, { type: 'heartbeat', term: this.currentTerm, commit: Math.min(pr.match, this.commitIndex), ctx });
    }
  }

  private maybeCommit(): void {
    const matches: number[] = [];
    for (const id of this.members) matches.push(id === this.host.id ? this.lastIndex() : (this.progress.get(id)?.match ?? 0));
    if (MUTANT === 'removed-leader-counts-self') {
      // BUG (membership, thesis §4.2.2): a leader outside its configuration must not count itself in the majority.
      if (!this.isMember()) matches.push(this.lastIndex());
    } else {
      // Counted over the configuration's members only (a removed leader's own log does not count).
    }
    matches.sort((a, b) => b - a);
    const n = matches[this.quorum() - 1] ?? 0;
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
    if (this.role === 'leader' && !this.isMember() && this.configIndex <= this.commitIndex) {
      // A leader that committed a configuration without itself steps down (thesis §4.2.2).
      this.becomeFollower(this.currentTerm, null);
      return;
    }
    if (this.role === 'leader' && this.termAt(this.commitIndex) === this.currentTerm && this.waitingReads.length > 0) {
      const waiting = this.waitingReads;
      this.waitingReads = [];
      for (const ready of waiting) this.startRead(ready);
    }
  }

  private applyCommitted(): void {
    while (this.lastApplied < this.commitIndex) {
      this.lastApplied++;
      this.host.apply(this.lastApplied, this.log[this.lastApplied - this.snapIndex - 1]!.command);
    }
    if (this.lastApplied - this.snapIndex >= this.snapshotThreshold) this.compact();
  }

  /** Log compaction (thesis §5.1): snapshot the state machine at lastApplied, then drop the prefix. */
  private compact(): void {
    const index = this.lastApplied;
    const snapshot = this.host.snapshot();
    if (snapshot.index !== index) {
      throw new Error(`tick-raft ${this.host.id}: snapshot at ${snapshot.index}, expected ${index}`);
    }
    let term: number;
    if (MUTANT === 'snapshot-term-from-current') {
      // BUG (compaction, thesis §5.1): lastIncludedTerm is the term of the entry at lastIncludedIndex, not the current term.
      term = this.currentTerm;
    } else {
      term = this.termAt(index);
    }
    const members = this.configAt(index).members;
    const record: SnapshotRecord = { index, term, members, snapshot };
    this.host.storage.put(KEY_SNAP, record);
    this.host.storage.sync();
    // The snapshot is durable: delete the entries it covers, lowest first (a torn delete leaves a
    // contiguous run that recovery recognises by the entry at the snapshot's index).
    for (let i = this.snapIndex + 1; i <= index; i++) this.host.storage.delete(logKey(i));
    this.dirty = true;
    this.log = this.log.slice(index - this.snapIndex);
    this.snapIndex = index;
    this.snapTerm = term;
    this.snapshot = snapshot;
    this.baseMembers = members;
  }

  // ---------------------------------------------------------------------------------------------
  // ReadIndex (thesis §6.4)

  private startRead(ready: (readIndex: number) => void): void {
    const seq = ++this.readSeq;
    const read: PendingRead = { seq, readIndex: this.commitIndex, ready };
    if (this.hasQuorum((id) => id === this.host.id)) {
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
      const acked = this.hasQuorum((id) => id === this.host.id || (this.progress.get(id)?.ackCtx ?? 0) >= read.seq);
      if (!acked) return;
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
      const leader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot' ? from : null;
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
      case 'snapshot':
        return this.onSnapshot(from, m);
      case 'snapshotResp':
        return this.onSnapshotResp(from, m);
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
    if (this.hasQuorum((id) => this.preVotes.has(id))) this.campaign();
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
      if (this.voteCount >= this.quorum()) this.becomeLeader();
      return;
    }
    this.votes.add(from);
    if (this.hasQuorum((id) => this.votes.has(id))) this.becomeLeader();
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

    let prevIndex = m.prevIndex;
    let entries = m.entries;
    if (prevIndex < this.snapIndex) {
      // Entries at or below the snapshot are committed, hence the leader's: skip them.
      const skip = this.snapIndex - prevIndex;
      if (skip >= entries.length) {
        const covered = prevIndex + entries.length;
        this.send(from, {
          type: 'appendResp',
          term: this.currentTerm,
          success: true,
          matchIndex: covered,
          rejectIndex: 0,
          conflictTerm: 0,
          conflictIndex: 0,
        });
        return;
      }
      entries = entries.slice(skip);
      prevIndex = this.snapIndex;
    }

    if (prevIndex > this.lastIndex()) {
      reject(0, this.lastIndex() + 1);
      return;
    }
    if (prevIndex > this.snapIndex && this.termAt(prevIndex) !== m.prevTerm) {
      const conflictTerm = this.termAt(prevIndex);
      let conflictIndex = prevIndex;
      while (conflictIndex > this.snapIndex + 1 && this.termAt(conflictIndex - 1) === conflictTerm) conflictIndex--;
      if (MUTANT === 'conflict-truncate-from-hint') {
        // BUG (conflict back-off): a rejecting follower must not drop entries; those before prevIndex may be committed.
        this.truncateFrom(conflictIndex);
      }
      reject(conflictTerm, conflictIndex);
      return;
    }

    const noSync = MUTANT === 'append-ack-without-sync';
    // BUG when noSync (persistence, Figure 2): entries must be durable before they are acknowledged.
    let index = prevIndex;
    for (const entry of entries) {
      index++;
      if (index <= this.lastIndex()) {
        if (this.termAt(index) === entry.term) continue;
        this.truncateFrom(index, !noSync);
      }
      this.appendEntry(entry, !noSync);
    }
    const lastNew = prevIndex + entries.length;
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
      for (let i = Math.min(m.rejectIndex, this.lastIndex()); i >= Math.max(1, this.snapIndex); i--) {
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

  /** InstallSnapshot receiver (thesis §5.1, Figure 5.3). */
  private onSnapshot(from: NodeId, m: Extract<Message, { type: 'snapshot' }>): void {
    if (m.term < this.currentTerm) {
      this.send(from, { type: 'snapshotResp', term: this.currentTerm, success: false, index: m.index });
      return;
    }
    if (this.role === 'leader') return; // cannot happen: one leader per term
    this.heardFromLeader(from);
    let newer: boolean;
    if (MUTANT === 'install-stale-snapshot') {
      // BUG (InstallSnapshot, thesis §5.1): a snapshot not newer than the commit point must be ignored, never installed.
      newer = m.index > this.snapIndex;
    } else {
      newer = m.index > this.commitIndex;
    }
    if (!newer) {
      // Already committed here, hence the leader's up to m.index.
      this.send(from, { type: 'snapshotResp', term: this.currentTerm, success: true, index: m.index });
      return;
    }
    const storage = this.host.storage;
    let keep: boolean;
    if (MUTANT === 'install-drops-newer-log') {
      // BUG (InstallSnapshot, Figure 5.3 step 6): entries following a matching snapshot's last entry must be retained.
      keep = false;
    } else {
      keep = m.index > this.snapIndex && m.index <= this.lastIndex() && this.termAt(m.index) === m.lastTerm;
    }
    const record: SnapshotRecord = { index: m.index, term: m.lastTerm, members: m.members, snapshot: m.snapshot };
    storage.put(KEY_SNAP, record);
    if (keep) {
      // Keep the suffix after the snapshot; delete the covered prefix, lowest first.
      for (let i = this.snapIndex + 1; i <= m.index; i++) storage.delete(logKey(i));
      this.log = this.log.slice(m.index - this.snapIndex);
    } else {
      // Discard the whole log, highest first (recovery drops a stale run by its entry at m.index).
      for (let i = this.lastIndex(); i > this.snapIndex; i--) storage.delete(logKey(i));
      this.log = [];
    }
    storage.sync();
    this.snapIndex = m.index;
    this.snapTerm = m.lastTerm;
    this.snapshot = m.snapshot;
    this.baseMembers = m.members;
    this.commitIndex = m.index;
    this.lastApplied = m.index;
    this.host.restore(m.snapshot);
    this.recomputeConfig();
    this.send(from, { type: 'snapshotResp', term: this.currentTerm, success: true, index: m.index });
  }

  private onSnapshotResp(from: NodeId, m: Extract<Message, { type: 'snapshotResp' }>): void {
    if (this.role !== 'leader' || m.term !== this.currentTerm || !m.success) return;
    const pr = this.progress.get(from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (m.index > pr.match) pr.match = m.index;
    pr.state = 'probe';
    pr.next = pr.match + 1;
    pr.paused = false;
    this.maybeCommit();
    if (this.role === 'leader' && pr.next <= this.lastIndex()) this.sendAppend(from);
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
    if (this.role !== 'leader') return this.refusal();
    this.appendEntry({ term: this.currentTerm, command });
    const result: ProposeResult = { accepted: true, index: this.lastIndex(), term: this.currentTerm };
    this.maybeCommit();
    for (const p of this.peers) this.sendAppend(p);
    this.flush();
    return result;
  }

  private refusal(): ProposeResult {
    return this.leaderId !== null && this.leaderId !== this.host.id
      ? { accepted: false, leaderHint: this.leaderId }
      : { accepted: false };
  }

  /** Single-server membership change (thesis §4.1–4.3). */
  changeMembership(members: readonly NodeId[]): ProposeResult {
    if (this.stopped) return { accepted: false };
    if (this.role !== 'leader') return this.refusal();
    const wanted = [...new Set(members)].sort();
    const added = wanted.filter((id) => !this.members.includes(id));
    const removed = this.members.filter((id) => !wanted.includes(id));
    // Exactly one server added or removed, and never an empty configuration.
    if (added.length + removed.length !== 1 || wanted.length === 0) return { accepted: false };
    // One change at a time: the previous configuration entry must be committed.
    if (this.configIndex > this.commitIndex) return { accepted: false };
    if (MUTANT === 'config-change-before-term-commit') {
      // BUG (membership, Ongaro 2015 / thesis §4.1): a leader may change the configuration only after committing an entry of its term.
      // (no check)
    } else if (this.termAt(this.commitIndex) !== this.currentTerm) {
      return { accepted: false };
    }
    this.appendEntry({ term: this.currentTerm, command: { config: wanted } });
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
    const snapshotIndex = this.snapIndex;
    const lastIndex = snapshotIndex + log.length;
    const view: LogView = {
      snapshotIndex,
      snapshotTerm: this.snapTerm,
      lastIndex,
      termAt: (index: number) => {
        if (index <= snapshotIndex || index > lastIndex) {
          throw new RangeError(`termAt(${index}) outside ${snapshotIndex + 1}..${lastIndex}`);
        }
        return log[index - snapshotIndex - 1]!.term;
      },
      commandAt: (index: number) => {
        if (index <= snapshotIndex || index > lastIndex) {
          throw new RangeError(`commandAt(${index}) outside ${snapshotIndex + 1}..${lastIndex}`);
        }
        return log[index - snapshotIndex - 1]!.command;
      },
    };
    return {
      role: this.role,
      term: this.currentTerm,
      votedFor: this.votedFor,
      commitIndex: this.commitIndex,
      members: this.members,
      // Single-server changes only: a configuration is never joint (the checkers then ask a majority of it).
      joint: false,
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
