import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import type { Checker, CheckerDefinition, ClusterInfo, Violation } from './types.ts';
import { IndexWindow, PRUNE_BATCH, Observations, VIEW_LOG, showEntry, showKey, showTime, timeChunk } from './util.ts';

interface Registered {
  readonly key: string;
  /** Term of the entry just below (the snapshot's term when it sits right above a snapshot). */
  readonly prevTerm: number;
  readonly node: NodeId;
  readonly time: number;
}

/**
 * Log Matching (Raft §5.3): two logs holding an entry with the same index and term are identical
 * up to that index. Checked by induction over the whole history: the checker registers, for every
 * (index, term) it ever sees in any log, the entry's command and the term of the entry below it.
 * If every (index, term) always comes with the same command and the same predecessor term, then
 * any two logs sharing (i, t) share (i-1, t'), hence (i-2, t''), ... down to index 1: identical
 * prefixes. Each new or rewritten entry costs one map lookup, so a step costs O(changed entries).
 * Commands are compared by their framework id, other entries (no-ops, configurations) by stable
 * JSON (see commandKey). It also checks that terms never decrease along a log.
 */
export const logMatching: CheckerDefinition = {
  name: 'log-matching',
  description: 'logs that share an entry (same index and term) hold the same commands up to that index',
  scope: 'step',
  needs: ['log'],
  create(cluster: ClusterInfo): Checker {
    const logs = Observations.forRun(cluster);
    const me = logs.subscribe();
    /**
     * What the first log holding (index, term) held. Most indexes only ever see one term, so the
     * first term of each index and its record live in flat windows, a window per field (no
     * object per index for the collector to copy), and any other term of that index in an
     * overflow map. Indexes at or below the run's watermark (every node's snapshot covers them,
     * see Observations.watermark) can never be shown again, so their records are dropped.
     */
    const firstTerm = new IndexWindow<number>();
    const firstKey = new IndexWindow<string>();
    const firstPrevTerm = new IndexWindow<number>();
    const firstNode = new IndexWindow<NodeId>();
    const firstTime = new IndexWindow<number>(timeChunk);
    const others = new Map<string, Registered>();
    let prunedTo = 0;
    const prune = (to: number) => {
      prunedTo = to;
      for (const window of [firstTerm, firstKey, firstPrevTerm, firstNode, firstTime]) window.dropBelow(to + 1);
      for (const slot of others.keys()) if (Number(slot.slice(0, slot.indexOf('/'))) <= to) others.delete(slot);
    };
    const look = (node: NodeId, view: NodeView, time: number, slot: number): Violation | undefined => {
      const log = view.log;
      if (!log) return undefined;
      const mirror = logs.sync(me, slot, log);
      const change = mirror.change;
      if (mirror.snapshotIndex >= prunedTo + PRUNE_BATCH) {
        const to = logs.watermark();
        if (to >= prunedTo + PRUNE_BATCH) prune(to);
      }
      for (let i = change.from; i <= change.newLast; i++) {
        const term = mirror.term(i);
        const key = mirror.key(i);
        const prevTerm = mirror.prevTerm(i);
        if (term < prevTerm) {
          return {
            invariant: 'log-matching',
            message: `${node}'s log goes back in term: index ${i - 1} has term ${prevTerm} but index ${i} has term ${term}`,
          };
        }
        let first: Registered | undefined;
        const known = firstTerm.get(i);
        if (known === undefined) {
          firstTerm.set(i, term);
          firstKey.set(i, key);
          firstPrevTerm.set(i, prevTerm);
          firstNode.set(i, node);
          firstTime.set(i, time);
          continue;
        }
        if (known === term) {
          // The common case: the same entry again (a follower receiving what the leader holds).
          if (firstKey.get(i) === key && firstPrevTerm.get(i) === prevTerm) continue;
          first = { key: firstKey.get(i)!, prevTerm: firstPrevTerm.get(i)!, node: firstNode.get(i)!, time: firstTime.get(i)! };
        } else {
          const slot = `${i}/${term}`;
          first = others.get(slot);
          if (!first) {
            others.set(slot, { key, prevTerm, node, time });
            continue;
          }
        }
        if (first.key === key && first.prevTerm === prevTerm) continue;
        if (first.key !== key) {
          return {
            invariant: 'log-matching',
            message: `${node} and ${first.node} both have an entry at index ${i} in term ${term} but with different commands: ${node} has ${showKey(key)}, ${first.node} had ${showKey(first.key)} (seen at ${showTime(first.time)})`,
          };
        }
        if (first.prevTerm !== prevTerm) {
          const theirs = first.node === node ? undefined : logs.mirror(first.node);
          const detail = theirs && theirs.termAt(i) === term && theirs.termAt(i - 1) === first.prevTerm
            ? ` (${first.node} now holds ${showEntry(first.prevTerm, theirs.keyAt(i - 1))} there, ${node} holds ${showEntry(prevTerm, mirror.keyAt(i - 1))})`
            : '';
          return {
            invariant: 'log-matching',
            message: `${node} and ${first.node} both have ${showKey(key)} at index ${i} in term ${term}, but their logs differ below it: at index ${i - 1} ${node} has term ${prevTerm} and ${first.node} had term ${first.prevTerm} (seen at ${showTime(first.time)})${detail}`,
          };
        }
      }
      return undefined;
    };
    return {
      // Only the log's entries are judged.
      afterStep: logs.stepHook(look, VIEW_LOG),
      onRestart: (node, view, time) => look(node, view, time, logs.slotOf(node)),
      onCrash: (node) => logs.forget(node),
    };
  },
};
