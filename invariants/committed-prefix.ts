import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import type { Checker, CheckerDefinition, ClusterInfo, Violation } from './types.ts';
import { type LogMirror, Observations, VIEW_COMMIT, VIEW_LOG, showEntry, showTime } from './util.ts';

/**
 * Committed Prefix, two rules about what a node knows is committed (§5.3):
 *  - it holds every entry up to its commitIndex (in its log or its snapshot): Figure 2 sets
 *    commitIndex = min(leaderCommit, index of last new entry), and a node that takes the leader's
 *    commit for entries it lacks applies whatever it is sent next at those indexes;
 *  - while it lives, no entry at or below its commitIndex is rewritten or removed (compaction
 *    into a snapshot is not a removal). Raft truncates only uncommitted entries that conflict
 *    with a leader's, so a follower that drops one obeyed a request it should have refused: a
 *    stale AppendEntries (an older term's, or a reordered one that truncates what a newer one
 *    appended) or a snapshot older than its commit. The harm shows elsewhere only later, if at
 *    all (the entry's other holders must fail before a leader without it wins); here it shows
 *    at the step. Within one incarnation only: commitIndex is volatile state (Figure 2), and what
 *    a restart brings back from disk is judged by monotonicity and durability.
 * A node whose disk a storage fault hit is not judged until it restarts (an implementation may
 * read its log from disk and meet the damage while it runs).
 */
export const committedPrefix: CheckerDefinition = {
  name: 'committed-prefix',
  description: 'a node holds every entry up to its commitIndex, and never rewrites or removes one while it lives',
  scope: 'step',
  needs: ['log', 'commitIndex'],
  create(cluster: ClusterInfo): Checker {
    const logs = Observations.forRun(cluster);
    const me = logs.subscribe();
    /** By node slot (Observations.slotOf): its commitIndex at its previous view in this incarnation, and since when. */
    const committed: ({ index: number; since: number } | undefined)[] = [];
    /** Slots of nodes hit by a storage fault since their last restart. */
    const damaged = new Set<number>();
    const look = (node: NodeId, view: NodeView, time: number, slot: number): Violation | undefined => {
      const log = view.log;
      if (!log || view.commitIndex === undefined) return undefined;
      const mirror = logs.sync(me, slot, log);
      const before = committed[slot];
      if (before === undefined || view.commitIndex > before.index) committed[slot] = { index: view.commitIndex, since: time };
      if (damaged.has(slot)) return undefined;
      return (before && rewroteCommitted(node, view, mirror, before)) || beyondLog(node, view, mirror.last);
    };
    /** An entry at or below the commit index of the node's previous view, rewritten or removed in this step. */
    const rewroteCommitted = (node: NodeId, view: NodeView, mirror: LogMirror, before: { index: number; since: number }): Violation | undefined => {
      const change = mirror.change;
      const first = change.replaced[0];
      if (first === undefined || first.index > before.index) return undefined;
      const kept = first.index <= change.newLast;
      const now = kept ? `now ${showEntry(mirror.termAt(first.index), mirror.keyAt(first.index))}` : `now gone (its log ends at ${change.newLast})`;
      return {
        invariant: 'committed-prefix',
        message:
          `${node} ${kept ? 'overwrote' : 'removed'} its entry at index ${first.index} (was ${showEntry(first.term, first.key)}, ${now}), ` +
          `which it knew was committed: its commitIndex had been ${before.index} since ${showTime(before.since)} (term ${view.term}, role ${view.role})`,
      };
    };
    /** A commit index past the last entry: the node took a leader's commit for entries it does not hold. */
    const beyondLog = (node: NodeId, view: NodeView, lastIndex: number): Violation | undefined => {
      if (view.commitIndex! <= lastIndex) return undefined;
      return {
        invariant: 'committed-prefix',
        message: `${node}'s commitIndex is ${view.commitIndex} but its log ends at index ${lastIndex} (term ${view.term}, role ${view.role}): a node commits only entries it holds (commitIndex = min(leaderCommit, index of last new entry)); if it does hold them, its adapter's LogView lags behind it`,
      };
    };
    return {
      afterStep: logs.stepHook(look, VIEW_LOG | VIEW_COMMIT),
      onCrash(node) {
        logs.forget(node);
        committed[logs.slotOf(node)] = undefined;
      },
      onStorageFault(node) {
        damaged.add(logs.slotOf(node));
      },
      onRestart(node, view, time) {
        const slot = logs.slotOf(node);
        damaged.delete(slot);
        committed[slot] = undefined;
        return look(node, view, time, slot);
      },
    };
  },
};
