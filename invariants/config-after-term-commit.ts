import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import type { Checker, CheckerDefinition, ClusterInfo, Violation } from './types.ts';
import { Observations, VIEW_MEMBERS, VIEW_STATE, sameMembers, showTime } from './util.ts';

/**
 * Config After Term Commit (Ongaro, raft-dev 2015; the errata of the thesis, §4.1): a leader
 * starts a single-server membership change only once it has committed an entry of its own term.
 * Before that, an older leader's uncommitted configuration may still live on other servers, and
 * two single-server changes made by two leaders from the same configuration need not share a
 * majority (from {1,2,3,4}, one leader's {2,3,4} and another's {1,2,4} have the disjoint
 * majorities {3,4} and {1,2}), so two leaders can commit conflicting histories. The harm shows
 * only after more leader changes on the right servers; the change itself shows here.
 *
 * Judged when a leader's member list changes by exactly one server within its term — the moment
 * it appended a single-server change. Joint consensus does not need the rule (every decision of
 * C_old,new needs a majority of C_old too), so changes into or out of a joint configuration are
 * not judged, nor changes of two or more servers at once. An entry of its term is committed
 * exactly when the entry at its commitIndex is of its term: terms never fall along a log, and a
 * leader's log holds no term above its own.
 * A view shows C_old,new as the union of its halves: an implementation that adds one server by
 * joint consensus tells the checker so through NodeView.joint; one that does not set it would be
 * flagged for a joint addition made before committing an entry of its term, although it is safe.
 */
export const configAfterTermCommit: CheckerDefinition = {
  name: 'config-after-term-commit',
  description: 'a leader starts a single-server membership change only after committing an entry of its own term',
  scope: 'step',
  needs: ['log', 'commitIndex', 'members'],
  create(cluster: ClusterInfo): Checker {
    const views = Observations.forRun(cluster);
    /** By slot: the configuration of the node's previous view in this incarnation, and the term it led then (if it did). */
    const previous: ({ readonly members: readonly NodeId[]; readonly joint: boolean; leaderOfTerm: number | undefined } | undefined)[] = [];
    const look = (node: NodeId, view: NodeView, time: number, slot: number): Violation | undefined => {
      const members = view.members;
      if (members === undefined) return undefined;
      const before = previous[slot];
      const leaderOfTerm = view.role === 'leader' ? view.term : undefined;
      const joint = view.joint === true;
      if (before !== undefined && sameMembers(before.members, members) && before.joint === joint) {
        before.leaderOfTerm = leaderOfTerm;
        return undefined;
      }
      previous[slot] = { members: [...members], joint, leaderOfTerm };
      // Judged: a single-server change, not into or out of a joint configuration, made by a node that already led this term at its previous view.
      if (before === undefined || leaderOfTerm === undefined || before.leaderOfTerm !== leaderOfTerm) return undefined;
      if (joint || before.joint || !singleServerChange(before.members, members)) return undefined;
      const log = view.log;
      const commit = view.commitIndex;
      if (log === undefined || commit === undefined) return undefined;
      const committedTerm = commit <= log.snapshotIndex ? log.snapshotTerm : commit <= log.lastIndex ? log.termAt(commit) : undefined;
      if (committedTerm === undefined || committedTerm === view.term) return undefined;
      return {
        invariant: 'config-after-term-commit',
        message:
          `leader ${node} (term ${view.term}) changed its configuration from ${before.members.join(',')} to ${members.join(',')} at ${showTime(time)} ` +
          `before committing an entry of its term (its commitIndex ${commit} holds term ${committedTerm}): an older leader's uncommitted change may live on, ` +
          `and single-server changes of two leaders need not share a majority (Ongaro 2015)`,
      };
    };
    return {
      // Role and term are followed, and member lists judged when they change.
      afterStep: views.stepHook(look, VIEW_STATE | VIEW_MEMBERS),
      onCrash(node) {
        views.forget(node);
        previous[views.slotOf(node)] = undefined;
      },
      onRestart(node, view, time) {
        const slot = views.slotOf(node);
        previous[slot] = undefined;
        return look(node, view, time, slot);
      },
    };
  },
};

/** Whether two member lists differ by exactly one server added or removed. */
function singleServerChange(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  const [small, large] = a.length < b.length ? [a, b] : [b, a];
  return large.length === small.length + 1 && small.every((m) => large.includes(m));
}
