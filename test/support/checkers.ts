import type { NodeId } from '../../src/adapter/contract.ts';
import { electionSafety as realElectionSafety } from '../../invariants/index.ts';
import type { CheckerDefinition } from '../../invariants/types.ts';

/**
 * A minimal election-safety checker, written before the real checkers in invariants/ landed: at
 * most one leader per term, over the whole run. Kept for tests independent of invariants/.
 */
export const minimalElectionSafety: CheckerDefinition = {
  name: 'election-safety',
  description: 'at most one leader per term',
  scope: 'step',
  needs: [],
  create() {
    const leaders = new Map<number, NodeId>();
    return {
      afterStep(node, view) {
        if (view.role !== 'leader') return undefined;
        const other = leaders.get(view.term);
        if (other === undefined) {
          leaders.set(view.term, node);
          return undefined;
        }
        if (other === node) return undefined;
        return { invariant: 'election-safety', message: `${other} and ${node} are both leaders of term ${view.term}` };
      },
    };
  },
};

/**
 * The checkers the fault-machinery tests run the broken election against: the real election-safety
 * checker only (the test implementation has no log and commits nothing, so the log, state-machine
 * and liveness checkers are beside the point). Also what `--checkers test/support/checkers.ts` loads.
 */
export const TEST_CHECKERS: readonly CheckerDefinition[] = [realElectionSafety];
export const CHECKERS = TEST_CHECKERS;
