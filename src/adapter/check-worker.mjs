// Worker thread of `raftsim check-adapter` (src/adapter/check.ts): runs one CheckTask in a fresh
// thread, so module state cannot carry from one conformance run to another, and a hang can be
// ended by terminating the thread. Plain JavaScript that registers tsx first (as src/cli/worker.mjs).
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runCheckTask } = await import('./check-task.ts');
try {
  parentPort.postMessage({ ok: true, results: await runCheckTask(workerData) });
} catch (error) {
  parentPort.postMessage({ ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
}
