// A course-style Raft (Figure 2 of Ongaro & Ousterhout 2014), written against raftsim's NodeHost
// independently of the reference Raft in src/raft, as a second implementation under test.
// No PreVote, no CheckQuorum, no leader no-op, no snapshots, no membership changes, no read().
//
// Planted bugs: MUTANT=<name> (see README.md beside this file). Each is a guarded, commented change.

import type {
  ClusterConfig,
  Command,
  LogView,
  NodeHost,
  NodeId,
  NodeView,
  ProposeResult,
  RaftFactory,
  RaftNode,
  Role,
} from '../../src/adapter/contract.ts';
import { isCorrupted } from '../../src/adapter/contract.ts';

const MUTANT = process.env.MUTANT ?? '';

interface Entry {
  readonly term: number;
  readonly command: unknown;
}

interface RequestVote {
  readonly type: 'RequestVote';
  readonly term: number;
  readonly candidateId: NodeId;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
}
interface RequestVoteReply {
  readonly type: 'RequestVoteReply';
  readonly term: number;
  readonly voteGranted: boolean;
}
interface AppendEntries {
  readonly type: 'AppendEntries';
  readonly term: number;
  readonly leaderId: NodeId;
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly leaderCommit: number;
}
interface AppendEntriesReply {
  readonly type: 'AppendEntriesReply';
  readonly term: number;
  readonly success: boolean;
  /** On success: prevLogIndex + entries.length of the request answered. */
  readonly matchIndex: number;
  /** The prevLogIndex of the request answered. */
  readonly prevLogIndex: number;
}
type Message = RequestVote | RequestVoteReply | AppendEntries | AppendEntriesReply;

/** The one option: at most this many entries per AppendEntries (default 64). */
const DEFAULT_MAX_ENTRIES_PER_MESSAGE = 64;

/**
 * The options a generated run may vary (see KnobSpace in src/adapter/contract.ts), the default
 * first. Not 1: a leader here sends the next batch only at its next heartbeat, so a follower 80
 * entries behind would need 4 s to catch up — longer than raftsim's catch-up bound (10 election
 * timeouts), as a campaign with 1 among the values showed.
 */
export const knobs = { maxEntriesPerMessage: [DEFAULT_MAX_ENTRIES_PER_MESSAGE, 8] };
const META = 'meta';
const LAST_INDEX = 'lastIndex';
const logKey = (index: number): string => `log/${String(index).padStart(10, '0')}`;

export const createRaft: RaftFactory = (host: NodeHost, config: ClusterConfig): RaftNode => {
  const storage = host.storage;
  const members: readonly NodeId[] = [...config.initialMembers];
  const peers = members.filter((m) => m !== host.id);
  const timing = config.timing;
  const option = config.options.maxEntriesPerMessage ?? DEFAULT_MAX_ENTRIES_PER_MESSAGE;
  if (typeof option !== 'number' || !Number.isInteger(option) || option < 1) {
    throw new Error(`option maxEntriesPerMessage: expected an integer >= 1, got ${JSON.stringify(option)}`);
  }
  const maxEntriesPerMessage: number = option;

  // ---- persistent state (mirrored in storage) ----
  let currentTerm = 0;
  let votedFor: NodeId | null = null;
  /** log[i - 1] is the entry at index i. Appends push; truncation makes a new array (views stay valid). */
  let log: Entry[] = [];
  /** lastIndex as last written to storage. */
  let diskLastIndex = 0;

  // ---- volatile state ----
  let role: Role = 'follower';
  let commitIndex = 0;
  let lastApplied = 0;
  let leaderId: NodeId | null = null;
  let votes = new Set<NodeId>();
  const nextIndex = new Map<NodeId, number>();
  const matchIndex = new Map<NodeId, number>();
  let electionTimer: number | null = null;
  let heartbeatTimer: number | null = null;
  let stopped = false;
  // ---- storage corruption (not in Figure 2; raftsim's default scenario corrupts disks) ----
  // A node that finds a corrupted value at start may have lost its vote or entries it had
  // acknowledged. It becomes "tainted": it keeps the intact prefix of its log, follows leaders,
  // stores, acknowledges and applies entries, but never campaigns, and votes only if its term and
  // vote are intact and the (lastIndex, lastTerm) its disk recorded before the damage is known:
  // a candidate must then be at least as up-to-date as that recorded log *and* the current one,
  // which is all the election restriction needs. The taint ends once its log holds an entry of a
  // term above the term it had at the damage: such a log contains every entry it could have
  // acknowledged before. (Acknowledgements are always counted: a voting quorum of untainted or
  // floor-checking voters still meets every replication quorum in a node that holds the entry.)
  let tainted = false;
  /** Taint ends when lastTerm() exceeds this; null: never (term unknown). */
  let taintBound: number | null = null;
  /** Pre-damage (lastIndex, lastTerm) a candidate must reach; null: may not vote while tainted. */
  let voteFloor: { index: number; term: number } | null = null;
  const TAINTED = 'tainted';

  const lastIndex = (): number => log.length;
  const termAt = (index: number): number => (index === 0 ? 0 : log[index - 1]!.term);
  const lastTerm = (): number => termAt(lastIndex());
  const atLeast = (aTerm: number, aIndex: number, bTerm: number, bIndex: number): boolean =>
    aTerm > bTerm || (aTerm === bTerm && aIndex >= bIndex);

  // ---- recovery ----
  {
    const rec = storage.get(TAINTED);
    const meta = storage.get(META);
    const metaOk = !isCorrupted(meta);
    if (metaOk && meta !== undefined) {
      const m = meta as { term: number; votedFor: NodeId | null };
      currentTerm = m.term;
      votedFor = m.votedFor;
    }
    const rawLast = storage.get(LAST_INDEX);
    const lastOk = !isCorrupted(rawLast);
    const recorded = lastOk && rawLast !== undefined ? (rawLast as { index: number; term: number }) : { index: 0, term: 0 };
    let damaged = !metaOk || !lastOk;
    for (let i = 1; i <= recorded.index; i++) {
      const raw = storage.get(logKey(i));
      if (raw === undefined || isCorrupted(raw)) {
        damaged = true; // keep the intact prefix; the leader sends the rest again
        break;
      }
      const e = raw as Entry;
      log.push({ term: e.term, command: e.command });
    }
    if (rec !== undefined || damaged) {
      tainted = true;
      const prev = isCorrupted(rec) ? undefined : (rec as { bound: number | null; floor: { index: number; term: number } | null } | undefined);
      // The bound: the term before the damage. Terms only grow, so the intact current term covers
      // an earlier bound; an unreadable term or record means it is unknown.
      if (!metaOk || isCorrupted(rec) || (prev !== undefined && prev.bound === null)) taintBound = null;
      else taintBound = damaged || prev === undefined ? currentTerm : prev.bound;
      const newFloor = damaged ? (lastOk ? recorded : null) : { index: 0, term: 0 };
      const oldFloor = rec === undefined ? { index: 0, term: 0 } : prev === undefined ? null : prev.floor;
      if (!metaOk || newFloor === null || oldFloor === null) voteFloor = null;
      else voteFloor = atLeast(newFloor.term, newFloor.index, oldFloor.term, oldFloor.index) ? newFloor : oldFloor;
      if (!metaOk) {
        currentTerm = log.length > 0 ? log[log.length - 1]!.term : 0;
        votedFor = null;
      }
      // Record the taint, then rewrite the disk to what is kept in memory.
      storage.put(TAINTED, { bound: taintBound, floor: voteFloor });
      storage.put(META, { term: currentTerm, votedFor });
      for (const k of storage.keys('log/')) storage.delete(k);
      for (let i = 1; i <= log.length; i++) storage.put(logKey(i), log[i - 1]);
      storage.put(LAST_INDEX, { index: log.length, term: lastTerm() });
      storage.sync();
    }
    diskLastIndex = log.length;
  }

  function maybeEndTaint(): void {
    if (!tainted || taintBound === null || lastTerm() <= taintBound) return;
    tainted = false;
    taintBound = null;
    voteFloor = null;
    storage.delete(TAINTED);
    storage.sync();
    if (role === 'follower') resetElectionTimer();
  }

  // ---- persistence ----
  function putMeta(): void {
    storage.put(META, { term: currentTerm, votedFor });
  }
  function persistMeta(): void {
    putMeta();
    storage.sync();
  }
  /**
   * Makes the disk hold log[1..lastIndex()], given that entries below `from` are already there
   * unchanged. Does not sync. lastIndex is lowered first when the log was truncated, so that a
   * torn write can never leave a mix of old and new entries under the recorded lastIndex.
   */
  function putLogFrom(from: number): void {
    const newLast = lastIndex();
    if (MUTANT === 'truncate-disk-stale') {
      // BUG: rule "delete the existing entry and all that follow it" only done in memory; the
      // on-disk lastIndex is only ever raised, so a truncated tail comes back after a restart.
      for (let i = from; i <= newLast; i++) storage.put(logKey(i), log[i - 1]);
      if (newLast > diskLastIndex) {
        storage.put(LAST_INDEX, { index: newLast, term: lastTerm() });
        diskLastIndex = newLast;
      }
      return;
    }
    if (from - 1 < diskLastIndex) {
      storage.put(LAST_INDEX, { index: from - 1, term: termAt(from - 1) });
    }
    for (let i = from; i <= newLast; i++) storage.put(logKey(i), log[i - 1]);
    for (let i = newLast + 1; i <= diskLastIndex; i++) storage.delete(logKey(i));
    storage.put(LAST_INDEX, { index: newLast, term: lastTerm() });
    diskLastIndex = newLast;
  }

  // ---- timers ----
  function resetElectionTimer(): void {
    if (electionTimer !== null) host.clearTimer(electionTimer);
    const span = timing.electionTimeoutMaxMs - timing.electionTimeoutMinMs;
    const delay = timing.electionTimeoutMinMs + host.random() * span;
    if (tainted) return; // never campaigns
    electionTimer = host.setTimer(delay, () => {
      electionTimer = null;
      if (stopped) return;
      startElection();
    });
  }
  function stopHeartbeat(): void {
    if (heartbeatTimer !== null) host.clearTimer(heartbeatTimer);
    heartbeatTimer = null;
  }
  function scheduleHeartbeat(): void {
    stopHeartbeat();
    heartbeatTimer = host.setTimer(timing.heartbeatMs, () => {
      heartbeatTimer = null;
      if (stopped || role !== 'leader') return;
      broadcastAppendEntries();
      scheduleHeartbeat();
    });
  }

  // ---- role changes ----
  /** Adopts a newer term as follower. Caller persists. */
  function stepDown(term: number): void {
    if (term > currentTerm) {
      currentTerm = term;
      votedFor = null;
    }
    if (MUTANT === 'vote-reset-same-term') {
      // BUG: "becomeFollower" clears the vote even when the term did not change, so a second
      // candidate of the same term can get this node's vote (rule: vote for at most one
      // candidate per term).
      votedFor = null;
    }
    if (role === 'leader') stopHeartbeat();
    role = 'follower';
    resetElectionTimer();
  }

  function startElection(): void {
    if (role === 'leader') return;
    role = 'candidate';
    currentTerm += 1;
    votedFor = host.id;
    leaderId = null;
    persistMeta();
    votes = new Set([host.id]);
    resetElectionTimer();
    if (votes.size * 2 > members.length) {
      becomeLeader();
      return;
    }
    const msg: RequestVote = {
      type: 'RequestVote',
      term: currentTerm,
      candidateId: host.id,
      lastLogIndex: lastIndex(),
      lastLogTerm: lastTerm(),
    };
    for (const p of peers) host.send(p, msg);
  }

  function becomeLeader(): void {
    role = 'leader';
    leaderId = host.id;
    if (electionTimer !== null) host.clearTimer(electionTimer);
    electionTimer = null;
    for (const p of members) {
      nextIndex.set(p, lastIndex() + 1);
      matchIndex.set(p, 0);
    }
    broadcastAppendEntries();
    scheduleHeartbeat();
  }

  // ---- leader side ----
  function sendAppendEntries(peer: NodeId): void {
    const next = nextIndex.get(peer) ?? lastIndex() + 1;
    const prev = next - 1;
    const end = Math.min(lastIndex(), prev + maxEntriesPerMessage);
    const msg: AppendEntries = {
      type: 'AppendEntries',
      term: currentTerm,
      leaderId: host.id,
      prevLogIndex: prev,
      prevLogTerm: termAt(prev),
      entries: log.slice(prev, end),
      leaderCommit: commitIndex,
    };
    host.send(peer, msg);
  }
  function broadcastAppendEntries(): void {
    for (const p of peers) sendAppendEntries(p);
  }

  function advanceCommitIndex(): void {
    for (let n = lastIndex(); n > commitIndex; n--) {
      // Only entries of the current term are committed by counting replicas (§5.4.2).
      if (termAt(n) !== currentTerm && MUTANT !== 'commit-old-term') break;
      // (MUTANT commit-old-term — BUG: the Figure 8 rule is dropped; a previous-term entry
      // replicated on a majority is declared committed.)
      let count = 1; // self
      // (MUTANT quorum-self-twice — BUG: the loop runs over all members, whose matchIndex map
      // includes the leader itself, after count already started at 1 for self: the leader is
      // counted twice, so 2 of 5 look like a majority.)
      const counted = MUTANT === 'quorum-self-twice' ? members : peers;
      for (const p of counted) if ((matchIndex.get(p) ?? 0) >= n) count++;
      if (count * 2 > members.length) {
        commitIndex = n;
        applyCommitted();
        return;
      }
    }
  }

  function onAppendEntriesReply(from: NodeId, m: AppendEntriesReply): void {
    if (m.term > currentTerm) {
      stepDown(m.term);
      leaderId = null;
      persistMeta();
      return;
    }
    if (role !== 'leader') return;
    // BUG (ae-reply-old-term): a reply to an AppendEntries of an earlier term of this node is
    // taken as an answer about the current log (rule: replies are only for the current term).
    if (m.term !== currentTerm && MUTANT !== 'ae-reply-old-term') return;
    if (m.success) {
      let match = m.matchIndex;
      if (MUTANT === 'match-from-leader-log') {
        // BUG: matchIndex set to the leader's current last index instead of what the answered
        // request carried; a late reply credits entries the follower never received.
        match = lastIndex();
      }
      if (match > (matchIndex.get(from) ?? 0)) matchIndex.set(from, match);
      if (match + 1 > (nextIndex.get(from) ?? 1)) nextIndex.set(from, match + 1);
      advanceCommitIndex();
      if ((nextIndex.get(from) ?? 1) <= lastIndex()) sendAppendEntries(from);
    } else {
      // Decrement and retry, once per probe: a duplicate or late rejection of an earlier probe
      // is ignored. No floor at matchIndex: a follower whose disk was corrupted has lost entries.
      const next = nextIndex.get(from) ?? 1;
      if (m.prevLogIndex !== next - 1 || next <= 1) return;
      nextIndex.set(from, next - 1);
      sendAppendEntries(from);
    }
  }

  // ---- follower side ----
  function onAppendEntries(from: NodeId, m: AppendEntries): void {
    if (m.term < currentTerm && MUTANT !== 'ae-accept-old-term') {
      // (MUTANT ae-accept-old-term — BUG: rule 1 of the AppendEntries receiver, "reply false
      // if term < currentTerm", is missing: a deposed leader still rewrites this log.)
      const reply: AppendEntriesReply = { type: 'AppendEntriesReply', term: currentTerm, success: false, matchIndex: 0, prevLogIndex: m.prevLogIndex };
      host.send(from, reply);
      return;
    }
    let dirtyMeta = false;
    if (m.term > currentTerm || (m.term === currentTerm && role !== 'follower')) {
      if (m.term > currentTerm) dirtyMeta = true;
      if (m.term >= currentTerm) stepDown(m.term);
    }
    if (m.term >= currentTerm) leaderId = m.leaderId;
    if (MUTANT !== 'no-timer-reset-on-ae') {
      resetElectionTimer();
    }
    // (MUTANT no-timer-reset-on-ae — BUG: the election timer is not reset on AppendEntries from
    // the current leader, so followers keep starting elections under a healthy leader.)

    const prev = m.prevLogIndex;
    let consistent = prev <= lastIndex() && termAt(prev) === m.prevLogTerm;
    if (MUTANT === 'no-prevlog-term-check') {
      // BUG: only the length is checked, not the term of the entry at prevLogIndex (rule 2).
      consistent = prev <= lastIndex();
    }
    if (!consistent) {
      if (dirtyMeta) persistMeta();
      const reply: AppendEntriesReply = { type: 'AppendEntriesReply', term: currentTerm, success: false, matchIndex: 0, prevLogIndex: m.prevLogIndex };
      host.send(from, reply);
      return;
    }

    let firstChanged = Infinity;
    if (MUTANT === 'truncate-always') {
      // BUG: log = log[:prevLogIndex] + entries, unconditionally: a delayed or reordered
      // AppendEntries cuts off entries that already matched (rule 3 deletes only on conflict).
      if (lastIndex() > prev + m.entries.length || m.entries.length > 0) {
        log = log.slice(0, prev);
        for (const e of m.entries) log.push({ term: e.term, command: e.command });
        firstChanged = prev + 1;
      }
    } else {
      for (let i = 0; i < m.entries.length; i++) {
        const idx = prev + 1 + i;
        const e = m.entries[i]!;
        if (idx <= lastIndex()) {
          if (termAt(idx) === e.term) continue;
          if (MUTANT === 'no-truncate-suffix') {
            // BUG: the conflicting entry is overwritten in place, but the entries that follow it
            // are kept (rule 3: "delete the existing entry and all that follow it").
            const copy = log.slice();
            copy[idx - 1] = { term: e.term, command: e.command };
            log = copy;
            firstChanged = Math.min(firstChanged, idx);
            continue;
          }
          log = log.slice(0, idx - 1); // conflict: delete it and all that follow
        }
        log.push({ term: e.term, command: e.command });
        firstChanged = Math.min(firstChanged, idx);
      }
    }
    if (firstChanged !== Infinity) {
      if (dirtyMeta) putMeta();
      putLogFrom(firstChanged);
      if (MUTANT !== 'log-no-sync') storage.sync();
      // (MUTANT log-no-sync — BUG: entries are written but not synced before success is
      // answered; a crash loses entries the leader counted toward a majority.)
      else if (dirtyMeta) storage.sync();
      maybeEndTaint();
    } else if (dirtyMeta) {
      persistMeta();
    }

    const lastNew = prev + m.entries.length;
    if (m.leaderCommit > commitIndex) {
      let target = Math.min(m.leaderCommit, lastNew);
      if (MUTANT === 'follower-commit-own-last') {
        // BUG: min(leaderCommit, own last index) instead of the index of the last new entry:
        // an unverified stale tail beyond what this request matched is committed (rule 5).
        target = Math.min(m.leaderCommit, lastIndex());
      }
      if (target > commitIndex) {
        commitIndex = target;
        applyCommitted();
      }
    }
    const reply: AppendEntriesReply = { type: 'AppendEntriesReply', term: currentTerm, success: true, matchIndex: lastNew, prevLogIndex: prev };
    host.send(from, reply);
  }

  function onRequestVote(from: NodeId, m: RequestVote): void {
    let dirty = false;
    if (m.term > currentTerm || (MUTANT === 'vote-reset-same-term' && m.term === currentTerm && role !== 'leader')) {
      if (m.term > currentTerm) dirty = true;
      stepDown(m.term);
      leaderId = null;
      if (MUTANT === 'vote-grant-no-sync' && dirty) persistMeta(); // the new term is synced at once
    }
    let granted = false;
    const mayVote = !tainted || voteFloor !== null;
    if (mayVote && m.term === currentTerm && (votedFor === null || votedFor === m.candidateId)) {
      let upToDate = atLeast(m.lastLogTerm, m.lastLogIndex, lastTerm(), lastIndex());
      if (tainted && voteFloor !== null) {
        upToDate = upToDate && atLeast(m.lastLogTerm, m.lastLogIndex, voteFloor.term, voteFloor.index);
      }
      if (MUTANT === 'vote-no-log-check') {
        // BUG: the election restriction (§5.4.1) is missing: any candidate gets the vote.
        upToDate = true;
      }
      if (MUTANT === 'vote-length-only') {
        // BUG: "at least as up-to-date" judged by log length only, not last term first.
        upToDate = m.lastLogIndex >= lastIndex();
      }
      if (upToDate) {
        granted = true;
        votedFor = m.candidateId;
        dirty = true;
        resetElectionTimer();
      }
    }
    if (dirty) {
      if ((MUTANT === 'vote-no-sync' || MUTANT === 'vote-grant-no-sync') && granted) {
        // (MUTANT vote-grant-no-sync: as vote-no-sync, but the step to the new term was synced
        // first, so only the vote itself is lost in a crash.)
        // BUG: the vote is written but not synced before it is sent; a crash forgets it and the
        // node can vote again in the same term (rule: persist before responding).
        putMeta();
      } else {
        persistMeta();
      }
    }
    const reply: RequestVoteReply = { type: 'RequestVoteReply', term: currentTerm, voteGranted: granted };
    host.send(from, reply);
  }

  function onRequestVoteReply(from: NodeId, m: RequestVoteReply): void {
    if (m.term > currentTerm) {
      stepDown(m.term);
      leaderId = null;
      persistMeta();
      return;
    }
    if (role !== 'candidate' || !m.voteGranted) return;
    // BUG (vote-reply-old-term): a vote granted in an earlier election of this node is counted
    // in the current one (rule: only votes of the current term count).
    if (m.term !== currentTerm && MUTANT !== 'vote-reply-old-term') return;
    votes.add(from);
    if (votes.size * 2 > members.length) becomeLeader();
  }

  // ---- state machine ----
  function applyCommitted(): void {
    if (MUTANT === 'apply-last-only') {
      // BUG: "if commitIndex > lastApplied: apply log[commitIndex]" — when commitIndex moves by
      // more than one, the entries in between are never applied (rule: apply in order).
      if (commitIndex > lastApplied) {
        lastApplied = commitIndex;
        host.apply(lastApplied, log[lastApplied - 1]!.command);
      }
      return;
    }
    while (lastApplied < commitIndex) {
      lastApplied++;
      host.apply(lastApplied, log[lastApplied - 1]!.command);
    }
  }

  // ---- start ----
  resetElectionTimer();

  return {
    receive(from: NodeId, message: unknown): void {
      if (stopped) return;
      const m = message as Message;
      switch (m.type) {
        case 'RequestVote':
          onRequestVote(from, m);
          break;
        case 'RequestVoteReply':
          onRequestVoteReply(from, m);
          break;
        case 'AppendEntries':
          onAppendEntries(from, m);
          break;
        case 'AppendEntriesReply':
          onAppendEntriesReply(from, m);
          break;
      }
    },

    propose(command: Command): ProposeResult {
      if (stopped) return { accepted: false };
      const canAccept = MUTANT === 'propose-as-candidate' ? role !== 'follower' : role === 'leader';
      // (MUTANT propose-as-candidate — BUG: the role check is "not a follower", so a candidate
      // appends a client command under a term in which another node may lead.)
      if (!canAccept) {
        return leaderId !== null && leaderId !== host.id ? { accepted: false, leaderHint: leaderId } : { accepted: false };
      }
      const entry: Entry = { term: currentTerm, command };
      log.push(entry);
      putLogFrom(lastIndex());
      storage.sync();
      const index = lastIndex();
      if (role === 'leader') {
        matchIndex.set(host.id, index);
        if (peers.length === 0) advanceCommitIndex();
        for (const p of peers) {
          if ((nextIndex.get(p) ?? 1) === index) sendAppendEntries(p);
        }
      }
      return { accepted: true, index, term: currentTerm };
    },

    inspect(): NodeView {
      const entries = log;
      const last = entries.length;
      const view: LogView = {
        snapshotIndex: 0,
        snapshotTerm: 0,
        lastIndex: last,
        termAt: (i: number) => entries[i - 1]!.term,
        commandAt: (i: number) => entries[i - 1]!.command,
      };
      return { role, term: currentTerm, votedFor, commitIndex, members, log: view };
    },

    stop(): void {
      stopped = true;
      if (electionTimer !== null) host.clearTimer(electionTimer);
      if (heartbeatTimer !== null) host.clearTimer(heartbeatTimer);
      electionTimer = null;
      heartbeatTimer = null;
    },
  };
};

export default createRaft;
