import type { NodeId, NodeView, Role } from '../src/adapter/contract.ts';
import type { ClientOperation } from '../src/sim/history.ts';
import type { Checker, CheckerDefinition, ClusterInfo, RunRecord, Violation } from './types.ts';
import { Observations, VIEW_COMMIT, VIEW_STATE, membersAtEnd, showTime, undamagedMajority } from './util.ts';

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
 * the deadline is not judged; nor is one that never healed; nor one in which storage faults hit
 * half or more of the configuration at the end (the members the most advanced live node shows,
 * or the initial ones when no view shows members): a node whose disk was corrupted may
 * rightly stay out (fenced until repaired, or stopped for good as etcd does), and the heal does
 * not mend disks.
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
      const advances = new CommitAdvances(bound);
      const writes = new WriteService(bound);
      const damaged = new Set<NodeId>();
      const views = Observations.forRun(cluster);
      // By node slot (Observations.slotOf): its role and term as last noted; while it leads, the
      // term and commit index of its latest view (leaderTerm -1 otherwise).
      const roles: (Role | 'down' | undefined)[] = [];
      const terms: number[] = [];
      const leaderTerm: number[] = [];
      const leaderCommit: number[] = [];
      const note = (slot: number, node: NodeId, role: Role | 'down', term: number, time: number) => {
        if (roles[slot] === role && terms[slot] === term) return;
        roles[slot] = role;
        terms[slot] = term;
        changes.push({ time, node, role, term });
      };
      const look = (node: NodeId, view: NodeView, time: number, slot: number): undefined => {
        note(slot, node, view.role, view.term, time);
        if (view.role === 'leader' && view.commitIndex !== undefined) {
          if (leaderTerm[slot] === view.term && view.commitIndex > leaderCommit[slot]!) advances.note(time);
          leaderTerm[slot] = view.term;
          leaderCommit[slot] = view.commitIndex;
        } else {
          leaderTerm[slot] = -1;
        }
        return undefined;
      };
      return {
        // Role, term and a leader's commit index are all it follows.
        afterStep: views.stepHook(look, VIEW_STATE | VIEW_COMMIT),
        onRestart: (node, view, time) => look(node, view, time, views.slotOf(node)),
        onInvoke(operation) {
          if (operation.op.type !== 'get') writes.invoked(operation);
        },
        onOperationOk(operation) {
          if (operation.op.type !== 'get') writes.answered(operation);
        },
        onCrash(node, time) {
          const slot = views.slotOf(node);
          note(slot, node, 'down', terms[slot] ?? 0, time);
          leaderTerm[slot] = -1;
        },
        onStorageFault(node) {
          damaged.add(node);
        },
        finish(record: RunRecord): Violation | undefined {
          const healedAt = record.healedAt;
          if (healedAt === undefined) return undefined;
          const deadline = healedAt + bound;
          if (record.endTime < deadline) return undefined;
          if (!undamagedMajority(membersAtEnd(record) ?? cluster.initialMembers, damaged)) return undefined;
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
          const committed = advances.someIn(healedAt, deadline) || writes.servedWithinBound(healedAt);
          if (committed) return undefined;
          const demand = writes.slowlyServedInvokedIn(healedAt, deadline - bound / 2);
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

/**
 * Whether some leader's commitIndex rose in a span (from, from + bound], without keeping every
 * advance: only the first and last, and the gaps between consecutive advances longer than the
 * bound (a span with none lies inside one of them), which a healthy cluster never leaves.
 */
class CommitAdvances {
  private first: number | undefined;
  private last = -Infinity;
  private readonly gaps: { after: number; before: number }[] = [];

  constructor(private readonly bound: number) {}

  /** Times come in order. */
  note(time: number): void {
    this.first ??= time;
    if (time - this.last > this.bound) this.gaps.push({ after: this.last, before: time });
    this.last = time;
  }

  /** Some advance at a time t with from < t <= to, where to - from is the bound. */
  someIn(from: number, to: number): boolean {
    if (this.first === undefined || this.first > to || this.last <= from) return false;
    return !this.gaps.some((g) => g.after <= from && g.before > to);
  }
}

/**
 * Client writes, as much as the liveness judgement needs without the whole history. For a time h,
 * first(h) is the earliest completion of an ok write invoked at or after h: a non-decreasing step
 * function, built as ok writes complete (in time order) and final for every h up to the latest
 * invocation among them; only its steps where first(h) may exceed h + bound are kept. And, for
 * the message, the writes that may be the demand of a span that saw no write commit: those not
 * served (first of their invocation time) within half the bound; a healthy cluster keeps none.
 */
class WriteService {
  /** The latest invocation time among writes that completed ok. */
  private served = -Infinity;
  private readonly slowSteps: { after: number; upTo: number; firstAnswer: number }[] = [];
  /** Writes invoked after `served`, in invocation order: not served yet. */
  private waiting: ClientOperation[] = [];
  /** Writes that were served late, in invocation order. */
  private readonly slow: ClientOperation[] = [];

  constructor(private readonly bound: number) {}

  invoked(operation: ClientOperation): void {
    // One already served: an ok write invoked at or after it has completed, by now.
    if (operation.invokeTime > this.served) this.waiting.push(operation);
  }

  answered(operation: ClientOperation): void {
    const invoked = operation.invokeTime;
    if (invoked <= this.served) return;
    const answer = operation.completeTime ?? invoked;
    // For every h in (served, invoked], first(h) = answer: ok writes completed before had earlier invocations, later ones complete later.
    if (answer - this.bound > this.served) this.slowSteps.push({ after: this.served, upTo: invoked, firstAnswer: answer });
    let now = 0;
    for (; now < this.waiting.length && this.waiting[now]!.invokeTime <= invoked; now++) {
      const w = this.waiting[now]!;
      if (answer - w.invokeTime > this.bound / 2) this.slow.push(w);
    }
    this.waiting = this.waiting.slice(now);
    this.served = invoked;
  }

  /** Whether an ok write invoked at or after `from` completed by from + bound: first(from) <= from + bound. */
  servedWithinBound(from: number): boolean {
    if (from > this.served) return false;
    // Outside the kept steps first(from) - bound <= the step's start < from.
    const step = this.slowSteps.find((s) => s.after < from && from <= s.upTo);
    return step === undefined || step.firstAnswer <= from + this.bound;
  }

  /**
   * The writes invoked in [from, to], in invocation order, when no ok write invoked at or after
   * `from` completed by from + bound (to being at most from + bound / 2): each was then served
   * later than half the bound after its call, so it was kept.
   */
  slowlyServedInvokedIn(from: number, to: number): ClientOperation[] {
    return [...this.slow, ...this.waiting].filter((w) => w.invokeTime >= from && w.invokeTime <= to);
  }
}

export const livenessAfterHeal = livenessAfterHealChecker();
