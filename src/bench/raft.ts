import { execFileSync } from 'node:child_process';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import { defaultScenario } from '../../scenarios/default.ts';
import { generatePlan } from '../faults/generate.ts';
import { createRaft } from '../raft/index.ts';
import { campaignSeeds, runScenario, type RunSettings } from '../runner.ts';

export interface RaftBench {
  runs: number;
  runsPerSec: number;
  /** Virtual time simulated per unit of wall time, all checkers on, one core. */
  simToWallRatio: number;
  eventsPerSec: number;
}

function campaign(runs: number, checkersOn: boolean): { ms: number; virtualMs: number; events: number } {
  const settings: RunSettings = { factory: createRaft, checkers: checkersOn ? ALL_CHECKERS : [], generatePlan };
  const started = performance.now();
  let virtualMs = 0;
  let events = 0;
  for (const seed of campaignSeeds(1, runs)) {
    const result = runScenario(defaultScenario, seed, settings);
    virtualMs += result.virtualMs;
    events += result.events;
  }
  return { ms: performance.now() - started, virtualMs, events };
}

/** The default scenario, full stack, every checker on; and the checkers' share of that cost. */
export function benchRaft(runs = 200): { raft: RaftBench; overheadRatio: number } {
  campaign(20, true); // warm up the JIT
  const on = campaign(runs, true);
  const off = campaign(runs, false);
  return {
    raft: {
      runs,
      runsPerSec: Number((runs / (on.ms / 1000)).toFixed(1)),
      simToWallRatio: Math.round(on.virtualMs / on.ms),
      eventsPerSec: Math.round(on.events / (on.ms / 1000)),
    },
    overheadRatio: Number((on.ms / off.ms).toFixed(3)),
  };
}

/**
 * Peak resident memory of one long run of the default cluster, measured in a fresh child
 * process so that nothing else shares its heap. Run for 10 minutes and for an hour of virtual
 * time: equal peaks show that memory does not grow with virtual time.
 */
export function benchMemory(): { oneHourVirtualPeakMB: number; tenMinutesVirtualPeakMB: number } {
  const peak = (virtualMs: number): number => {
    const script = `
      import { ALL_CHECKERS } from './invariants/index.ts';
      import { defaultScenario } from './scenarios/default.ts';
      import { generatePlan } from './src/faults/generate.ts';
      import { createRaft } from './src/raft/index.ts';
      import { runScenario } from './src/runner.ts';
      const scenario = { ...defaultScenario, settleMs: ${virtualMs} };
      const result = runScenario(scenario, 1, { factory: createRaft, checkers: ALL_CHECKERS, generatePlan });
      if (result.violation) throw new Error(result.violation.message);
      console.log(process.resourceUsage().maxRSS);`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 20 });
    return Math.round(Number(out.trim().split('\n').pop()) / 1024);
  };
  return { tenMinutesVirtualPeakMB: peak(600_000), oneHourVirtualPeakMB: peak(3_600_000) };
}
