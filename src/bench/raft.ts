import { ALL_CHECKERS } from '../../invariants/index.ts';
import { defaultScenario } from '../../scenarios/default.ts';
import { generatePlan } from '../faults/generate.ts';
import { createRaft, knobs } from '../raft/index.ts';
import { campaignSeeds, runScenario, type RunSettings } from '../runner.ts';
import { runInChild } from './child.ts';
import { median } from './median.ts';

export interface RaftBench {
  runs: number;
  runsPerSec: number;
  /** Virtual time simulated per unit of wall time, all checkers on, one core. */
  simToWallRatio: number;
  eventsPerSec: number;
}

function campaign(runs: number, checkersOn: boolean): { ms: number; virtualMs: number; events: number } {
  const settings: RunSettings = { factory: createRaft, knobs, checkers: checkersOn ? ALL_CHECKERS : [], generatePlan };
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

/**
 * The default scenario, full stack, every checker on; and the checkers' share of that cost: on
 * and off alternate over the same seeds (the order flips each round) and the median of the
 * rounds' ratios is kept, the machine being shared and noisy. The speed is that of a campaign
 * past its start, as a long campaign spends nearly all its time: runs 30 to 230 of a process
 * measured 15–20% slower than the runs after them (the JIT and the heap settle), so `warmUp` runs
 * of each go first, unmeasured.
 */
export function benchRaft(runs = 200, rounds = 5, warmUp = 300): { raft: RaftBench; overheadRatio: number } {
  campaign(warmUp, true);
  campaign(warmUp, false);
  const ratios: number[] = [];
  let on = campaign(runs, true);
  let off = campaign(runs, false);
  ratios.push(on.ms / off.ms);
  for (let r = 1; r < rounds; r++) {
    const first = r % 2 === 1 ? campaign(runs, false) : campaign(runs, true);
    const second = r % 2 === 1 ? campaign(runs, true) : campaign(runs, false);
    const [a, b] = r % 2 === 1 ? [second, first] : [first, second];
    ratios.push(a.ms / b.ms);
    if (a.ms < on.ms) on = a;
    if (b.ms < off.ms) off = b;
  }
  return {
    raft: {
      runs,
      runsPerSec: Number((runs / (on.ms / 1000)).toFixed(1)),
      simToWallRatio: Math.round(on.virtualMs / on.ms),
      eventsPerSec: Math.round(on.events / (on.ms / 1000)),
    },
    overheadRatio: Number(median(ratios).toFixed(3)),
  };
}

/**
 * Memory of one long run of the default cluster, measured in a fresh child process so that
 * nothing else shares its heap: the peak resident set, and the heap after a full GC at the end of
 * the run with everything it holds alive (engine, nodes, checkers' records). Runs of 10 minutes,
 * 1 hour and 2 hours of virtual time: heap growth ratios near 1 show that what the run keeps does
 * not grow with virtual time. The peak resident set is a sawtooth — garbage piles up in the old
 * generation until V8's next major GC — whose first top comes after about 15 virtual minutes, so
 * the 10-minute peak is lower; flat means the 2-hour peak equals the 1-hour one. The same runs
 * with no checker show how much is the simulation's and the implementation's own.
 */
export function benchMemory(): {
  oneHourVirtualPeakMB: number;
  tenMinutesVirtualPeakMB: number;
  twoHoursVirtualPeakMB: number;
  /** Peak resident set at 2 h over that at 1 h. */
  peakGrowthRatio: number;
  oneHourVirtualHeapAfterGcMB: number;
  tenMinutesVirtualHeapAfterGcMB: number;
  twoHoursVirtualHeapAfterGcMB: number;
  /** Heap after GC at 1 h over that at 10 min. */
  heapGrowthRatio: number;
  /** Heap after GC at 2 h over that at 1 h. */
  heapGrowthRatioTwoHours: number;
  /** Heap after GC at 1 h over that at 10 min, with no checker on. */
  heapGrowthRatioWithoutCheckers: number;
} {
  const measure = (virtualMs: number, checkersOn: boolean): { peakMB: number; heapBytes: number } => {
    const script = `
      import { ALL_CHECKERS } from './invariants/index.ts';
      import { defaultScenario } from './scenarios/default.ts';
      import { generatePlan } from './src/faults/generate.ts';
      import { createRaft } from './src/raft/index.ts';
      import { runScenario } from './src/runner.ts';
      const scenario = { ...defaultScenario, settleMs: ${virtualMs} };
      // Last of the checkers: at the end of the run, with everything the run holds still alive.
      let heap = 0;
      const probe = { name: 'heap-probe', description: 'heap after GC at the end of the run', scope: 'run', needs: [], create: () => ({
        finish() { globalThis.gc(); heap = process.memoryUsage().heapUsed; return undefined; },
      }) };
      const result = runScenario(scenario, 1, { factory: createRaft, checkers: [...(${checkersOn} ? ALL_CHECKERS : []), probe], generatePlan });
      if (result.violation) throw new Error(result.violation.message);
      console.log(JSON.stringify({ maxRSS: process.resourceUsage().maxRSS, heap }));`;
    const figures = runInChild<{ maxRSS: number; heap: number }>(script, ['--expose-gc']);
    return { peakMB: Math.round(figures.maxRSS / 1024), heapBytes: figures.heap };
  };
  const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));
  const ratio = (a: number, b: number) => Number((a / b).toFixed(2));
  const tenMinutes = measure(600_000, true);
  const oneHour = measure(3_600_000, true);
  const twoHours = measure(7_200_000, true);
  const tenMinutesBare = measure(600_000, false);
  const oneHourBare = measure(3_600_000, false);
  return {
    tenMinutesVirtualPeakMB: tenMinutes.peakMB,
    oneHourVirtualPeakMB: oneHour.peakMB,
    twoHoursVirtualPeakMB: twoHours.peakMB,
    peakGrowthRatio: ratio(twoHours.peakMB, oneHour.peakMB),
    tenMinutesVirtualHeapAfterGcMB: mb(tenMinutes.heapBytes),
    oneHourVirtualHeapAfterGcMB: mb(oneHour.heapBytes),
    twoHoursVirtualHeapAfterGcMB: mb(twoHours.heapBytes),
    heapGrowthRatio: ratio(oneHour.heapBytes, tenMinutes.heapBytes),
    heapGrowthRatioTwoHours: ratio(twoHours.heapBytes, oneHour.heapBytes),
    heapGrowthRatioWithoutCheckers: ratio(oneHourBare.heapBytes, tenMinutesBare.heapBytes),
  };
}
