import type { NodeId, NodeView, Role } from '../src/adapter/contract.ts';
import type { Checker, CheckerDefinition, ClusterInfo, RunRecord, Violation } from './types.ts';
import { Observations, showTime } from './util.ts';

export interface LivenessOptions {
  /** How long after the heal a single leader and a committed write may take; default 10 maximal election timeouts. */
  readonly boundMs?: number;
}

interface Change {
  readonly time: number;
  readonly node: NodeId;
  readonly role: Role | 'down';
  readonly term: number;
}

/**
 * Liveness after the heal (record.healedAt): within the bound, (1) at some instant exactly one
 * live node is leader and no live node has a higher term, and (2) a write commits: a client write
 * invoked after the heal completes ok, or a leader's commitIndex advances, by the deadline.
 * (2) is demanded only if there was demand: a client write invoked in the first half of the bound
 * (so it had half the bound to finish), unless a commit shows up anyway. A run that ends before
 * the deadline is not judged; nor is one that never healed.
 */
export function livenessAfterHealChecker(options: LivenessOptions = {}): CheckerDefinition {
  return {
    name: 'liveness-after-heal',
    description: 'after the heal, a single leader emerges and a client write commits within a bound (default 10 election timeouts)',
    scope: 'run',
    needs: [],
    create(cluster: ClusterInfo): Checker {
      const bound = options.boundMs ?? 10 * cluster.electionTimeoutMaxMs;
      const changes: Change[] = [];
      const current = new Map<NodeId, { role: Role | 'down'; term: number }>();
      /** Times at which some leader's commitIndex rose. */
      const commitAdvances: number[] = [];
      const leaderCommit = new Map<NodeId, { term: number; commit: number }>();
      const note = (node: NodeId, role: Role | 'down', term: number, time: number) => {
        const now = current.get(node);
        if (now && now.role === role && now.term === term) return;
        current.set(node, { role, term });
        changes.push({ time, node, role, term });
      };
      const look = (node: NodeId, view: NodeView, time: number): undefined => {
        note(node, view.role, view.term, time);
        if (view.role === 'leader' && view.commitIndex !== undefined) {
          const last = leaderCommit.get(node);
          if (!last) {
            leaderCommit.set(node, { term: view.term, commit: view.commitIndex });
          } else {
            if (last.term === view.term && view.commitIndex > last.commit) commitAdvances.push(time);
            last.term = view.term;
            last.commit = view.commitIndex;
          }
        } else if (leaderCommit.size > 0) {
          leaderCommit.delete(node);
        }
        return undefined;
      };
      return {
        afterStep: Observations.forRun(cluster).stepHook(look),
        onRestart: look,
        onCrash(node, time) {
          note(node, 'down', current.get(node)?.term ?? 0, time);
          leaderCommit.delete(node);
        },
        finish(record: RunRecord): Violation | undefined {
          const healedAt = record.healedAt;
          if (healedAt === undefined) return undefined;
          const deadline = healedAt + bound;
          if (record.endTime < deadline) return undefined;
          // (1) Replay the role/term changes up to the deadline.
          const state = new Map<NodeId, { role: Role | 'down'; term: number }>();
          let leaderFound: { node: NodeId; term: number; time: number } | undefined;
          const judge = (time: number) => {
            if (leaderFound) return;
            let leader: NodeId | undefined;
            let leaders = 0;
            let leaderTerm = -1;
            let maxTerm = -1;
            for (const [node, s] of state) {
              if (s.role === 'down') continue;
              if (s.term > maxTerm) maxTerm = s.term;
              if (s.role === 'leader') {
                leaders++;
                leader = node;
                leaderTerm = s.term;
              }
            }
            if (leaders === 1 && leaderTerm >= maxTerm) leaderFound = { node: leader!, term: leaderTerm, time };
          };
          let i = 0;
          for (; i < changes.length && changes[i]!.time <= healedAt; i++) state.set(changes[i]!.node, changes[i]!);
          judge(healedAt);
          for (; i < changes.length && changes[i]!.time <= deadline && !leaderFound; i++) {
            state.set(changes[i]!.node, changes[i]!);
            judge(changes[i]!.time);
          }
          if (!leaderFound) {
            const leaders = [...state].filter(([, s]) => s.role === 'leader').map(([n, s]) => `${n} (term ${s.term})`);
            return {
              invariant: 'liveness-after-heal',
              message: `no single leader within ${bound} ms after the heal at ${showTime(healedAt)}: at ${showTime(deadline)} the leaders are ${leaders.length ? leaders.join(', ') : 'none'}`,
            };
          }
          // (2) A write commits by the deadline.
          const committed =
            commitAdvances.some((t) => t > healedAt && t <= deadline) ||
            record.history.some((o) => o.op.type !== 'get' && o.status === 'ok' && o.invokeTime >= healedAt && (o.completeTime ?? Infinity) <= deadline);
          if (committed) return undefined;
          const demand = record.history.filter((o) => o.op.type !== 'get' && o.invokeTime >= healedAt && o.invokeTime <= deadline - bound / 2);
          if (demand.length === 0) return undefined;
          return {
            invariant: 'liveness-after-heal',
            message: `no write committed within ${bound} ms after the heal at ${showTime(healedAt)}: leader ${leaderFound.node} of term ${leaderFound.term} (at ${showTime(leaderFound.time)}), ${demand.length} client write(s) invoked by ${showTime(deadline - bound / 2)} (first: ${demand[0]!.client} #${demand[0]!.id}), none completed ok by ${showTime(deadline)} and no leader's commitIndex advanced`,
          };
        },
      };
    },
  };
}

export const livenessAfterHeal = livenessAfterHealChecker();
