import { runZoo, ZOO_BUDGET_RUNS, type ZooBugResult } from '../zoo/run.ts';

/**
 * The bug-zoo benchmark: every planted bug of src/raft/bugs.ts hunted with the default scenario's
 * generated plans (no per-bug tuning), on this one thread, up to `budgetRuns` runs per bug (the
 * controls run all of them). Targets: every bug found, median wall
 * time to the first failure <= 1 s, every shrunk plan <= 5 actions, no control flagged.
 * Reports go to reports/zoo/ (replayable with `npm run raftsim -- replay <file>`).
 */
export async function benchZoo(budgetRuns = ZOO_BUDGET_RUNS): Promise<{
  budgetRuns: number;
  wallSeconds: number;
  found: number;
  total: number;
  medianMsToFirstFailure: number | null;
  maxShrunkActions: number | null;
  falsePositives: number;
  bugs: {
    name: string;
    control: boolean;
    found: boolean;
    runsToFirstFailure: number | null;
    msToFirstFailure: number | null;
    check: string | null;
    shrunkActions: number | null;
    replay: string | null;
  }[];
}> {
  const result = runZoo({ budgetRuns, reportsDir: 'reports/zoo' });
  const round = (x: number | null): number | null => (x === null ? null : Math.round(x));
  return {
    budgetRuns,
    wallSeconds: Math.round(result.wallMs / 1000),
    found: result.found,
    total: result.total,
    medianMsToFirstFailure: round(result.medianMsToFirstFailure),
    maxShrunkActions: result.maxShrunkActions,
    falsePositives: result.falsePositives.length,
    bugs: result.bugs.map((r: ZooBugResult) => ({
      name: r.name,
      control: r.control,
      found: r.flagged,
      runsToFirstFailure: r.runsToFirstFailure,
      msToFirstFailure: round(r.msToFirstFailure),
      check: r.invariant,
      shrunkActions: r.shrunkActions,
      replay: r.replay,
    })),
  };
}
