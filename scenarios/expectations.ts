import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import type { ClientOperation } from '../src/sim/history.ts';
import type { Checker, CheckerDefinition, RunRecord, Violation } from '../invariants/types.ts';
import { membersAtEnd } from '../invariants/util.ts';

/**
 * What a scenario checks beyond the global invariants. Each expectation is a checker like any
 * other (it sees only the hooks' arguments), built by a small function so a scenario reads as a
 * sentence: `checks: [leaderWithin(5000), writesCommitAfter(3000, 5)]`.
 */

function expectation(name: string, description: string, create: () => Checker, needs: CheckerDefinition['needs'] = []): CheckerDefinition {
  return { name, description, scope: 'run', needs, create };
}

function violation(invariant: string, message: string): Violation {
  return { invariant, message };
}

/** Leaders seen over the run: node, term and when it became leader. */
class LeaderLog {
  readonly elected: { node: NodeId; term: number; time: number }[] = [];
  private readonly current = new Map<NodeId, string>();

  see(node: NodeId, view: NodeView, time: number): void {
    const key = `${view.role}:${view.term}`;
    if (this.current.get(node) === key) return;
    this.current.set(node, key);
    if (view.role === 'leader') this.elected.push({ node, term: view.term, time });
  }

  forget(node: NodeId): void {
    this.current.delete(node);
  }
}

/** A leader is elected within `ms` of virtual time from the start. */
export function leaderWithin(ms: number): CheckerDefinition {
  return expectation('leader-within', `a leader is elected within ${ms} ms`, () => {
    const leaders = new LeaderLog();
    return {
      afterStep: (node, view, time) => void leaders.see(node, view, time),
      finish: () => {
        const first = leaders.elected[0];
        if (!first || first.time > ms) {
          return violation('leader-within', `no leader was elected within ${ms} ms${first ? ` (the first, ${first.node} in term ${first.term}, came at ${first.time.toFixed(0)} ms)` : ''}`);
        }
        return undefined;
      },
    };
  });
}

/** After `at` (a fault that removes the leader), a new leader of a higher term emerges within `withinMs`. */
export function newLeaderAfter(at: number, withinMs: number): CheckerDefinition {
  return expectation('new-leader-after', `a new leader is elected within ${withinMs} ms of ${at} ms`, () => {
    const leaders = new LeaderLog();
    return {
      afterStep: (node, view, time) => void leaders.see(node, view, time),
      onCrash: (node) => leaders.forget(node),
      finish: () => {
        const before = [...leaders.elected].reverse().find((e) => e.time < at);
        const after = leaders.elected.find((e) => e.time >= at && (!before || e.term > before.term));
        if (!after || after.time > at + withinMs) {
          return violation('new-leader-after', `no new leader within ${withinMs} ms after ${at} ms${before ? ` (the leader before was ${before.node}, term ${before.term})` : ''}`);
        }
        return undefined;
      },
    };
  });
}

/** Without faults, the first leader keeps its term to the end: no spurious elections. */
export function stableLeadership(): CheckerDefinition {
  return expectation('stable-leadership', 'with no faults, no election after the first leader', () => {
    const leaders = new LeaderLog();
    return {
      afterStep: (node, view, time) => void leaders.see(node, view, time),
      finish: () => {
        const [first, second] = leaders.elected;
        if (!first) return violation('stable-leadership', 'no leader was ever elected');
        if (second) {
          return violation('stable-leadership', `leader ${first.node} (term ${first.term}) was followed by ${second.node} (term ${second.term}) at ${second.time.toFixed(0)} ms although nothing failed`);
        }
        return undefined;
      },
    };
  });
}

/** At least `count` client writes invoked in [from, to) complete ok. */
export function writesCommitBetween(from: number, to: number, count: number): CheckerDefinition {
  return expectation('writes-commit', `at least ${count} writes invoked between ${from} and ${to} ms commit`, () => {
    let ok = 0;
    return {
      onOperationOk: (op) => {
        if (op.op.type !== 'get' && op.invokeTime >= from && op.invokeTime < to) ok++;
      },
      finish: () => (ok >= count ? undefined : violation('writes-commit', `only ${ok} client write(s) invoked between ${from} and ${to} ms completed ok; expected at least ${count}`)),
    };
  });
}

/** No client write invoked in [from, to) completes before `to`: a minority cannot commit. */
export function noWritesCommitBetween(from: number, to: number): CheckerDefinition {
  return expectation('no-writes-commit', `no write completes between ${from} and ${to} ms (no majority)`, () => {
    /** The first invoked of the offending writes. */
    let committed: ClientOperation | undefined;
    return {
      onOperationOk: (op) => {
        if (op.op.type !== 'get' && op.invokeTime >= from && op.completeTime! < to && (!committed || op.id < committed.id)) committed = op;
      },
      finish: () =>
        committed
          ? violation('no-writes-commit', `write ${committed.client}.${committed.seq} completed at ${committed.completeTime!.toFixed(0)} ms (answered by ${committed.answeredBy}) while no majority could be reached`)
          : undefined,
    };
  });
}

/**
 * At the end every live member of the configuration has applied the same state: followers caught
 * up. A node outside it (never added, or removed) is not judged: no leader replicates to it.
 */
export function converged(): CheckerDefinition {
  return expectation('converged', 'at the end all live members hold the same applied state', () => ({
    finish: (record: RunRecord) => {
      const members = membersAtEnd(record) ?? record.cluster.initialMembers;
      const states = [...record.finalStates].filter(([node]) => members.includes(node));
      const [first, ...rest] = states;
      if (!first) return violation('converged', 'no node was alive at the end');
      for (const [node, state] of rest) {
        if (state.appliedIndex !== first[1].appliedIndex) {
          return violation('converged', `node ${node} applied up to ${state.appliedIndex} but ${first[0]} up to ${first[1].appliedIndex} at the end`);
        }
        if (JSON.stringify(state.entries) !== JSON.stringify(first[1].entries)) {
          return violation('converged', `nodes ${first[0]} and ${node} hold different states at applied index ${state.appliedIndex}`);
        }
      }
      return undefined;
    },
  }));
}

/** Some node installs a snapshot sent by a leader (restore after start-up). */
export function snapshotInstalled(): CheckerDefinition {
  return expectation('snapshot-installed', 'some lagging node installs a snapshot', () => {
    let installed = 0;
    return {
      onRestore: (_node, _index, time) => {
        if (time > 0) installed++;
        return undefined;
      },
      finish: () =>
        installed > 0
          ? undefined
          : violation('snapshot-installed', 'no node installed a snapshot, so InstallSnapshot was never exercised (this scenario is for implementations that compact their log; one without snapshots cannot pass it)'),
    };
  });
}

/**
 * At the end the live members' configuration is exactly `members`, the plan's last change — or,
 * when the implementation refused changes, the one it last accepted (the initial members if
 * none): refusing is its right (single-server changes only, one at a time), and a refused change
 * must leave the configuration as it was.
 */
export function finalMembers(members: readonly NodeId[]): CheckerDefinition {
  const show = (list: readonly NodeId[]) => [...list].sort().join(',');
  return expectation(
    'final-members',
    `the configuration ends as ${show(members)} (or as the last change the implementation accepted)`,
    () => ({
      finish: (record: RunRecord) => {
        const lastAccepted = record.membershipChanges.filter((change) => change.accepted).at(-1);
        const target = lastAccepted?.members ?? record.cluster.initialMembers;
        const expected = show(target);
        const why = lastAccepted === undefined ? ' (the implementation refused every change: the initial configuration)' : show(lastAccepted.members) === show(members) ? '' : ` (the last change the implementation accepted, at ${lastAccepted.time.toFixed(1)} ms)`;
        for (const [node, view] of record.finalViews) {
          if (!target.includes(node) || !view.members) continue;
          const got = show(view.members);
          if (got !== expected) return violation('final-members', `node ${node} ends with members ${got}; expected ${expected}${why}`);
        }
        return undefined;
      },
    }),
    ['membership', 'members'],
  );
}

/** At `at + withinMs`, the leader of the highest term is `node` (it became leader, or already was). */
export function leaderBy(node: NodeId, at: number, withinMs: number): CheckerDefinition {
  const deadline = at + withinMs;
  return expectation('leader-by', `${node} leads by ${deadline} ms`, () => {
    const leaders = new LeaderLog();
    return {
      afterStep: (n, view, time) => void leaders.see(n, view, time),
      finish: () => {
        const latest = leaders.elected.filter((e) => e.time <= deadline).reduce<(typeof leaders.elected)[number] | undefined>((best, e) => (!best || e.term >= best.term ? e : best), undefined);
        if (latest?.node !== node) {
          return violation('leader-by', `${node} was not the leader at ${deadline} ms${latest ? `; ${latest.node} led term ${latest.term} since ${latest.time.toFixed(0)} ms` : ''}`);
        }
        return undefined;
      },
    };
  }, ['transfer']);
}

