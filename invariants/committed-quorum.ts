import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import { quorumAsked } from './current-term-commit.ts';
import type { Checker, CheckerDefinition, ClusterInfo, Violation } from './types.ts';
import { Observations, VIEW_COMMIT, VIEW_LOG, VIEW_MEMBERS, sameMembers, showEntry, showTime } from './util.ts';

/**
 * Committed Quorum: a committed entry stays on a quorum. It was committed because a quorum held
 * it durably — a server syncs entries before it acknowledges them (Figure 2) — and a correct
 * server never removes a committed entry, so a crash cannot take it below a quorum. A server that
 * restarts without entries it held before its crash lost what it had not synced; if one of them
 * was committed and too few servers now hold it, the commit was counted on an acknowledgement
 * that was not durable (tikv #994: acknowledged before the sync). The harm shows elsewhere only
 * if a leader without the entry is elected later; here it shows at the restart.
 *
 * Judged only at restarts (no cost per step), from the logs as the checkers last saw them:
 *  - an entry is known committed when some server that held it showed a commitIndex at or above
 *    its index (its log then holds the committed entry: committed-prefix);
 *  - holders are every server whose log or snapshot has the entry, a down server counting with
 *    its log as last seen, a server a storage fault hit counting as a holder: over-counting only
 *    ever spares a violation;
 *  - the quorum asked is a majority of the members, or, once membership has changed in the run,
 *    the smallest quorum of any joint configuration as large as the smallest member list seen.
 * The restarted server itself is not judged when a storage fault hit it (the framework destroyed
 * data there, not the implementation).
 */
export const committedQuorum: CheckerDefinition = {
  name: 'committed-quorum',
  description: 'a committed entry stays on a quorum: no restart takes a committed entry from a server the quorum needed (acknowledged before it was durable)',
  scope: 'step',
  needs: ['log', 'commitIndex', 'members'],
  create(cluster: ClusterInfo): Checker {
    const logs = Observations.forRun(cluster);
    const me = logs.subscribe();
    /** By slot: the highest commitIndex the node has shown, in any incarnation. */
    const commitSeen: number[] = [];
    const damaged = new Set<number>();
    let members: readonly NodeId[] = cluster.initialMembers;
    let smallestMembers = cluster.initialMembers.length;
    let membershipChanged = false;

    /** The node's commit and the members it shows. */
    const note = (view: NodeView, slot: number): void => {
      if (view.commitIndex !== undefined && view.commitIndex > (commitSeen[slot] ?? 0)) commitSeen[slot] = view.commitIndex;
      if (view.members && !sameMembers(view.members, members)) {
        members = [...view.members];
        membershipChanged = true;
        if (members.length < smallestMembers) smallestMembers = members.length;
      }
    };
    const look = (_node: NodeId, view: NodeView, _time: number, slot: number): undefined => {
      // Every node's mirror is kept current: holders are counted on them at a restart.
      if (view.log) logs.sync(me, slot, view.log);
      note(view, slot);
      return undefined;
    };

    /** Whether the entry (index, term, key) is known committed: a server holding it showed a commit at or above it. */
    const knownCommitted = (index: number, term: number, key: string, lostAt: number): boolean => {
      if ((commitSeen[lostAt] ?? 0) >= index) return true;
      for (let slot = 0; slot < commitSeen.length; slot++) {
        if (slot === lostAt || (commitSeen[slot] ?? 0) < index) continue;
        if (logs.mirrorAt(slot)?.holds(index, term, key)) return true;
      }
      return false;
    };

    const holdersOf = (index: number, term: number, key: string): NodeId[] => {
      const holders: NodeId[] = [];
      cluster.nodes.forEach((node) => {
        const slot = logs.slotOf(node);
        if (damaged.has(slot) || logs.mirrorAt(slot)?.holds(index, term, key)) holders.push(node);
      });
      return holders;
    };

    return {
      afterStep: logs.stepHook(look, VIEW_LOG | VIEW_COMMIT | VIEW_MEMBERS),
      onCrash(node) {
        logs.forget(node);
      },
      onStorageFault(node) {
        damaged.add(logs.slotOf(node));
      },
      onRestart(node, view, time): Violation | undefined {
        const slot = logs.slotOf(node);
        const wasDamaged = damaged.delete(slot);
        const commitBefore = commitSeen[slot] ?? 0;
        note(view, slot);
        const log = view.log;
        if (!log) return undefined;
        // What the restart took: the entries of the log last seen before the crash that the
        // restarted log no longer holds (the shared mirror's update lists them; copied, as the
        // next update reuses the list).
        const lost = [...logs.sync(me, slot, log).change.replaced];
        if (wasDamaged) return undefined;
        // Unchanged membership: smallestMembers is the members' count.
        const needed = quorumAsked(smallestMembers, membershipChanged);
        for (const { index, term, key } of lost) {
          if (!(commitBefore >= index || knownCommitted(index, term, key, slot))) continue;
          const holders = holdersOf(index, term, key);
          if (holders.length >= needed) continue;
          return {
            invariant: 'committed-quorum',
            message:
              `${node} restarted at ${showTime(time)} without its entry at index ${index} (${showEntry(term, key)}), which was committed; ` +
              `now only ${holders.length} server(s) hold it (${holders.join(', ') || 'none'}; a quorum is ${needed}): ` +
              `it had not been made durable, yet counted for the commit — a server syncs entries before acknowledging them (Figure 2)`,
          };
        }
        return undefined;
      },
    };
  },
};
