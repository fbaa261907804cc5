// A piscina worker: runs one campaign task (a run, or a shrink and its report) in this thread.
// Plain JavaScript that registers tsx in this thread first: with only `--import tsx` in the
// worker's execArgv, Node 20 loads the worker's static imports but not its dynamic import()s of
// .ts modules (an --impl module, a checker module).
import { register } from 'tsx/esm/api';

register();
const { executeTask } = await import('./campaign.ts');

export default function worker(task) {
  return executeTask(task);
}
