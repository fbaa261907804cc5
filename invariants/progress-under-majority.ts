import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import type { ClientOperation } from '../src/sim/history.ts';
import type { Checker, CheckerDefinition, ClusterInfo, ClusterStatus, RunRecord, Violation } from './types.ts';
import { Observations, VIEW_MEMBERS, sameMembers, showTime } from './util.ts';

export interface ProgressOptions {
  /** Shortest window judged; default 20 maximal election timeouts. */
  readonly windowMs?: number;
}

/**
 * Progress under a majority. From the engine's status timeline (record.statuses), a stable
 * window is a stretch during which one set G of nodes is up, pairwise connected both ways, cut
 * off from every other up node (so no outsider with a higher term can disrupt it), and holds a
 * majority of every configuration seen (the initial members, and every `members` any view
 * showed), not counting nodes whose disk a storage fault hit (they may rightly stay fenced or
 * stopped). Statuses flagged `impaired` (lossy links, skewed clocks) break windows. For each window
 * of at least windowMs in which a client write was invoked early enough (at least windowMs/2
 * before its end), some client write must complete ok within the window. The thresholds are
 * deliberately loose: a correct Raft needs a few election timeouts here, the window is 20.
 */
export function progressUnderMajorityChecker(options: ProgressOptions = {}): CheckerDefinition {
  return {
    name: 'progress-under-majority',
    description: 'while a majority is up and connected for long enough, client writes keep committing',
    scope: 'run',
    needs: [],
    create(cluster: ClusterInfo): Checker {
      const windowMs = options.windowMs ?? 20 * cluster.electionTimeoutMaxMs;
      const configs = new Map<string, readonly NodeId[]>([[[...cluster.initialMembers].sort().join(','), cluster.initialMembers]]);
      let lastMembers: readonly NodeId[] | undefined;
      const look = (_node: NodeId, view: NodeView): undefined => {
        // Cheap on the hot path: only a list that differs from the previous one is looked at.
        if (!view.members || sameMembers(view.members, lastMembers)) return undefined;
        lastMembers = [...view.members];
        const text = [...view.members].sort().join(',');
        if (!configs.has(text)) configs.set(text, [...view.members]);
        return undefined;
      };
      const stalls = new WriteStalls(windowMs);
      const damaged = new Set<NodeId>();
      return {
        afterStep: Observations.forRun(cluster).stepHook(look, VIEW_MEMBERS),
        onRestart: look,
        onInvoke(operation) {
          if (operation.op.type !== 'get') stalls.invoked(operation);
        },
        onOperationOk(operation) {
          if (operation.op.type !== 'get') stalls.answered(operation);
        },
        onStorageFault(node) {
          damaged.add(node);
        },
        finish(record: RunRecord): Violation | undefined {
          const statuses = record.statuses;
          let windowStart = 0;
          let group: string | undefined;
          const judge = (start: number, end: number, members: string): Violation | undefined => {
            if (end - start < windowMs) return undefined;
            // No write completed ok in [start, end] only if the window lies inside a stall.
            const stall = stalls.containing(start, end);
            const demand = stall?.invoked.find((o) => o.invokeTime >= start && o.invokeTime <= end - windowMs / 2);
            if (!demand) return undefined;
            return {
              invariant: 'progress-under-majority',
              message: `no client write completed from ${showTime(start)} to ${showTime(end)} although ${members} (a majority) were up and connected throughout and write #${demand.id} of ${demand.client} was invoked at ${showTime(demand.invokeTime)}`,
            };
          };
          for (let i = 0; i <= statuses.length; i++) {
            const time = i < statuses.length ? statuses[i]!.time : record.endTime;
            const g = i < statuses.length ? stableGroup(statuses[i]!, [...configs.values()], damaged) : undefined;
            const text = g?.join(',');
            if (text === group) continue;
            if (group !== undefined) {
              const violation = judge(windowStart, time, group);
              if (violation) return violation;
            }
            group = text;
            windowStart = time;
          }
          return undefined;
        },
      };
    },
  };
}

/**
 * Stretches longer than the window between consecutive ok completions of client writes (before
 * the first and after the last included), each with the writes invoked during it: a window of at
 * least windowMs that saw no write complete lies strictly inside one. A healthy cluster completes
 * writes far more often, so nothing is kept for it but the writes since the last completion.
 */
class WriteStalls {
  private lastAnswer = -Infinity;
  /** Writes invoked since the last ok completion, in invocation order. */
  private since: ClientOperation[] = [];
  private readonly stalls: { after: number; before: number; invoked: ClientOperation[] }[] = [];

  constructor(private readonly windowMs: number) {}

  invoked(operation: ClientOperation): void {
    this.since.push(operation);
  }

  /** Completions come in time order. */
  answered(operation: ClientOperation): void {
    const time = operation.completeTime ?? operation.invokeTime;
    if (time - this.lastAnswer > this.windowMs) this.stalls.push({ after: this.lastAnswer, before: time, invoked: this.since });
    this.since = [];
    this.lastAnswer = time;
  }

  /** The stall that [start, end] lies strictly inside (no ok completion in it), if any. */
  containing(start: number, end: number): { readonly invoked: readonly ClientOperation[] } | undefined {
    if (start > this.lastAnswer) return { invoked: this.since };
    return this.stalls.find((s) => s.after < start && end < s.before);
  }
}

/** The group of up nodes that is a clique, isolated from other up nodes, and (without its damaged nodes) a majority of every configuration. */
function stableGroup(status: ClusterStatus, configs: readonly (readonly NodeId[])[], damaged: ReadonlySet<NodeId>): NodeId[] | undefined {
  if (status.impaired === true) return undefined;
  const up = [...status.up].sort();
  const links = new Map<NodeId, Set<NodeId>>(up.map((n) => [n, new Set<NodeId>()]));
  for (const [a, b] of status.connected) {
    // Links to a down node do not count: it is not part of any group.
    if (!links.has(a) || !links.has(b)) continue;
    links.get(a)!.add(b);
    links.get(b)!.add(a);
  }
  const done = new Set<NodeId>();
  for (const start of up) {
    if (done.has(start)) continue;
    // The connected component of `start` among up nodes.
    const component: NodeId[] = [];
    const todo = [start];
    done.add(start);
    while (todo.length > 0) {
      const n = todo.pop()!;
      component.push(n);
      for (const m of links.get(n)!) {
        if (!done.has(m)) {
          done.add(m);
          todo.push(m);
        }
      }
    }
    const clique = component.every((n) => links.get(n)!.size === component.length - 1);
    if (!clique) continue;
    if (configs.every((members) => members.filter((m) => component.includes(m) && !damaged.has(m)).length * 2 > members.length)) return component.sort();
  }
  return undefined;
}

export const progressUnderMajority = progressUnderMajorityChecker();
