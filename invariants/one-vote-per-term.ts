import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import type { Checker, CheckerDefinition, ClusterInfo } from './types.ts';
import { Observations, VIEW_STATE, showTime } from './util.ts';

/**
 * A node grants at most one vote per term, across crashes and restarts: the checker keeps every
 * (node, term) → candidate it has seen in a view's votedFor, for the whole run.
 */
export const oneVotePerTerm: CheckerDefinition = {
  name: 'one-vote-per-term',
  description: 'a node never votes for two different candidates in one term, even across restarts',
  scope: 'step',
  needs: ['votedFor'],
  create(cluster: ClusterInfo): Checker {
    const views = Observations.forRun(cluster);
    /** By node slot (Observations.slotOf). */
    const votes: ({ byTerm: Map<number, { candidate: NodeId; time: number }>; lastTerm: number; lastCandidate: NodeId | null } | undefined)[] = [];
    const look = (node: NodeId, view: NodeView, time: number, slot: number) => {
      const candidate = view.votedFor;
      if (candidate === undefined || candidate === null) return undefined;
      let seen = votes[slot];
      if (!seen) votes[slot] = seen = { byTerm: new Map(), lastTerm: -1, lastCandidate: null };
      // Fast path: the same vote as at this node's previous step.
      if (seen.lastTerm === view.term && seen.lastCandidate === candidate) return undefined;
      seen.lastTerm = view.term;
      seen.lastCandidate = candidate;
      const byTerm = seen.byTerm;
      const first = byTerm.get(view.term);
      if (first === undefined) {
        byTerm.set(view.term, { candidate, time });
        return undefined;
      }
      if (first.candidate === candidate) return undefined;
      return {
        invariant: 'one-vote-per-term',
        message: `${node} voted twice in term ${view.term}: for ${first.candidate} (seen at ${showTime(first.time)}) and for ${candidate} (at ${showTime(time)})`,
      };
    };
    return {
      // A term and vote are judged when they appear.
      afterStep: views.stepHook(look, VIEW_STATE),
      onRestart: (node, view, time) => look(node, view, time, views.slotOf(node)),
      onCrash: (node) => views.forget(node),
    };
  },
};
