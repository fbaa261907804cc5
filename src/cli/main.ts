import { Command, CommanderError } from 'commander';
import { InputError } from '../adapter/load.ts';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { checkAdapterCommand } from './check-adapter.ts';
import { replayCommandMain } from './replay.ts';
import { runCommand } from './run.ts';
import { zooCommand } from './zoo.ts';

/** Exit codes: 0 clean, 1 a violation was found, 2 a usage or input error. */
async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('raftsim')
    .description('Deterministic fault-injection testing for Raft implementations')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  let exitCode = 0;
  program
    .command('run')
    .description('run a scenario for N seeds derived from one; exit 1 if any run violates an invariant')
    .option('-s, --scenario <name|file.json>', 'a named scenario (see "raftsim list") or a scenario file', 'default')
    .option('--seed <n>', 'base seed; the same seed and --runs always mean the same runs', '1')
    .option('-n, --runs <n>', 'number of runs (seeds); default 1000, or unbounded with --time-budget')
    .option('--impl <module>', 'a module exporting a RaftFactory (default export or "createRaft"); default: the reference Raft')
    .option('--json', 'print exactly one JSON object on stdout')
    .option('-w, --workers <k>', 'worker threads to spread the runs over (results do not depend on it)', '1')
    .option('--shard <i/n>', 'run only run indexes k with k mod n = i-1 (one CI job of n)')
    .option('--time-budget <duration>', 'run seeds until this much wall time has passed (e.g. 60s, 5m)')
    .option('--reports-dir <dir>', 'where failing runs write <scenario>-<seed>.json and .html', 'reports')
    .option('--max-reports <n>', 'shrink and report at most this many failing runs (first in run order)', '3')
    .option('--shrink-runs <n>', 'simulation runs one shrink may spend', '400')
    .option('--checkers <module>', 'a module exporting CHECKERS (CheckerDefinition[]) instead of the built-in invariants')
    .option('--skip-checkers <names>', 'leave these checkers out (comma-separated names, e.g. catch-up,leadership-stability)')
    .option('--impl-options <json>', 'implementation options (JSON object) merged over the scenario\'s')
    .option('--run-timeout <duration>', 'wall clock a run (or a shrink) may take in worker threads before it is a "hang" finding; --impl and --workers > 1 run there (default 60s)')
    .option('--no-progress', 'no progress bar (there is none anyway when stderr is not a TTY or CI is set)')
    .action(async (options) => {
      exitCode = await runCommand(options);
    });

  program
    .command('replay')
    .description('re-run a report\'s shrunk plan, check its trace hash, print the trace; exit 0 if it reproduces, 1 if not')
    .argument('<report>', 'a report written by "raftsim run" (reports/<scenario>-<seed>.json)')
    .option('-v, --verbose', 'print every trace event, not only state changes, faults, client operations and the violation')
    .option('--html', 'redraw the HTML timeline beside the report')
    .option('--impl <module>', 'replay against this implementation module instead of the report\'s')
    .option('--json', 'print one JSON object (hashes, whether it reproduced) instead of the trace')
    .action(async (report: string, options) => {
      exitCode = await replayCommandMain(report, options);
    });

  program
    .command('check-adapter')
    .description('conformance run of an implementation module: deterministic, no wall clock or global randomness, messages never mutated, inspect() consistent; exit 0 if it conforms, 1 on a finding')
    .argument('<module>', 'a module exporting a RaftFactory (default export or "createRaft")')
    .option('-s, --scenario <name|file.json>', 'the scenario to run', 'default')
    .option('--seed <n>', 'base seed', '1')
    .option('-n, --runs <n>', 'number of seeds', '3')
    .option('--timeout <s>', 'wall-clock seconds for all runs of one thread before the adapter counts as hung', '300')
    .option('--json', 'print one JSON object')
    .action(async (module: string, options) => {
      exitCode = await checkAdapterCommand(module, options);
    });

  program
    .command('zoo')
    .description('hunt the bugs planted in the reference Raft (src/raft/bugs.ts) with the default scenario; exit 1 if a bug is missed or a control flagged')
    .option('--json', 'print exactly one JSON object on stdout')
    .option('--budget-runs <n>', 'runs per bug before it counts as missed (controls run all of them); default 1000')
    .option('--seed <n>', 'base seed; run i of each hunt uses the campaign seed of (seed, i)', '1')
    .option('--shrink-runs <n>', 'simulation runs one shrink may spend', '400')
    .option('--reports-dir <dir>', 'where the shrunk failures are written (zoo-<bug>-<seed>.json and .html)', 'reports')
    .option('--bug <name...>', 'only these bugs')
    .option('-w, --workers <k>', 'worker threads, each hunting one bug at a time (results do not depend on it; wall times do)', '1')
    .action(async (options) => {
      exitCode = await zooCommand(options);
    });

  program
    .command('checkers')
    .description('list the built-in checkers: name, when they judge, what they need from a view (the names --skip-checkers takes)')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => {
      const rows = ALL_CHECKERS.map(({ name, scope, needs, description }) => ({ name, scope, needs: [...needs], description }));
      if (options.json) {
        console.log(JSON.stringify(rows));
        return;
      }
      const width = Math.max(...rows.map((r) => r.name.length));
      for (const r of rows) console.log(`${r.name.padEnd(width)}  ${r.scope === 'step' ? 'every step' : 'end of run'}  ${r.description}${r.needs.length > 0 ? ` (needs ${r.needs.join(', ')})` : ''}`);
    });

  program
    .command('list')
    .description('list the named scenarios')
    .option('--json', 'print JSON')
    .option('--names', 'print only the names, one a line (for scripts)')
    .action((options: { json?: boolean; names?: boolean }) => {
      if (options.names) {
        for (const s of SCENARIOS) console.log(s.name);
        return;
      }
      if (options.json) {
        console.log(JSON.stringify(SCENARIOS.map(({ name, description }) => ({ name, description }))));
        return;
      }
      const width = Math.max(...SCENARIOS.map((s) => s.name.length));
      for (const s of SCENARIOS) console.log(`${s.name.padEnd(width)}  ${s.description}`);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof InputError) {
      process.stderr.write(`raftsim: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

// A reader that stops early (`raftsim list | head`) closes the pipe: stop quietly, as Unix tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2));
