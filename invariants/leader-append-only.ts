import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import type { Checker, CheckerDefinition, ClusterInfo, Violation } from './types.ts';
import { Observations, VIEW_LOG, VIEW_STATE, showEntry, showTime } from './util.ts';

/**
 * Leader Append-Only (Raft §5.3): while a node stays leader of one term, its log only grows at
 * the end. Between two consecutive views of the same incarnation in which the node is leader of
 * the same term, no entry above the snapshot may be rewritten or removed (compaction into a
 * snapshot is not a removal). Every node is mirrored all the time, so a new leader's mirror is
 * already current and the check costs only the changed suffix.
 */
export const leaderAppendOnly: CheckerDefinition = {
  name: 'leader-append-only',
  description: 'a leader never overwrites or deletes entries of its own log during its term',
  scope: 'step',
  needs: ['log'],
  create(cluster: ClusterInfo): Checker {
    const logs = Observations.forRun(cluster);
    const me = logs.subscribe();
    /** By node slot (Observations.slotOf): the term it was leader of at its previous view in this incarnation. */
    const leading: ({ term: number; since: number } | undefined)[] = [];
    const look = (node: NodeId, view: NodeView, time: number, slot: number): Violation | undefined => {
      const log = view.log;
      if (!log) return undefined;
      const was = leading[slot];
      const stillLeader = was !== undefined && view.role === 'leader' && view.term === was.term;
      const mirror = logs.sync(me, slot, log);
      const change = mirror.change;
      if (view.role === 'leader') {
        if (!stillLeader) leading[slot] = { term: view.term, since: time };
      } else {
        leading[slot] = undefined;
      }
      if (!stillLeader || change.replaced.length === 0) return undefined;
      const first = change.replaced[0]!;
      const now = first.index <= change.newLast ? `now ${showEntry(mirror.termAt(first.index), mirror.keyAt(first.index))}` : 'now gone';
      const what = change.newLast < change.oldLast && change.from > change.newLast
        ? `deleted entries ${change.newLast + 1}..${change.oldLast} (its last index went from ${change.oldLast} to ${change.newLast})`
        : `overwrote its entry at index ${first.index} (was ${showEntry(first.term, first.key)}, ${now})`;
      return {
        invariant: 'leader-append-only',
        message: `leader ${node} of term ${was.term} (leader since ${showTime(was.since)}) ${what}`,
      };
    };
    return {
      // Its leadership follows role and term; a rewrite shows in the log. The commit index plays no part.
      afterStep: logs.stepHook(look, VIEW_STATE | VIEW_LOG),
      onCrash(node) {
        logs.forget(node);
        leading[logs.slotOf(node)] = undefined;
      },
      onRestart: (node, view, time) => look(node, view, time, logs.slotOf(node)),
    };
  },
};
