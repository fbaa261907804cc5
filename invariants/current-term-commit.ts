import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import type { Checker, CheckerDefinition, ClusterInfo, Violation } from './types.ts';
import { Observations, VIEW_COMMIT, VIEW_LOG, VIEW_MEMBERS, VIEW_STATE, sameMembers, showTime } from './util.ts';

/**
 * Current-Term Commit (§5.4.2, Figure 8): a leader never commits an entry of an older term by
 * counting its replicas. When a leader's commitIndex rises to c, some entry of the leader's own
 * term at or above c must be held by a quorum; the entries below it are then committed too (log
 * matching). An older-term entry held by a majority can still be overwritten by a later leader,
 * so a commit that rests on it alone is unsafe at the moment it is made — the harm (another
 * leader overwriting it, Figure 8 (d)) comes later and only if the right servers fail, and
 * without an election no-op it comes only after several more leader changes.
 *
 * Judged from the cluster's logs as the checker last saw them, never from the leader's own
 * bookkeeping: a server holds entry j of term T when its log (or snapshot) has it. That can only
 * over-count the quorum, never under-count it, so a correct leader is never flagged:
 *  - an entry of term T acknowledged by a majority in term T is never removed from them (no
 *    leader of a later term can lack it), and a down server counts with its log as last seen;
 *  - a server whose disk a storage fault hit counts as a holder until it restarts (the framework
 *    destroyed data there, not the implementation), and after it with the log it had then: its
 *    acknowledgements may still be on their way while it has cut its log at the damage;
 *  - a view lists the union of both halves of a joint configuration, and a joint quorum can be
 *    smaller than a majority of the union (C_old = {1..5}, C_new = {3..7}: {3,4,5}): once any
 *    node has shown a second member list in the run, the quorum asked is the smallest of any
 *    joint configuration with that union — unless the leader's view says its configuration is
 *    not joint (`joint: false`): then a majority of it, which catches a leader that counts
 *    itself in a configuration it has just left.
 * Only advances while the node is leader are judged: a leader learns its commit from no one,
 * and a commit it brought from a follower's past (or from disk at a restart) is not an advance.
 */
export const currentTermCommit: CheckerDefinition = {
  name: 'current-term-commit',
  description: "a leader's commitIndex rises only to an entry covered by an entry of its own term that a quorum holds (§5.4.2)",
  scope: 'step',
  needs: ['log', 'commitIndex', 'members'],
  create(cluster: ClusterInfo): Checker {
    const logs = Observations.forRun(cluster);
    const me = logs.subscribe();
    /** By slot: commitIndex at the node's previous view in this incarnation. */
    const lastCommit: (number | undefined)[] = [];
    /** By slot: where the entries of the node's current term as leader begin in its log. */
    const firstOwn: ({ term: number; index: number } | undefined)[] = [];
    const damaged = new Set<number>();
    /**
     * By slot: the last entry (index, term) of a damaged node's log before it restarted. Its
     * acknowledgements may still be in flight while the restarted node has cut its log at the
     * damage, so it counts as holding what its log held, for leaders of that entry's term or older.
     */
    const beforeDamage: ({ index: number; term: number } | undefined)[] = [];
    const membership = new MembershipWatch();

    /** Read at the fault and at the crash, before a restart (another checker's, first) syncs the shared mirror to the cut log. */
    const rememberLog = (slot: number): void => {
      const log = logs.mirrorAt(slot);
      if (log) beforeDamage[slot] = { index: log.last, term: log.termAt(log.last) ?? 0 };
    };
    const look = (node: NodeId, view: NodeView, time: number, slot: number): Violation | undefined => {
      const log = view.log;
      if (!log || view.commitIndex === undefined) return undefined;
      // Every node's mirror is kept current, so that a leader's quorum is counted on fresh logs.
      const mirror = logs.sync(me, slot, log);
      membership.note(view.members);
      const before = lastCommit[slot];
      lastCommit[slot] = view.commitIndex;
      if (view.role !== 'leader' || before === undefined || view.commitIndex <= before || view.members === undefined) return undefined;
      const commit = view.commitIndex;
      if (commit <= mirror.snapshotIndex || commit > mirror.last) return undefined; // committed-prefix judges a commit beyond the log
      // The lowest entry of the leader's term at or above the commit is held by every server
      // that holds a higher one (log matching), so it is the one to count. A leader's entries of
      // its term start at one index for the whole term (it only appends), found once per term.
      let first = firstOwn[slot];
      if (first === undefined || first.term !== view.term || first.index > mirror.last || mirror.term(first.index) !== view.term) {
        let index = commit;
        while (index <= mirror.last && mirror.term(index) !== view.term) index++;
        first = index <= mirror.last ? { term: view.term, index } : undefined;
        firstOwn[slot] = first;
      }
      const own = first === undefined ? mirror.last + 1 : Math.max(commit, first.index);
      const members = view.members;
      const needed = quorumAsked(members.length, membership.changed, view.joint);
      const holders: NodeId[] = [];
      if (own <= mirror.last) {
        for (const member of members) {
          const memberSlot = logs.slotOf(member);
          if (damaged.has(memberSlot)) {
            holders.push(member);
            continue;
          }
          const held = memberSlot === slot ? mirror : logs.mirrorAt(memberSlot);
          const atDamage = beforeDamage[memberSlot];
          if ((held && (own <= held.snapshotIndex || held.termAt(own) === view.term)) || (atDamage && atDamage.term >= view.term && atDamage.index >= own)) {
            holders.push(member);
          }
        }
        if (holders.length >= needed) return undefined;
      }
      const raised = `leader ${node} (term ${view.term}) raised its commitIndex from ${before} to ${commit} at ${showTime(time)}`;
      const message =
        own > mirror.last
          ? `${raised}, but its log holds no entry of term ${view.term} at or above index ${commit} (it ends at ${mirror.last}, term ${mirror.term(mirror.last)}): ` +
            `it committed an older term's entry by counting replicas, and a later leader may still overwrite it (§5.4.2, Figure 8)`
          : `${raised}, but the lowest entry of term ${view.term} at or above it, index ${own}, is held by ${holders.length} of ${members.length} members ` +
            `(${holders.join(', ') || 'none'}; a quorum is ${needed})` +
            (own > commit ? `: the older-term entries below it are not committed by counting them (§5.4.2, Figure 8)` : `: no quorum holds what it committed`);
      return { invariant: 'current-term-commit', message };
    };

    return {
      afterStep: logs.stepHook(look, VIEW_STATE | VIEW_COMMIT | VIEW_LOG | VIEW_MEMBERS),
      onCrash(node) {
        const slot = logs.slotOf(node);
        if (damaged.has(slot)) rememberLog(slot);
        logs.forget(node);
        lastCommit[slot] = undefined;
      },
      onStorageFault(node) {
        const slot = logs.slotOf(node);
        damaged.add(slot);
        rememberLog(slot);
      },
      onRestart(node, view, time) {
        const slot = logs.slotOf(node);
        damaged.delete(slot);
        lastCommit[slot] = undefined;
        return look(node, view, time, slot);
      },
    };
  },
};

/**
 * The quorum a checker asks of `size` voters: a majority while the run has shown one member list
 * only, or when the view says its configuration is not joint (`joint: false`); once membership
 * has changed, a view that does not say may list both halves of a joint configuration, and the
 * smallest quorum of any joint configuration of that size is all that is certain.
 */
export function quorumAsked(size: number, membershipChanged: boolean, joint?: boolean): number {
  return membershipChanged && joint !== false ? smallestJointQuorum(size) : Math.floor(size / 2) + 1;
}

/** Whether a run has shown more than one member list: each list a view shows is compared with the first one seen. */
export class MembershipWatch {
  private first: readonly NodeId[] | undefined;
  changed = false;

  note(members: readonly NodeId[] | undefined): void {
    if (!members || this.changed) return;
    if (this.first === undefined) this.first = [...members];
    else if (!sameMembers(this.first, members)) this.changed = true;
  }
}

/**
 * The fewest servers that can be a quorum of some configuration whose voters, both halves of a
 * joint one together, number `union`: a majority of C_old and one of C_new, the servers in both
 * counting for both (a plain configuration is the joint one with C_old = C_new).
 */
export function smallestJointQuorum(union: number): number {
  let best = Math.floor(union / 2) + 1;
  for (let oldSize = 1; oldSize <= union; oldSize++) {
    for (let newSize = union - oldSize; newSize <= union; newSize++) {
      const both = oldSize + newSize - union;
      if (newSize < 1 || both < 0 || both > Math.min(oldSize, newSize)) continue;
      const oldQuorum = Math.floor(oldSize / 2) + 1;
      const newQuorum = Math.floor(newSize / 2) + 1;
      best = Math.min(best, oldQuorum + newQuorum - Math.min(both, oldQuorum, newQuorum));
    }
  }
  return best;
}
