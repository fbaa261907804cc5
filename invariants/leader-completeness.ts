import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import type { Checker, CheckerDefinition, ClusterInfo, Violation } from './types.ts';
import { IndexWindow, PRUNE_BATCH, Observations, type LogMirror, VIEW_COMMIT, VIEW_LOG, VIEW_STATE, showEntry, showTime, timeChunk } from './util.ts';

interface Committed {
  readonly term: number;
  readonly key: string;
  readonly node: NodeId;
  /** The reporting node's term: the entry was committed in this term or an earlier one. */
  readonly commitTerm: number;
  readonly time: number;
}

/** Committed entries by index, a window per field (no object per index for the collector to copy). */
class CommittedEntries {
  readonly term = new IndexWindow<number>();
  /** Undefined where nothing was committed (or the record was dropped). */
  readonly key = new IndexWindow<string>();
  private readonly node = new IndexWindow<NodeId>();
  private readonly commitTerm = new IndexWindow<number>();
  private readonly time = new IndexWindow<number>(timeChunk);

  set(index: number, term: number, key: string, node: NodeId, commitTerm: number, time: number): void {
    this.term.set(index, term);
    this.key.set(index, key);
    this.node.set(index, node);
    this.commitTerm.set(index, commitTerm);
    this.time.set(index, time);
  }

  /** The whole record (for messages). */
  at(index: number): Committed | undefined {
    const key = this.key.get(index);
    if (key === undefined) return undefined;
    return { term: this.term.get(index)!, key, node: this.node.get(index)!, commitTerm: this.commitTerm.get(index)!, time: this.time.get(index)! };
  }

  dropBelow(index: number): void {
    for (const window of [this.term, this.key, this.node, this.commitTerm, this.time]) window.dropBelow(index);
  }
}

/** A current leader: its term and the highest committed index it must hold. */
interface Leadership {
  readonly node: NodeId;
  readonly slot: number;
  readonly term: number;
  readonly since: number;
  required: number;
}

/**
 * Leader Completeness (Raft §5.4): an entry committed in term T is in the log of every leader of
 * every term > T.
 *
 * Committed, soundly: an entry at index <= the commitIndex a node reports, as that node's own log
 * holds it. A node only advances commitIndex on the word of a leader of its current term (or as
 * that leader), so the entry was committed in a term <= the reporter's current term: that term
 * is recorded as the commit term (an upper bound, which makes the check weaker, never wrong).
 * The first node to report an index defines the committed entry; a later report that disagrees
 * is itself a violation (two different committed entries at one index).
 *
 * Cost: recording is O(commit advance). A leader of term T is checked, at every step, for the
 * highest committed index whose commit term is < T, which is O(1); lower committed entries then
 * follow by Log Matching (checked by log-matching). Entries committed while a leader of a later
 * term is in office are checked against that leader as they are recorded. An entry covered by
 * the leader's snapshot counts as present.
 */
export const leaderCompleteness: CheckerDefinition = {
  name: 'leader-completeness',
  description: 'every committed entry is in the log of every leader of a later term (or under its snapshot)',
  scope: 'step',
  needs: ['log', 'commitIndex'],
  create(cluster: ClusterInfo): Checker {
    const logs = Observations.forRun(cluster);
    const me = logs.subscribe();
    /** By node slot (Observations.slotOf): how far its commitIndex was recorded, its leadership. */
    const nodes: ({ processed: number; leader: Leadership | undefined } | undefined)[] = [];
    /** Committed entries by index; those at or below the run's watermark (Observations.watermark) are dropped: every node's snapshot covers them. */
    const committed = new CommittedEntries();
    let prunedTo = 0;
    /** commit term → highest committed index recorded with that commit term (a sparse array: terms are integers). */
    const highestByTerm: number[] = [];
    /** Current leaders: their term and the highest committed index they must hold. */
    const leaders: Leadership[] = [];
    const resign = (self: { leader: Leadership | undefined }) => {
      if (!self.leader) return;
      leaders.splice(leaders.indexOf(self.leader), 1);
      self.leader = undefined;
    };

    const missing = (leader: NodeId, term: number, since: number, mirror: LogMirror, index: number): Violation | undefined => {
      if (index <= mirror.snapshotIndex) return undefined;
      const key = committed.key.get(index);
      if (key === undefined || mirror.holds(index, committed.term.get(index), key)) return undefined;
      const entry = committed.at(index)!;
      const has = index > mirror.last ? `its log ends at index ${mirror.last}` : `it has ${showEntry(mirror.termAt(index), mirror.keyAt(index))} there`;
      return {
        invariant: 'leader-completeness',
        message: `leader ${leader} of term ${term} (since ${showTime(since)}) lacks the entry committed at index ${index} (${showEntry(entry.term, entry.key)}, committed by term ${entry.commitTerm} as reported by ${entry.node} at ${showTime(entry.time)}): ${has}`,
      };
    };

    const look = (node: NodeId, view: NodeView, time: number, slot: number): Violation | undefined => {
      const log = view.log;
      if (!log) return undefined;
      let self = nodes[slot];
      if (!self) nodes[slot] = self = { processed: 0, leader: undefined };
      const mirror = logs.sync(me, slot, log);
      if (mirror.snapshotIndex >= prunedTo + PRUNE_BATCH) {
        const to = logs.watermark();
        if (to >= prunedTo + PRUNE_BATCH) committed.dropBelow((prunedTo = to) + 1);
      }
      const commit = view.commitIndex;
      if (commit !== undefined) {
        const upTo = Math.min(commit, mirror.last);
        const done = self.processed;
        for (let i = Math.max(done, mirror.snapshotIndex) + 1; i <= upTo; i++) {
          const term = mirror.term(i);
          const key = mirror.key(i);
          const knownKey = committed.key.get(i);
          if (knownKey !== undefined) {
            if (committed.term.get(i) !== term || knownKey !== key) {
              const known = committed.at(i)!;
              return {
                invariant: 'leader-completeness',
                message: `two different entries committed at index ${i}: ${node} (term ${view.term}) commits ${showEntry(term, key)} but ${known.node} committed ${showEntry(known.term, known.key)} at ${showTime(known.time)}`,
              };
            }
            continue;
          }
          committed.set(i, term, key, node, view.term, time);
          if ((highestByTerm[view.term] ?? 0) < i) highestByTerm[view.term] = i;
          for (let l = 0; l < leaders.length; l++) {
            const state = leaders[l]!;
            if (state.term <= view.term) continue;
            if (state.required < i) state.required = i;
            const violation = missing(state.node, state.term, state.since, logs.mirrorAt(state.slot)!, i);
            if (violation) return violation;
          }
        }
        if (upTo > done) self.processed = upTo;
      }
      if (view.role !== 'leader') {
        resign(self);
        return undefined;
      }
      let state = self.leader;
      if (!state || state.term !== view.term) {
        // Once per election: the highest index committed in an earlier term (terms are few). A
        // plain loop: a callback here would capture `view` and cost a context on every call of look.
        let required = 0;
        for (let commitTerm = 0; commitTerm < view.term && commitTerm < highestByTerm.length; commitTerm++) {
          const index = highestByTerm[commitTerm];
          if (index !== undefined && index > required) required = index;
        }
        const next = { node, slot, term: view.term, since: time, required };
        // A new term in office keeps the node's place among the leaders (the order violations are looked for in).
        if (state) leaders[leaders.indexOf(state)] = next;
        else leaders.push(next);
        self.leader = state = next;
      }
      return state.required > 0 ? missing(node, state.term, state.since, mirror, state.required) : undefined;
    };
    return {
      afterStep: logs.stepHook(look, VIEW_STATE | VIEW_COMMIT | VIEW_LOG),
      onRestart: (node, view, time) => look(node, view, time, logs.slotOf(node)),
      onCrash(node) {
        logs.forget(node);
        // `processed` survives: the entries it covers are recorded once and for all.
        const self = nodes[logs.slotOf(node)];
        if (self) resign(self);
      },
    };
  },
};
