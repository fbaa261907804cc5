import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import type { Checker, CheckerDefinition, ClusterInfo, RunRecord, Violation } from './types.ts';
import { Observations, VIEW_COMMIT, VIEW_MEMBERS, VIEW_STATE, sameMembers, showTime, undamagedMajority } from './util.ts';

export interface CatchUpOptions {
  /** How long a follower may stand still behind a leader's commit index; default 10 maximal election timeouts. */
  readonly boundMs?: number;
}

/**
 * Catch-up after the heal: let ref = end of run − bound (judged only if ref >= healedAt, so the
 * cluster was whole for at least the bound). Every node alive at the end (finalViews) that is a
 * voting member in every configuration a leader showed since the heal (initial members when views
 * expose none) must have a commitIndex at least the highest commitIndex any leader reported by
 * ref — or still be on its way there: a node whose commitIndex rose within the last bound is
 * catching up, however slowly, and is not judged. What fails is standing still behind the leaders
 * for the whole bound: a follower stuck on a broken nextIndex walk or a lost snapshot. (A leader
 * that sends one entry per heartbeat is slow, not wrong: with a fixed deadline instead, a correct
 * implementation built that way failed 2 of 2,000 runs, a follower 100 entries behind.) A node
 * whose disk a storage fault hit is not judged: it may rightly stay fenced, or stopped, until an
 * operator repairs it; nor is any node when such nodes are half a configuration or more (no
 * leader is owed then: see liveness-after-heal).
 */
export function catchUpChecker(options: CatchUpOptions = {}): CheckerDefinition {
  return {
    name: 'catch-up',
    description: "after the heal, every live member reaches the leaders' commit index, or is still advancing toward it (none stands still behind it for a bound)",
    scope: 'run',
    needs: ['commitIndex'],
    create(cluster: ClusterInfo): Checker {
      const bound = options.boundMs ?? 10 * cluster.electionTimeoutMaxMs;
      /**
       * Rising maximum of leaders' commitIndex: (time, value) pairs. The run ends at `time` or later,
       * so the judged instant (end - bound) is at least time - bound: of the pairs at or before
       * that, only the last can be the one judged, and the older ones are dropped.
       */
      let times: number[] = [];
      let values: number[] = [];
      let first = 0;
      const memberSets: { time: number; members: readonly NodeId[] }[] = [];
      let lastMembers: readonly NodeId[] | undefined;
      const damaged = new Set<NodeId>();
      const views = Observations.forRun(cluster);
      /**
       * By node slot (Observations.slotOf): its commitIndex as last seen, and when it last rose (or
       * was first seen; a restart's climb back from 0 rises too). Arrays of numbers: no boxed time per step.
       */
      const commits: number[] = [];
      const roseAt: number[] = [];
      const look = (_node: NodeId, view: NodeView, time: number, slot: number): undefined => {
        const commit = view.commitIndex ?? 0;
        const seen = commits[slot];
        if (seen === undefined || commit > seen) roseAt[slot] = time;
        commits[slot] = commit;
        if (view.role !== 'leader') return undefined;
        if (values.length === 0 || commit > values[values.length - 1]!) {
          times.push(time);
          values.push(commit);
          while (first + 1 < times.length && times[first + 1]! <= time - bound) first++;
          if (first > 1024 && first * 2 > times.length) {
            times = times.slice(first);
            values = values.slice(first);
            first = 0;
          }
        }
        if (view.members && !sameMembers(view.members, lastMembers)) {
          lastMembers = [...view.members];
          memberSets.push({ time, members: lastMembers });
        }
        return undefined;
      };
      return {
        // A leader's commit index and members: a step that changed neither role, commit nor members tells nothing new.
        afterStep: views.stepHook(look, VIEW_STATE | VIEW_COMMIT | VIEW_MEMBERS),
        onRestart: (node, view, time) => look(node, view, time, views.slotOf(node)),
        onStorageFault(node) {
          damaged.add(node);
        },
        finish(record: RunRecord): Violation | undefined {
          const healedAt = record.healedAt;
          if (healedAt === undefined) return undefined;
          const ref = record.endTime - bound;
          if (ref < healedAt) return undefined;
          let target = 0;
          let targetTime = 0;
          for (let i = first; i < times.length && times[i]! <= ref; i++) {
            target = values[i]!;
            targetTime = times[i]!;
          }
          if (target === 0) return undefined;
          // Configurations in force since the heal: the last one before it, and any later.
          let firstSince = memberSets.findIndex((m) => m.time > healedAt);
          if (firstSince < 0) firstSince = memberSets.length;
          const configs = memberSets.slice(Math.max(0, firstSince - 1)).map((m) => m.members);
          if (configs.length === 0) configs.push(record.cluster.initialMembers);
          if (!configs.every((members) => undamagedMajority(members, damaged))) return undefined;
          for (const [node, view] of record.finalViews) {
            if (view.role === 'learner' || damaged.has(node) || !configs.every((members) => members.includes(node))) continue;
            const commit = view.commitIndex ?? 0;
            if (commit >= target) continue;
            const rose = roseAt[views.slotOf(node)];
            if (rose !== undefined && rose > ref) continue;
            const still = rose === undefined ? 'its commitIndex was never seen to rise' : `its commitIndex has not risen since ${showTime(rose)}`;
            return {
              invariant: 'catch-up',
              message: `${node} did not catch up after the heal at ${showTime(healedAt)}: its commitIndex is ${commit} at the end (${showTime(record.endTime)}), but a leader had committed index ${target} by ${showTime(targetTime)}, more than ${bound} ms earlier, and ${still}`,
            };
          }
          return undefined;
        },
      };
    },
  };
}

export const catchUp = catchUpChecker();
