import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import type { Checker, CheckerDefinition, ClusterInfo, Violation } from './types.ts';
import { Observations, VIEW_COMMIT, VIEW_STATE, showTime } from './util.ts';

interface Seen {
  term: number;
  votedFor: NodeId | null | undefined;
  commitIndex: number | undefined;
  time: number;
}

/**
 * Monotonicity of a node's state. While a node lives: its term and commitIndex never decrease,
 * and neither does its state machine's applied index (the engine already refuses out-of-order
 * applies; a snapshot install below the applied index is the remaining way back). Across a
 * restart: the term never goes back, and in the same term a vote once cast is still the vote
 * (Raft's persistent state: currentTerm and votedFor). The restart rule assumes an implementation
 * persists a term or vote in the step in which it adopts it, as the paper requires before
 * answering; the engine never crashes a node in the middle of a step.
 */
export const monotonicity: CheckerDefinition = {
  name: 'monotonicity',
  description: 'term, commitIndex and the applied index never decrease while a node lives; term and vote survive restarts',
  scope: 'step',
  needs: [],
  create(cluster: ClusterInfo): Checker {
    const views = Observations.forRun(cluster);
    /** By node slot (Observations.slotOf): the live incarnation's last view, its applied index. */
    const live: (Seen | undefined)[] = [];
    const applied: (number | undefined)[] = [];
    const beforeCrash = new Map<NodeId, Seen>();
    /** Nodes whose synced state a storage fault hit since their last restart: they may lose term and vote. */
    const corrupted = new Set<NodeId>();
    const remember = (slot: number, view: NodeView, time: number) => {
      live[slot] = { term: view.term, votedFor: view.votedFor, commitIndex: view.commitIndex, time };
    };
    return {
      // Only a change of term, vote or commit index tells anything here.
      afterStep: views.stepHook((node, view, time, slot): Violation | undefined => {
        const prev = live[slot];
        if (!prev) {
          remember(slot, view, time);
          return undefined;
        }
        if (view.term < prev.term) {
          return { invariant: 'monotonicity', message: `${node}'s term went back from ${prev.term} (at ${showTime(prev.time)}) to ${view.term} without a restart` };
        }
        if (prev.commitIndex !== undefined && view.commitIndex !== undefined && view.commitIndex < prev.commitIndex) {
          return { invariant: 'monotonicity', message: `${node}'s commitIndex went back from ${prev.commitIndex} to ${view.commitIndex} in term ${view.term} without a restart` };
        }
        // Updated in place: no allocation on the hot path.
        prev.term = view.term;
        prev.votedFor = view.votedFor;
        prev.commitIndex = view.commitIndex;
        prev.time = time;
        return undefined;
      }, VIEW_STATE | VIEW_COMMIT),
      onApply(node, index) {
        applied[views.slotOf(node)] = index;
        return undefined;
      },
      onRestore(node, index): Violation | undefined {
        const slot = views.slotOf(node);
        const before = applied[slot] ?? 0;
        applied[slot] = index;
        if (index >= before) return undefined;
        return { invariant: 'monotonicity', message: `${node} installed a snapshot at index ${index} after applying up to index ${before}: its applied index went back` };
      },
      onCrash(node, time) {
        views.forget(node);
        const slot = views.slotOf(node);
        const last = live[slot];
        if (last) beforeCrash.set(node, { ...last, time });
        live[slot] = undefined;
        applied[slot] = undefined;
      },
      onStorageFault(node) {
        corrupted.add(node);
      },
      onRestart(node, view, time): Violation | undefined {
        const before = beforeCrash.get(node);
        remember(views.slotOf(node), view, time);
        if (corrupted.delete(node)) return undefined; // one-vote-per-term still guards its votes
        if (!before) return undefined;
        if (view.term < before.term) {
          return { invariant: 'monotonicity', message: `${node} restarted in term ${view.term} but had reached term ${before.term} before it crashed at ${showTime(before.time)}: its term was not persisted` };
        }
        if (view.term === before.term && typeof before.votedFor === 'string' && view.votedFor !== undefined && view.votedFor !== before.votedFor) {
          return { invariant: 'monotonicity', message: `${node} restarted in term ${view.term} with votedFor ${String(view.votedFor)} but had voted for ${before.votedFor} in that term before it crashed at ${showTime(before.time)}: its vote was not persisted` };
        }
        return undefined;
      },
    };
  },
};
