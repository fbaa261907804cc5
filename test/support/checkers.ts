import type { NodeId } from '../../src/adapter/contract.ts';
import type { CheckerDefinition } from '../../invariants/types.ts';

/**
 * A minimal election-safety checker for tests of the fault machinery (the real checkers live in
 * invariants/): at most one leader per term, over the whole run.
 */
export const electionSafety: CheckerDefinition = {
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

export const TEST_CHECKERS: readonly CheckerDefinition[] = [electionSafety];
export const CHECKERS = TEST_CHECKERS;
