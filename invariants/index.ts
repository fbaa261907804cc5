import { catchUp } from './catch-up.ts';
import { committedPrefix } from './committed-prefix.ts';
import { committedQuorum } from './committed-quorum.ts';
import { configAfterTermCommit } from './config-after-term-commit.ts';
import { currentTermCommit } from './current-term-commit.ts';
import { durability } from './durability.ts';
import { electionQuorum } from './election-quorum.ts';
import { electionSafety } from './election-safety.ts';
import { leaderAppendOnly } from './leader-append-only.ts';
import { leaderCompleteness } from './leader-completeness.ts';
import { linearizability } from './linearizability.ts';
import { leadershipStability } from './leadership-stability.ts';
import { livenessAfterHeal } from './liveness-after-heal.ts';
import { logMatching } from './log-matching.ts';
import { monotonicity } from './monotonicity.ts';
import { oneVotePerTerm } from './one-vote-per-term.ts';
import { progressUnderMajority } from './progress-under-majority.ts';
import { stateMachineSafety } from './state-machine-safety.ts';
import type { CheckerDefinition } from './types.ts';

export { catchUp, catchUpChecker } from './catch-up.ts';
export { committedPrefix } from './committed-prefix.ts';
export { committedQuorum } from './committed-quorum.ts';
export { configAfterTermCommit } from './config-after-term-commit.ts';
export { currentTermCommit, smallestJointQuorum } from './current-term-commit.ts';
export { durability } from './durability.ts';
export { electionQuorum } from './election-quorum.ts';
export { electionSafety } from './election-safety.ts';
export { leaderAppendOnly } from './leader-append-only.ts';
export { leaderCompleteness } from './leader-completeness.ts';
export { checkLinearizable, linearizability, type LinearizabilityResult, type HistoryOperation } from './linearizability.ts';
export { leadershipStability, leadershipStabilityChecker } from './leadership-stability.ts';
export { livenessAfterHeal, livenessAfterHealChecker } from './liveness-after-heal.ts';
export { logMatching } from './log-matching.ts';
export { monotonicity } from './monotonicity.ts';
export { oneVotePerTerm } from './one-vote-per-term.ts';
export { progressUnderMajority, progressUnderMajorityChecker } from './progress-under-majority.ts';
export { stateMachineSafety } from './state-machine-safety.ts';

/** Checkers that watch every step (cheapest first: a violation stops the run at once). */
export const STEP_CHECKERS: readonly CheckerDefinition[] = [
  electionSafety,
  oneVotePerTerm,
  electionQuorum,
  monotonicity,
  stateMachineSafety,
  leaderAppendOnly,
  committedPrefix,
  currentTermCommit,
  committedQuorum,
  configAfterTermCommit,
  logMatching,
  leaderCompleteness,
  durability,
];

/** Checkers that judge the run at its end. */
export const RUN_CHECKERS: readonly CheckerDefinition[] = [linearizability, livenessAfterHeal, leadershipStability, progressUnderMajority, catchUp];

export const ALL_CHECKERS: readonly CheckerDefinition[] = [...STEP_CHECKERS, ...RUN_CHECKERS];

/** The checker with that kebab-case name, or undefined. */
export function checkerByName(name: string): CheckerDefinition | undefined {
  return ALL_CHECKERS.find((c) => c.name === name);
}
