import { isCorrupted, type DurableStorage, type NodeId } from '../../adapter/contract.ts';
import type { Entry } from '../log.ts';
import type { Config } from '../membership.ts';

/**
 * On-disk layout (one key per log entry, so an append never rewrites the log):
 *
 *   raft/hs/{a,b,c}        {term, votedFor}: hard state, written three times (a, b, c) so
 *                          that corrupted copies are survivable
 *   raft/log/<index:12>    {term, command}: the Entry itself (the disk copies it)
 *   raft/snap              {index, term, config, data}: the latest snapshot
 *   raft/snapmeta          {index, term}: written after raft/snap; tells how far a corrupted
 *                          snapshot reached
 *   raft/recover           {term, index}: this node lost log entries to corruption (see below)
 *   raft/novote            true: this node lost its hard state and may never vote again
 *   raft/suspect           {index, tail}: the readable entries after a lost one (see Suspect)
 *
 * Torn writes keep a prefix of the unsynced writes in write order, so every change is ordered
 * so that each prefix is a consistent state:
 *   - appends: entries in increasing index order; recovery trusts only the contiguous run
 *     after the snapshot and deletes anything beyond a gap;
 *   - truncation: deletes in DEcreasing index order, so any prefix leaves a shorter prefix
 *     of the old log (never an old entry above a new one);
 *   - snapshot: divergent entries deleted first (top down), then the snapshot, then its meta,
 *     then the covered entries.
 * We sync before any reply or vote that depends on what we wrote, so a torn write only ever
 * loses state nobody has relied on.
 */
/** Hard-state copies, written in this order: an earlier one is never older than a later one. */
const HS_KEYS = ['raft/hs/a', 'raft/hs/b', 'raft/hs/c'] as const;
const SNAP = 'raft/snap';
const SNAP_META = 'raft/snapmeta';
const RECOVER = 'raft/recover';
const NOVOTE = 'raft/novote';
const SUSPECT = 'raft/suspect';
const LOG_PREFIX = 'raft/log/';

const ZEROS = '000000000000';

/**
 * Recently built log keys, by index modulo the ring's size: every node writes and deletes the same
 * keys at about the same indexes, so one build serves them all, and the ring keeps the cache's
 * memory fixed however long the log grows.
 */
const KEY_RING_SIZE = 4096;
const ringKeys: string[] = new Array<string>(KEY_RING_SIZE).fill('');
const ringIndexes = new Float64Array(KEY_RING_SIZE).fill(Number.NaN); // NaN equals no index

export function logKey(index: number): string {
  const slot = index & (KEY_RING_SIZE - 1);
  if (ringIndexes[slot] === index) return ringKeys[slot]!;
  const key = buildLogKey(index);
  if (index >= 0 && Number.isInteger(index)) {
    ringIndexes[slot] = index;
    ringKeys[slot] = key;
  }
  return key;
}

function buildLogKey(index: number): string {
  const digits = String(index);
  return LOG_PREFIX + ZEROS.slice(digits.length) + digits;
}

export interface HardState {
  readonly term: number;
  readonly votedFor: NodeId | null;
}

export interface StoredSnapshot {
  readonly index: number;
  readonly term: number;
  readonly config: Config;
  readonly data: unknown;
}

/**
 * Lost log entries: the log we once held ended at most at (term, index), compared as Raft
 * compares logs. Until a leader of term >= `term` has replicated through `index` we do not
 * campaign, and grant votes only to candidates at least as up to date as that lost log.
 */
export interface RecoveryFence {
  readonly term: number;
  readonly index: number;
}

/**
 * The entries that followed an unreadable one, no longer on disk. By Log Matching, a peer whose
 * entry at index + 1 has tail[0]'s term holds exactly our lost entry at `index`; with it, the
 * log we had is whole again (and the fence can go).
 */
export interface Suspect {
  readonly index: number;
  readonly tail: readonly Entry[];
}

export interface Recovered {
  readonly hardState: HardState;
  readonly snapshot: StoredSnapshot | undefined;
  /** Entries from snapshot.index + 1 (or 1), contiguous. */
  readonly entries: Entry[];
  readonly fence: RecoveryFence | undefined;
  readonly suspect: Suspect | undefined;
  /** Hard state unrecoverable: never vote again (we cannot know which terms we voted in). */
  readonly disqualified: boolean;
}

/** a < b in Raft's log order (last term, then last index). */
export function fenceBelow(a: RecoveryFence, b: RecoveryFence): boolean {
  return a.term < b.term || (a.term === b.term && a.index < b.index);
}

function isSuspect(value: unknown): value is Suspect {
  return typeof value === 'object' && value !== null && !isCorrupted(value) && typeof (value as Suspect).index === 'number' && Array.isArray((value as Suspect).tail);
}

function validHardState(value: unknown): value is HardState {
  return typeof value === 'object' && value !== null && !isCorrupted(value) && typeof (value as HardState).term === 'number';
}

function validSnapshot(value: unknown): value is StoredSnapshot {
  return typeof value === 'object' && value !== null && !isCorrupted(value) && typeof (value as StoredSnapshot).index === 'number';
}

function validEntry(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !isCorrupted(value) && typeof (value as { term?: unknown }).term === 'number';
}

export class Persistence {
  constructor(private readonly storage: DurableStorage) {}

  saveHardState(state: HardState): void {
    // Frozen records are stored without a copy (see SimDisk); the layout is unchanged.
    const value: HardState = Object.isFrozen(state) ? state : Object.freeze({ term: state.term, votedFor: state.votedFor });
    for (const key of HS_KEYS) this.storage.put(key, value);
  }

  putEntry(index: number, entry: Entry): void {
    this.storage.put(logKey(index), entry);
  }

  /** Deletes entries [from, to], highest first (see the torn-write rule above). */
  deleteEntriesDown(from: number, to: number): void {
    for (let i = to; i >= from; i--) this.storage.delete(logKey(i));
  }

  /** Deletes entries [from, to] lowest first: only for entries a snapshot already covers. */
  deleteEntriesUp(from: number, to: number): void {
    for (let i = from; i <= to; i++) this.storage.delete(logKey(i));
  }

  saveSnapshot(snapshot: StoredSnapshot): void {
    this.storage.put(SNAP, Object.isFrozen(snapshot) ? snapshot : Object.freeze({ index: snapshot.index, term: snapshot.term, config: snapshot.config, data: snapshot.data }));
    this.storage.put(SNAP_META, Object.freeze({ index: snapshot.index, term: snapshot.term }));
  }

  dropSuspect(): void {
    this.storage.delete(SUSPECT);
  }

  saveFence(fence: RecoveryFence | undefined): void {
    if (fence) this.storage.put(RECOVER, fence);
    else this.storage.delete(RECOVER);
  }

  sync(): void {
    this.storage.sync();
  }

  /**
   * Reads everything back after a restart, repairs what a torn write or a corruption left,
   * and syncs the repair. Never throws on bad data.
   *
   * Corruption rule (in the spirit of Alagappan et al., FAST'18, "protocol-aware recovery"):
   *  - some hard-state copies corrupted: the first readable one is at least the last synced
   *    (acted-upon) value; use it, and rewrite all copies;
   *  - all corrupted: we cannot know in which terms we voted, so this node never votes (nor
   *    campaigns) again (raft/novote, itself treated as set when corrupted);
   *  - a log entry or the snapshot corrupted: the log is cut at the hole. We may have
   *    acknowledged the lost entries, and a leader may count that acknowledgement, so we must
   *    not vote as if we never held them: a fence {term, index} = the (last term, last index)
   *    of the log we held (term bounded by currentTerm when the last entry is unreadable) is
   *    persisted. Until a leader of term >= fence.term has replicated to us through
   *    fence.index we do not campaign, and grant a vote (PreVote included) only to a candidate
   *    whose log is at least as up to date as the fence: exactly the vote our intact log would
   *    have allowed, so no committed entry we helped commit can be lost by our vote.
   *  - the fence itself corrupted: as for lost hard state, never vote again.
   */
  load(): Recovered {
    const storage = this.storage;
    let disqualified = storage.get(NOVOTE) !== undefined;
    // Hard state: the first readable copy is the newest (copies are written in order, and
    // every readable one is at least the last synced value). Damaged copies are rewritten at
    // once, so corruptions must hit all three between two restarts to lose it.
    const copies = HS_KEYS.map((key) => storage.get(key));
    const firstValid = copies.find(validHardState);
    let hardState: HardState = { term: 0, votedFor: null };
    let hardStateDamaged = false;
    if (firstValid !== undefined) {
      hardState = { term: firstValid.term, votedFor: firstValid.votedFor ?? null };
      hardStateDamaged = copies.some((c) => isCorrupted(c));
    } else if (copies.some((c) => isCorrupted(c))) {
      disqualified = true;
    }

    let fence: RecoveryFence | undefined;
    const storedFence = storage.get(RECOVER);
    if (isCorrupted(storedFence)) disqualified = true;
    else if (storedFence !== undefined) fence = storedFence as RecoveryFence;

    // Snapshot.
    const snapValue = storage.get(SNAP);
    const metaValue = storage.get(SNAP_META);
    let snapshot: StoredSnapshot | undefined;
    let lostUpTo = -1; // > -1 when something was lost to corruption
    let snapshotLost = false;
    if (validSnapshot(snapValue)) snapshot = snapValue;
    else if (isCorrupted(snapValue)) {
      snapshotLost = true;
      if (validSnapshot(metaValue)) lostUpTo = metaValue.index;
      else disqualified = true;
    }

    // Log: the contiguous run after the snapshot; a corrupted entry ends it.
    const keys = storage.keys(LOG_PREFIX);
    const base = snapshot?.index ?? 0;
    const entries: Entry[] = [];
    let maxKeyIndex = 0;
    const stray: number[] = [];
    let next = base + 1;
    // A single unreadable entry followed by readable ones: kept in memory (not on disk) so the
    // hole can be refilled from a peer (see Suspect).
    let hole: number | undefined;
    let tailNext = -1;
    const tail: Entry[] = [];
    let broken = snapshotLost;
    for (const key of keys) {
      const index = Number(key.slice(LOG_PREFIX.length));
      if (!Number.isInteger(index)) continue;
      if (index > maxKeyIndex) maxKeyIndex = index;
      if (index <= base || broken || index !== next) {
        stray.push(index);
        if (hole !== undefined && index === tailNext) {
          const value = storage.get(key);
          if (validEntry(value)) {
            tail.push({ term: value.term, command: value.command });
            tailNext++;
          } else tailNext = -1;
        } else if (index > base) {
          broken = true;
          tailNext = -1;
        }
        continue;
      }
      const value = storage.get(key);
      if (!validEntry(value)) {
        broken = true;
        lostUpTo = Math.max(lostUpTo, index);
        stray.push(index);
        if (!snapshotLost) {
          hole = index;
          tailNext = index + 1;
        }
        continue;
      }
      entries.push({ term: value.term, command: value.command });
      next++;
    }
    let repaired = false;
    // Suspect entries move to their own key before their log keys go, so a crash before the
    // hole is refilled does not lose them.
    let suspect: Suspect | undefined;
    if (hole !== undefined && tail.length > 0) {
      suspect = { index: hole, tail };
      storage.put(SUSPECT, suspect);
      repaired = true;
    } else {
      const stored = storage.get(SUSPECT);
      if (isSuspect(stored) && stored.index === base + entries.length + 1) suspect = stored;
      else if (stored !== undefined) {
        storage.delete(SUSPECT);
        repaired = true;
      }
    }
    if (lostUpTo >= 0) {
      // What we held ended at the highest key; its term, when still readable, is the last term
      // we held (terms only grow along a log); otherwise currentTerm bounds it.
      lostUpTo = Math.max(lostUpTo, maxKeyIndex);
      const last = storage.get(logKey(lostUpTo));
      const lostFence: RecoveryFence = { term: validEntry(last) ? last.term : hardState.term, index: lostUpTo };
      fence = fence === undefined || fenceBelow(fence, lostFence) ? lostFence : fence;
      // The fence goes to disk before the deletes, so no prefix of this repair loses it.
      this.saveFence(fence);
      repaired = true;
    }
    if (snapshotLost) {
      storage.delete(SNAP);
      storage.delete(SNAP_META);
      snapshot = undefined;
      entries.length = 0;
      repaired = true;
    }
    if (hardStateDamaged) {
      this.saveHardState(hardState);
      repaired = true;
    }
    if (disqualified && storage.get(NOVOTE) !== true) {
      storage.put(NOVOTE, true);
      repaired = true;
    }
    for (let i = stray.length - 1; i >= 0; i--) {
      storage.delete(logKey(stray[i]!));
      repaired = true;
    }
    if (repaired) storage.sync();
    return { hardState, snapshot, entries, fence, disqualified, suspect };
  }
}
