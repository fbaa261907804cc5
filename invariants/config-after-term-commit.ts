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
 * it appended a single-server change (a joint change, two or more servers at once, is not this
 * rule's case). An entry of its term is committed exactly when the entry at its commitIndex is of
 * its term: terms never fall along a log, and a leader's log holds no term above its own.
 * One limit: joint consensus does not need the rule, and a view shows C_old,new as the union of
 * both, so an implementation that adds a single server through a joint configuration, before
 * committing an entry of its term, would be flagged although it is safe; run it without this
 * checker (--checkers with a list that leaves it out).
 */
export const configAfterTermCommit: CheckerDefinition = {
  name: 'config-after-term-commit',
  description: 'a leader starts a single-server membership change only after committing an entry of its own term',
  scope: 'step',
  needs: ['log', 'commitIndex', 'members'],
  create(cluster: ClusterInfo): Checker {
    const views = Observations.forRun(cluster);
    /** By slot: the members of the node's previous view in this incarnation, and the term it led then (if it did). */
    const previous: ({ readonly members: readonly NodeId[]; leaderOfTerm: number | undefined } | undefined)[] = [];
    const look = (node: NodeId, view: NodeView, time: number, slot: number): Violation | undefined => {
      const members = view.members;
      if (members === undefined) return undefined;
      const before = previous[slot];
      const leaderOfTerm = view.role === 'leader' ? view.term : undefined;
      if (before !== undefined && sameMembers(before.members, members)) {
        before.leaderOfTerm = leaderOfTerm;
        return undefined;
      }
      previous[slot] = { members: [...members], leaderOfTerm };
      // Judged: a change made by a node that already led this term at its previous view.
      if (before === undefined || leaderOfTerm === undefined || before.leaderOfTerm !== leaderOfTerm || !singleServerChange(before.members, members)) return undefined;
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
