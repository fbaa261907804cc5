import type { NodeId, NodeView } from '../src/adapter/contract.ts';
import { MembershipWatch, quorumAsked } from './current-term-commit.ts';
import type { Checker, CheckerDefinition, ClusterInfo, Violation } from './types.ts';
import { Observations, VIEW_MEMBERS, VIEW_STATE, sameMembers, showTime } from './util.ts';

/** Vote records are pruned once this many terms are held. */
const PRUNE_AT_TERMS = 64;

/**
 * Election Quorum (Raft §5.2): a candidate becomes leader of term T only once a quorum of its
 * configuration has voted for it in T. A vote is what a voter's view shows: term T and votedFor
 * the candidate, which a correct voter persists and shows in the step in which it grants the
 * vote, before the candidate can count it. So when a node first shows itself leader of T, every
 * vote it may count has been seen. Flagged at that step: a grant counted twice, one of an older
 * term, a pre-vote counted as a vote, a vote from outside the configuration — before (and
 * whether or not) a second leader of the term, or a lost entry, ever follows.
 *
 * The new leader's own vote counts unless its view showed a vote for another node in that term:
 * an implementation may count a candidate's vote for itself without showing it in votedFor.
 *
 * The configuration is the one the new leader campaigned with: the members of its view before it
 * won (the cluster's initial members when views expose none). The quorum is a majority, except where a view may list both halves of a joint
 * configuration (see quorumAsked): once membership has changed, unless the view says it is not
 * joint (NodeView.joint === false).
 */
export const electionQuorum: CheckerDefinition = {
  name: 'election-quorum',
  description: 'a node becomes leader of a term only once a quorum of its configuration has voted for it in that term',
  scope: 'step',
  needs: ['votedFor'],
  create(cluster: ClusterInfo): Checker {
    const views = Observations.forRun(cluster);
    /** Term → candidate → the voters seen voting for it in that term. */
    const votes = new Map<number, Map<NodeId, Set<NodeId>>>();
    /** By slot: the latest term seen, and the term the node was last seen leading (undefined: not leading). */
    const latestTerm: number[] = [];
    const ledTerm: (number | undefined)[] = [];
    /** By slot: the configuration of the node's previous view in this incarnation (the one it campaigned with, at an election). */
    const campaignMembers: (readonly NodeId[] | undefined)[] = [];
    const campaignJoint: (boolean | undefined)[] = [];
    const membership = new MembershipWatch();

    const record = (voter: NodeId, term: number, candidate: NodeId): void => {
      let byCandidate = votes.get(term);
      if (!byCandidate) {
        votes.set(term, (byCandidate = new Map()));
        if (votes.size > PRUNE_AT_TERMS) prune();
      }
      let voters = byCandidate.get(candidate);
      if (!voters) byCandidate.set(candidate, (voters = new Set()));
      voters.add(voter);
    };

    /** A node leads only a term it is in, and a node's term never goes back: votes of terms below every node's latest are never counted again. */
    const prune = (): void => {
      let low = Infinity;
      for (let slot = 0; slot < cluster.nodes.length; slot++) low = Math.min(low, latestTerm[slot] ?? 0);
      for (const term of votes.keys()) if (term < low) votes.delete(term);
    };

    const look = (node: NodeId, view: NodeView, time: number, slot: number): Violation | undefined => {
      latestTerm[slot] = view.term;
      membership.note(view.members);
      if (typeof view.votedFor === 'string') record(node, view.term, view.votedFor);
      const violation = judge(node, view, time, slot);
      // Copied only when it changed: an implementation may hand out one list that it changes in place.
      if (!sameMembers(campaignMembers[slot], view.members)) campaignMembers[slot] = view.members && [...view.members];
      campaignJoint[slot] = view.joint;
      return violation;
    };

    const judge = (node: NodeId, view: NodeView, time: number, slot: number): Violation | undefined => {
      if (view.role !== 'leader') {
        ledTerm[slot] = undefined;
        return undefined;
      }
      if (ledTerm[slot] === view.term) return undefined;
      ledTerm[slot] = view.term;
      // The configuration it campaigned with: a new leader may append a configuration entry in the very step it wins.
      const campaigned = campaignMembers[slot];
      const members = campaigned ?? view.members ?? cluster.initialMembers;
      const joint = campaigned ? campaignJoint[slot] : view.joint;
      const byCandidate = votes.get(view.term);
      const supporters = new Set(byCandidate?.get(node));
      // A candidate votes for itself; an implementation may count that vote without showing it in votedFor.
      let votedElsewhere = false;
      for (const [candidate, voters] of byCandidate ?? []) if (candidate !== node && voters.has(node)) votedElsewhere = true;
      if (!votedElsewhere) supporters.add(node);
      const voters = [...supporters].filter((v) => members.includes(v)).sort();
      const needed = quorumAsked(members.length, membership.changed, joint);
      if (voters.length >= needed) return undefined;
      return {
        invariant: 'election-quorum',
        message:
          `${node} became leader of term ${view.term} at ${showTime(time)} with the votes of ${voters.length > 0 ? voters.join(',') : 'no one'} in that term: ` +
          `${voters.length} of its ${members.length} members (${members.join(',')}), where ${needed} are needed (§5.2) — ` +
          `a grant counted twice, one of an older term, a pre-vote, or a vote from outside the configuration`,
      };
    };

    return {
      // Votes, roles and terms change with VIEW_STATE; the configuration with VIEW_MEMBERS.
      afterStep: views.stepHook(look, VIEW_STATE | VIEW_MEMBERS),
      onCrash(node) {
        views.forget(node);
        const slot = views.slotOf(node);
        ledTerm[slot] = undefined;
        campaignMembers[slot] = undefined;
      },
      onRestart: (node, view, time) => look(node, view, time, views.slotOf(node)),
    };
  },
};
