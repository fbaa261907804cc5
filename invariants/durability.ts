import type { Command, NodeId, NodeView } from '../src/adapter/contract.ts';
import type { Checker, CheckerDefinition, ClusterInfo, RunRecord, Violation } from './types.ts';
import { IndexWindow, PRUNE_BATCH, Observations, type LogMirror, VIEW_LOG, VIEW_STATE, commandKey, isClientCommand, showEntry, showTime } from './util.ts';

interface Ack {
  readonly command: Command;
  readonly key: string;
  readonly node: NodeId;
  readonly index: number;
  readonly time: number;
  /** The acknowledging node's term then: at least the term in which the write was committed. */
  readonly term: number;
}

/**
 * Durability of acknowledged writes.
 *
 * 1. Every write a client got an ok for, applied at index i, is at index i in the log of every
 *    leader elected after the acknowledgement with a term above the acknowledging node's term
 *    then (or under that leader's snapshot). Only above: a node applies only committed entries,
 *    so its term is at least the term that committed the write, and Leader Completeness speaks
 *    of later terms, not later times — a candidate of an older term may still win late, with
 *    votes granted before the commit, and rightly lack the write (it can never commit anything).
 *    Each node keeps the set of acknowledged indexes its log does not hold, updated only for
 *    entries that change and for new acknowledgements; a node that becomes leader is judged on
 *    that set. O(changed entries + nodes) per step.
 * 2. At the end, in each live node's state machine (finalStates), for an acknowledged write w of
 *    key k at index i with i <= the node's applied index: if no put of k by another command was
 *    applied at an index in (i, applied index], then a put's value must begin the final value of k
 *    (only appends can have followed) and an append's token must occur in it. Nodes whose applied
 *    prefix was not fully seen (by onApply) are not judged.
 *
 * Memory: once every node's snapshot covers an index (the run's watermark, Observations.watermark),
 * no node can lack it, apply it again or end below it, so the records there are dropped: the
 * acknowledgement by index, the first-apply marks, the puts, and every acknowledged write that a
 * put of its key by another command at or below the watermark has superseded (rule 2 skips such a
 * write for every node, whose final applied index is at least the watermark). Of the dropped puts
 * only the last per key is kept, to judge a late acknowledgement below the watermark.
 */
export const durability: CheckerDefinition = {
  name: 'durability',
  description: 'acknowledged writes are in every later leader\'s log at their index, and visible in the final state',
  scope: 'step',
  needs: ['log'],
  create(cluster: ClusterInfo): Checker {
    const logs = Observations.forRun(cluster);
    const me = logs.subscribe();
    /** By node slot (Observations.slotOf): the acknowledged indexes its log lacks, its leadership. */
    const nodes: ({ mirror: LogMirror | undefined; missing: Set<number>; leaderTerm: number | undefined; term: number } | undefined)[] = [];
    const acks = new IndexWindow<Ack>();
    let highestAck = 0;
    /**
     * The acknowledged writes (puts and appends) by key, in index order, what rule 2 judges. Kept
     * as the acknowledgements come, while they are at hand: gathered at the end, they cost a
     * cache miss or more each. They come nearly in index order, so an insertion costs O(1).
     */
    const writesByKey = new Map<string, Ack[]>();
    const keep = (ack: Ack) => {
      const op = ack.command.op;
      if (op.type === 'get') return;
      const list = writesByKey.get(op.key);
      if (!list) {
        writesByKey.set(op.key, [ack]);
        return;
      }
      let at = list.length;
      list.push(ack);
      while (at > 0 && list[at - 1]!.index > ack.index) {
        list[at] = list[at - 1]!;
        at--;
      }
      list[at] = ack;
    };
    /** Whether some node applied each index (from onApply), and the puts per key by index. */
    const seen = new IndexWindow<boolean>();
    /** Every index 1..contiguous was applied by some node. */
    let contiguous = 0;
    const putsByKey = new Map<string, { index: number; id: string }[]>();
    /**
     * Per client, the highest seq of its puts first applied so far; and the puts first applied
     * with a seq not above it: every put applied at two indexes is among them (with a few puts
     * merely applied out of order), so only theirs need their earlier acknowledgements looked up.
     */
    const highestPutSeq = new Map<string, number>();
    const putsMaybeRepeated = new Set<string>();
    /** Per key, the last put at or below prunedTo (the puts there are dropped). */
    const lastPrunedPut = new Map<string, { index: number; id: string }>();
    let prunedTo = 0;

    /** Whether a put of the key by another command at an index in (ack.index, prunedTo] supersedes the write. */
    const supersededBelowWatermark = (ack: Ack): boolean => {
      const put = lastPrunedPut.get(ack.command.op.key);
      // The last pruned put is the write's own command applied again: keep the write (judging it is then still right).
      return put !== undefined && put.index > ack.index && put.id !== ack.command.id;
    };

    const prune = (to: number) => {
      for (const [key, puts] of putsByKey) {
        let n = 0;
        while (n < puts.length && puts[n]!.index <= to) n++;
        if (n === 0) continue;
        lastPrunedPut.set(key, puts[n - 1]!);
        puts.splice(0, n);
      }
      prunedTo = to;
      const kept = (ack: Ack) => ack.index > to || !supersededBelowWatermark(ack);
      for (const [key, list] of writesByKey) writesByKey.set(key, list.filter(kept));
      acks.dropBelow(to + 1);
      seen.dropBelow(Math.min(to, contiguous) + 1);
    };

    const recheck = (set: Set<number>, mirror: LogMirror, index: number) => {
      const ack = acks.get(index);
      if (!ack) return;
      if (mirror.holds(index, undefined, ack.key)) set.delete(index);
      else set.add(index);
    };

    const look = (node: NodeId, view: NodeView, time: number, slot: number): Violation | undefined => {
      const log = view.log;
      if (!log) return undefined;
      let state = nodes[slot];
      if (!state) nodes[slot] = state = { mirror: undefined, missing: new Set(), leaderTerm: undefined, term: 0 };
      state.term = view.term;
      const mirror = (state.mirror = logs.sync(me, slot, log));
      const change = mirror.change;
      if (mirror.snapshotIndex >= prunedTo + PRUNE_BATCH) {
        const to = logs.watermark();
        if (to >= prunedTo + PRUNE_BATCH) prune(to);
      }
      const set = state.missing;
      if (set.size > 0 && mirror.snapshotIndex > change.oldSnapshotIndex) {
        // Covered by the new snapshot: cost bounded by what is dropped or by the advance.
        if (set.size <= mirror.snapshotIndex - change.oldSnapshotIndex) {
          for (const index of set) if (index <= mirror.snapshotIndex) set.delete(index);
        } else {
          for (let i = change.oldSnapshotIndex + 1; i <= mirror.snapshotIndex; i++) set.delete(i);
        }
      }
      const top = Math.max(change.oldLast, change.newLast);
      for (let i = change.from; i <= top && i <= highestAck; i++) recheck(set, mirror, i);
      if (view.role !== 'leader') {
        state.leaderTerm = undefined;
        return undefined;
      }
      if (state.leaderTerm === view.term) return undefined;
      state.leaderTerm = view.term;
      if (set.size === 0) return undefined;
      let index = Infinity;
      for (const i of set) if (i < index && acks.get(i)!.term < view.term) index = i;
      if (index === Infinity) return undefined;
      const ack = acks.get(index)!;
      const has = index > mirror.last ? `its log ends at index ${mirror.last}` : `it has ${showEntry(mirror.termAt(index), mirror.keyAt(index))} there`;
      return {
        invariant: 'durability',
        message: `${node} became leader of term ${view.term} at ${showTime(time)} without the acknowledged write ${ack.command.id} at index ${index} (applied by ${ack.node}, acknowledged at ${showTime(ack.time)}): ${has}`,
      };
    };

    return {
      // Its leaders follow role and term, the missing writes the log. The commit index plays no part.
      afterStep: logs.stepHook(look, VIEW_STATE | VIEW_LOG),
      onRestart: (node, view, time) => look(node, view, time, logs.slotOf(node)),
      onCrash(node) {
        logs.forget(node);
        const state = nodes[logs.slotOf(node)];
        if (state) state.leaderTerm = undefined;
      },
      onApply(_node, index, command) {
        // Only the first apply of an index tells anything new (every node applies every index).
        if (index <= prunedTo || seen.get(index) !== undefined) return undefined;
        if (isClientCommand(command) && command.op.type === 'put') {
          let puts = putsByKey.get(command.op.key);
          if (!puts) putsByKey.set(command.op.key, (puts = []));
          puts.push({ index, id: command.id });
          const highest = highestPutSeq.get(command.client);
          if (highest !== undefined && command.seq <= highest) putsMaybeRepeated.add(command.id);
          else highestPutSeq.set(command.client, command.seq);
        }
        seen.set(index, true);
        while (seen.get(contiguous + 1)) contiguous++;
        return undefined;
      },
      onAcknowledged(command, node, index, time): Violation | undefined {
        if (!(index > 0)) return undefined;
        const key = commandKey(command);
        const ack: Ack = { command, key, node, index, time, term: nodes[logs.slotOf(node)]?.term ?? 0 };
        if (index <= prunedTo) {
          // Late: every node's snapshot covers the index. Only the final-state rule can still judge it.
          if (!supersededBelowWatermark(ack)) keep(ack);
          return undefined;
        }
        const known = acks.get(index);
        if (known) {
          if (known.key === key) return undefined;
          return {
            invariant: 'durability',
            message: `two different writes were acknowledged at index ${index}: ${known.command.id} (by ${known.node} at ${showTime(known.time)}) and ${command.id} (by ${node} at ${showTime(time)}); one of them is lost`,
          };
        }
        acks.set(index, ack);
        if (index > highestAck) highestAck = index;
        keep(ack);
        for (const state of nodes) {
          if (state && !state.mirror?.holds(index, undefined, key)) state.missing.add(index);
        }
        return undefined;
      },
      finish(record: RunRecord): Violation | undefined {
        const byKey = writesByKey;
        for (const [node, state] of record.finalStates) {
          const upTo = state.appliedIndex;
          // Above what was seen applied, or below what was dropped (see Memory): not judged.
          if (upTo > contiguous || upTo < prunedTo) continue;
          const values = new Map(state.entries);
          const judge = (ack: Ack): Violation | undefined => {
            const op = ack.command.op as { type: 'put' | 'append'; key: string; value: string };
            if (ack.index > upTo || laterPut(putsByKey.get(op.key), ack, upTo)) return undefined;
            const value = values.get(op.key) ?? '';
            const ok = op.type === 'put' ? value.startsWith(op.value) : value.includes(op.value);
            if (ok) return undefined;
            return {
              invariant: 'durability',
              message: `${node}'s final state (applied index ${upTo}) lost the acknowledged ${op.type} ${ack.command.id} of ${JSON.stringify(op.value)} to key ${JSON.stringify(op.key)} (index ${ack.index}, acknowledged at ${showTime(ack.time)}; no later put of that key): the key holds ${JSON.stringify(value)}`,
            };
          };
          for (const [key, list] of byKey) {
            // Writes below the last put at or before upTo are superseded by it (laterPut), unless
            // that put is their own command again: only those and the writes from it up are judged.
            const last = lastPut(putsByKey.get(key), upTo) ?? lastPrunedPut.get(key);
            let from = 0;
            if (last !== undefined) {
              let hi = list.length;
              while (from < hi) {
                const mid = (from + hi) >> 1;
                if (list[mid]!.index < last.index) from = mid + 1;
                else hi = mid;
              }
              if (putsMaybeRepeated.has(last.id)) {
                for (let i = 0; i < from; i++) {
                  const violation = list[i]!.command.id === last.id ? judge(list[i]!) : undefined;
                  if (violation) return violation;
                }
              }
            }
            for (let i = from; i < list.length && list[i]!.index <= upTo; i++) {
              const violation = judge(list[i]!);
              if (violation) return violation;
            }
          }
        }
        return undefined;
      },
    };
  },
};

/** The last put in `puts` (index order) at an index <= upTo. */
function lastPut(puts: readonly { index: number; id: string }[] | undefined, upTo: number): { index: number; id: string } | undefined {
  if (!puts) return undefined;
  let lo = 0;
  let hi = puts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (puts[mid]!.index <= upTo) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? puts[lo - 1] : undefined;
}

/** Whether a put of the same key by another command was applied in (ack.index, upTo]. Puts are in index order. */
function laterPut(puts: readonly { index: number; id: string }[] | undefined, ack: Ack, upTo: number): boolean {
  if (!puts) return false;
  let lo = 0;
  let hi = puts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (puts[mid]!.index <= ack.index) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < puts.length && puts[i]!.index <= upTo; i++) if (puts[i]!.id !== ack.command.id) return true;
  return false;
}
