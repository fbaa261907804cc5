import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import type { Checker, CheckerDefinition, ClusterInfo } from './types.ts';
import { Observations, VIEW_STATE, showTime } from './util.ts';

/**
 * Election Safety (Raft §5.2): at most one leader per term, over the whole history. The
 * checker remembers the first leader of every term, so two leaders of one term are caught even
 * if they never coexist (the first may have crashed or stepped down before the second won).
 */
export const electionSafety: CheckerDefinition = {
  name: 'election-safety',
  description: 'at most one node is ever leader in a given term (across the whole history)',
  scope: 'step',
  needs: [],
  create(cluster: ClusterInfo): Checker {
    const leaders = new Map<number, { node: NodeId; time: number }>();
    const look = (node: NodeId, view: NodeView, time: number) => {
      if (view.role !== 'leader') return undefined;
      const first = leaders.get(view.term);
      if (first === undefined) {
        leaders.set(view.term, { node, time });
        return undefined;
      }
      if (first.node === node) return undefined;
      return {
        invariant: 'election-safety',
        message: `two leaders in term ${view.term}: ${first.node} (leader since ${showTime(first.time)}) and ${node} (leader at ${showTime(time)})`,
      };
    };
    const views = Observations.forRun(cluster);
    return {
      // A role and term are judged when they appear.
      afterStep: views.stepHook(look, VIEW_STATE),
      onRestart: look,
      onCrash: (node) => views.forget(node),
    };
  },
};
