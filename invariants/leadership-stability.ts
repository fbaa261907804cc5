import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import type { Checker, CheckerDefinition, ClusterInfo, RunRecord, Violation } from './types.ts';
import { Observations, VIEW_STATE, showTime } from './util.ts';

export interface LeadershipStabilityOptions {
  /** Elections after the heal that are not judged (the cluster may need a few); default 2 maximal election timeouts. */
  readonly graceMs?: number;
  /** New leaderships allowed after the grace, plus one per `perMs` of the rest of the run; default 4. */
  readonly slack?: number;
  /** default 10 maximal election timeouts. */
  readonly perMs?: number;
}

/**
 * Leadership stability after the heal: once the network is whole, every node up and every clock
 * true (record.healedAt), a correct Raft elects a leader and keeps it — a leader changes only when
 * it crashes, is cut off, is removed, or hands over, and none of that happens after the heal
 * (a membership change or a transfer still in flight costs at most an election or two). A
 * cluster whose leaders keep changing while nothing fails has a server that keeps deposing them:
 * the classic case is a server removed from the configuration that times out and campaigns with
 * ever higher terms (thesis §4.2.3), or timers that fire while heartbeats arrive.
 *
 * The bound is conservative: it counts new leaderships (a node leader in a term above every
 * earlier leader's) that start after a grace period, and fires only past `slack` (4) plus one
 * per `perMs` (10 election timeouts) of the rest of the run.
 */
export function leadershipStabilityChecker(options: LeadershipStabilityOptions = {}): CheckerDefinition {
  return {
    name: 'leadership-stability',
    description: 'after the heal, with nothing failing, leaders do not keep changing (a conservative bound on elections)',
    scope: 'run',
    needs: [],
    create(cluster: ClusterInfo): Checker {
      const grace = options.graceMs ?? 2 * cluster.electionTimeoutMaxMs;
      const slack = options.slack ?? 4;
      const perMs = options.perMs ?? 10 * cluster.electionTimeoutMaxMs;
      /** New leaderships in the order they began: node, term, time. */
      const leaderships: { node: NodeId; term: number; time: number }[] = [];
      let highest = -1;
      const look = (node: NodeId, view: NodeView, time: number): undefined => {
        if (view.role === 'leader' && view.term > highest) {
          highest = view.term;
          leaderships.push({ node, term: view.term, time });
        }
        return undefined;
      };
      return {
        // New leaderships show in role and term only.
        afterStep: Observations.forRun(cluster).stepHook(look, VIEW_STATE),
        onRestart: look,
        finish(record: RunRecord): Violation | undefined {
          const healedAt = record.healedAt;
          if (healedAt === undefined) return undefined;
          const from = healedAt + grace;
          if (record.endTime <= from) return undefined;
          const late = leaderships.filter((l) => l.time > from);
          const allowed = slack + Math.floor((record.endTime - from) / perMs);
          if (late.length <= allowed) return undefined;
          const shown = late.slice(0, 8).map((l) => `${l.node} (term ${l.term}) at ${showTime(l.time)}`).join(', ');
          return {
            invariant: 'leadership-stability',
            message: `${late.length} new leaders after ${showTime(from)} (the heal at ${showTime(healedAt)} plus ${grace} ms), with nothing failing; at most ${allowed} expected: ${shown}${late.length > 8 ? ', …' : ''}`,
          };
        },
      };
    },
  };
}

export const leadershipStability = leadershipStabilityChecker();
