import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { benchLinearizability, type CheckerBench } from './checkers.ts';
import { runInChild } from './child.ts';
import { benchEngine } from './engine.ts';
import { benchMemory, type benchRaft } from './raft.ts';
import { benchZoo } from './zoo.ts';

/**
 * `npm run bench`: every benchmark one after the other, gathered into reports/bench.json; the
 * reference's speed, the checkers' overhead and memory each in a child process of their own
 * (runInChild). Figures are ratios measured in the same run wherever possible, because
 * the machines are shared and noisy.
 */
const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

log('engine (no-op messages among 5 nodes vs a bare loop over the same heap)…');
const engine = benchEngine();
log('reference Raft, default scenario, every checker on vs off (a child process)…');
const { raft, overheadRatio } = runInChild<ReturnType<typeof benchRaft>>(`import { benchRaft } from './src/bench/raft.ts'; console.log(JSON.stringify(benchRaft()));`);
log('step checkers on a 10,000-entry log (a child process)…');
const tenThousand = runInChild<CheckerBench>(`import { benchCheckers } from './src/bench/checkers.ts'; console.log(JSON.stringify(await benchCheckers()));`);
log('linearizability…');
const linearizability = benchLinearizability();
log('bug zoo: every planted bug hunted with the default generator (minutes)…');
const zoo = await benchZoo();
log('memory of long runs (child processes)…');
const memory = benchMemory();

const result = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
  version: (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
  engine,
  raft,
  checkers: {
    overheadRatio,
    tenThousandEntryLogOverheadRatio: Number(tenThousand.overheadRatio.toFixed(3)),
    tenThousandEntryLogPerStepMicros: tenThousand.perStepMicros,
    syntheticStepOverheadRatio: Number(tenThousand.syntheticStepOverheadRatio.toFixed(3)),
  },
  linearizability,
  zoo,
  memory,
};

mkdirSync('reports', { recursive: true });
writeFileSync('reports/bench.json', JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
