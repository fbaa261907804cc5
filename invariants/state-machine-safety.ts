import type { NodeId } from '../src/adapter/contract.ts';
import { KvModel } from './kv-model.ts';
import type { Checker, CheckerDefinition, ClusterInfo, RunRecord, Violation } from './types.ts';
import { IndexWindow, PRUNE_BATCH, Observations, commandKey, showKey, showTime, timeChunk } from './util.ts';

/**
 * State Machine Safety (Raft §5.4.3): no two nodes apply different commands at one index.
 * Every apply is compared with the first apply of that index by any node (O(1) per apply). A
 * snapshot install at index i stands for having applied 1..i, which is only possible if some
 * node applied index i before (snapshots are taken of applied state).
 *
 * At the end, each live node's state machine must equal the fold (with the framework's
 * deduplication, see KvModel) of the agreed commands 1..its applied index: this checks the
 * state machines themselves, snapshots included (a node that restored a snapshot must end up
 * where the commands lead).
 *
 * Memory: commands at or below the run's watermark (every node's snapshot covers them, see
 * Observations.watermark; 0 when the implementation shows no log) are folded into the model as the
 * run goes and their records dropped: no node applies them again or ends the run below them.
 *
 * Cost: a second model follows the lowest applied index of the cluster's nodes as the run goes,
 * folding each command while it is at hand; at the end, the nodes at or above it are judged
 * from there, which leaves only the spread between the nodes to fold (folding every command at
 * the end cost a cache miss or more each). A node that ended below it (say, restarted late from
 * an old snapshot) is judged from the watermark's model, as before.
 */
export const stateMachineSafety: CheckerDefinition = {
  name: 'state-machine-safety',
  description: 'no two nodes apply different commands at one index, and every state machine equals the fold of the applied commands',
  scope: 'step',
  needs: [],
  create(cluster: ClusterInfo): Checker {
    const logs = Observations.forRun(cluster);
    /** The first apply of each index, a window per field (no object per index for the collector to copy); a key marks an index applied. */
    const appliedKey = new IndexWindow<string>();
    const appliedCommand = new IndexWindow<unknown>();
    const appliedBy = new IndexWindow<NodeId>();
    const appliedAt = new IndexWindow<number>(timeChunk);
    let highest = 0;
    /** Moves `state` forward through the agreed commands up to `to`, as far as their records reach. */
    const advance = (state: AgreedState, to: number) => {
      while (state.at < to && appliedKey.get(state.at + 1) !== undefined) {
        state.model.apply(appliedCommand.get(state.at + 1));
        state.at++;
      }
    };
    /** Up to the watermark: the records at or below it are dropped. */
    const pruned = new AgreedState();
    const fold = (to: number) => {
      advance(pruned, to);
      for (const window of [appliedKey, appliedCommand, appliedBy, appliedAt]) window.dropBelow(pruned.at + 1);
    };
    /** Up to the lowest applied index of the cluster; usable while at or above `pruned` (the records above it are still held). */
    const lowest = new AgreedState();
    /** By node slot (Observations.slotOf): its state machine's applied index, as last seen. */
    const appliedIndex: number[] = [];
    const lowestApplied = (): number => {
      let low = Infinity;
      for (let slot = 0; slot < cluster.nodes.length; slot++) {
        const index = appliedIndex[slot];
        if (index === undefined) return 0;
        if (index < low) low = index;
      }
      return low;
    };
    return {
      onApply(node, index, command, time): Violation | undefined {
        appliedIndex[logs.slotOf(node)] = index;
        if (index > pruned.at + 2 * PRUNE_BATCH) {
          const to = Math.min(logs.watermark(), index - PRUNE_BATCH);
          if (to >= pruned.at + PRUNE_BATCH) fold(to);
        }
        if (index <= pruned.at) return undefined; // see Memory: cannot happen while snapshots are durable
        const key = commandKey(command);
        const first = appliedKey.get(index);
        if (first === undefined) {
          appliedKey.set(index, key);
          appliedCommand.set(index, command);
          appliedBy.set(index, node);
          appliedAt.set(index, time);
          if (index > highest) highest = index;
        } else if (first !== key) {
          return {
            invariant: 'state-machine-safety',
            message: `${node} applied ${showKey(key)} at index ${index}, but ${appliedBy.get(index)!} applied ${showKey(first)} there (at ${showTime(appliedAt.get(index)!)})`,
          };
        }
        if (lowest.at < index) advance(lowest, lowestApplied());
        return undefined;
      },
      onRestore(node, index): Violation | undefined {
        appliedIndex[logs.slotOf(node)] = index;
        if (index <= highest) return undefined;
        return {
          invariant: 'state-machine-safety',
          message: `${node} installed a snapshot at index ${index}, but no node has applied beyond index ${highest}: the snapshot holds state no state machine reached`,
        };
      },
      finish(record: RunRecord): Violation | undefined {
        const nodes = [...record.finalStates].sort((a, b) => a[1].appliedIndex - b[1].appliedIndex);
        for (const [node, state] of nodes) {
          const at = state.appliedIndex;
          if (at < pruned.at) continue; // below what was folded (see Memory): not judged
          const from = lowest.at >= pruned.at && at >= lowest.at ? lowest : pruned;
          if (from === lowest) advance(lowest, at);
          else fold(at);
          // A gap in what was seen applied: this node (and those above it) cannot be judged.
          if (from.at < at) break;
          const problem = compareState(from.model.data, state.entries);
          if (problem) {
            return {
              invariant: 'state-machine-safety',
              message: `${node}'s state machine at applied index ${state.appliedIndex} is not the fold of the commands applied at 1..${state.appliedIndex}: ${problem}`,
            };
          }
        }
        return undefined;
      },
    };
  },
};

/** A state machine with the agreed commands 1..at applied. */
class AgreedState {
  readonly model = new KvModel();
  at = 0;
}

function compareState(expected: ReadonlyMap<string, string>, actual: readonly (readonly [string, string])[]): string | undefined {
  const seen = new Set<string>();
  for (const [key, value] of actual) {
    seen.add(key);
    const want = expected.get(key);
    if (want !== value) return `key ${JSON.stringify(key)} holds ${JSON.stringify(value)} but the commands give ${want === undefined ? 'no value' : JSON.stringify(want)}`;
  }
  for (const [key, want] of expected) {
    if (!seen.has(key)) return `key ${JSON.stringify(key)} is missing but the commands give ${JSON.stringify(want)}`;
  }
  return undefined;
}
