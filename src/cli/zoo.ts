import { InputError } from '../adapter/load.ts';
import { BUG_NAMES } from '../raft/bugs.ts';
import { summarizeZoo, zooBugNames, ZOO_DEFAULT_RUNS, type HuntOptions, type ZooBugResult, type ZooResult } from '../zoo/run.ts';
import { parsePositiveInt, parseSeed } from './args.ts';
import { TaskRunner } from './task-runner.ts';

export interface ZooCommandOptions {
  json?: boolean;
  budgetRuns?: string;
  seed?: string;
  shrinkRuns?: string;
  reportsDir?: string;
  bug?: string[];
  workers?: string;
}

/**
 * `raftsim zoo`: hunts every planted bug of the reference Raft (src/raft/bugs.ts) with the default
 * scenario's generated plans and every checker, and runs the controls, one bug per worker
 * (--workers). Exit 0 when every bug was found and no control flagged, 1 otherwise, 2 on a usage
 * error.
 */
export async function zooCommand(options: ZooCommandOptions): Promise<number> {
  const budgetRuns = options.budgetRuns !== undefined ? parsePositiveInt(options.budgetRuns, '--budget-runs', 1_000_000) : ZOO_DEFAULT_RUNS;
  const seed = parseSeed(options.seed ?? '1');
  const shrinkRuns = options.shrinkRuns !== undefined ? parsePositiveInt(options.shrinkRuns, '--shrink-runs') : 400;
  const only = options.bug && options.bug.length > 0 ? options.bug : undefined;
  for (const name of only ?? []) {
    if (!(BUG_NAMES as readonly string[]).includes(name)) throw new InputError(`--bug: unknown bug "${name}"; known: ${BUG_NAMES.join(', ')}`);
  }
  const workers = options.workers !== undefined ? parsePositiveInt(options.workers, '--workers', 256) : 1;
  const live = !options.json && process.stderr.isTTY === true;
  const hunt: HuntOptions = { budgetRuns, seed, shrinkRuns, reportsDir: options.reportsDir ?? 'reports' };
  // Each bug's hunt is a task of its own (one after the other with one worker); results are kept in zoo order.
  const names = zooBugNames({ only });
  const results: ZooBugResult[] = new Array(names.length);
  const started = performance.now();
  const runner = new TaskRunner(workers);
  try {
    let next = 0;
    await runner.run(
      () => (next < names.length ? { type: 'hunt', bug: names[next]!, index: next++, options: hunt } : undefined),
      () => true,
      (done) => {
        if (done.type !== 'hunt') return;
        const r = (results[done.index] = done.result);
        if (live) process.stderr.write(`zoo: ${r.name}: ${r.flagged ? `${r.control ? 'FLAGGED' : 'found'} after ${r.runsToFirstFailure} run(s)` : r.control ? 'clean' : 'missed'}\n`);
      },
    );
  } finally {
    await runner.close();
  }
  const result = summarizeZoo(results, hunt, performance.now() - started);
  if (options.json) process.stdout.write(JSON.stringify(result) + '\n');
  else console.log(formatZoo(result).join('\n'));
  return result.missed.length === 0 && result.falsePositives.length === 0 ? 0 : 1;
}

export function formatZoo(result: ZooResult): string[] {
  const rows: string[][] = [['bug', 'result', 'runs', 'wall', 'check', 'shrunk', 'replay']];
  for (const r of result.bugs) rows.push(row(r));
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = [`raftsim zoo — default scenario, generated plans, every checker; budget ${result.budgetRuns} run(s) per bug from seed ${result.seed}`, ''];
  for (const r of rows) lines.push(r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
  lines.push('');
  const ms = result.medianMsToFirstFailure;
  lines.push(`found ${result.found}/${result.total} bugs; median time to first failure ${ms === null ? '-' : `${ms.toFixed(0)} ms`} (${result.medianRunsToFirstFailure ?? '-'} run(s)); largest shrunk plan ${result.maxShrunkActions ?? '-'} action(s); false positives ${result.falsePositives.length}; wall ${(result.wallMs / 1000).toFixed(1)} s`);
  if (result.missed.length > 0) lines.push(`MISSED: ${result.missed.join(', ')}`);
  if (result.falsePositives.length > 0) lines.push(`FALSE POSITIVES (controls flagged — a framework bug): ${result.falsePositives.join(', ')}`);
  return lines;
}

function row(r: ZooBugResult): string[] {
  const name = r.control ? `${r.name} (control)` : r.name;
  if (!r.flagged) return [name, r.control ? 'clean' : 'MISSED', String(r.runs), `${(r.huntMs / 1000).toFixed(2)} s`, '-', '-', '-'];
  return [
    name,
    r.control ? 'FLAGGED' : 'found',
    String(r.runsToFirstFailure),
    `${((r.msToFirstFailure ?? 0) / 1000).toFixed(2)} s`,
    r.invariant ?? '-',
    r.shrunkActions === null ? '-' : `${r.shrunkActions} (from ${r.originalActions})`,
    r.replay ?? '-',
  ];
}
