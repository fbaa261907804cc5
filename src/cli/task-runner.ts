import { Piscina } from 'piscina';
import { executeTask, type Task, type TaskResult } from './campaign.ts';

/**
 * What a task that ran past its wall-clock limit stands for: a run whose implementation never
 * returned is a 'hang' finding with its seed; a shrink that did not finish leaves no report.
 */
function timedOut(task: Task, limitMs: number): TaskResult {
  if (task.type === 'hunt') throw new Error(`zoo: the hunt of ${task.bug} did not finish within ${limitMs / 1000} s`);
  if (task.type === 'report') return { type: 'report', index: task.index, report: null };
  const message =
    `the run did not finish within ${limitMs / 1000} s of wall time: a call into the implementation that never returns (an endless loop?), ` +
    `or an implementation far slower than that; run the seed alone with --seed ${task.seed} --runs 1, or allow more with --run-timeout`;
  return { type: 'run', index: task.index, summary: { seed: task.seed, traceHash: '', events: 0, virtualMs: 0, violation: { invariant: 'hang', message } } };
}

/**
 * Runs tasks with `workers` threads, calling `onResult` as each finishes. With one worker and no
 * `isolate`, tasks run in this thread; otherwise in worker threads, where `taskTimeoutMs` (wall
 * clock) ends a task that does not finish by terminating its thread — synchronous code that never
 * returns cannot be stopped any other way.
 */
export class TaskRunner {
  private pool: Piscina | undefined;
  private readonly taskTimeoutMs: number | undefined;

  constructor(
    readonly workers: number,
    options: { readonly isolate?: boolean; readonly taskTimeoutMs?: number } = {},
  ) {
    this.taskTimeoutMs = options.taskTimeoutMs;
    if (workers > 1 || options.isolate) {
      this.pool = new Piscina({
        // worker.mjs registers tsx in its own thread, whatever started this process.
        filename: new URL('./worker.mjs', import.meta.url).href,
        minThreads: workers,
        maxThreads: workers,
      });
    }
  }

  /** One task on the pool, ended after taskTimeoutMs. */
  private async runOnPool(pool: Piscina, task: Task): Promise<TaskResult> {
    const limit = this.taskTimeoutMs;
    if (limit === undefined) return (await pool.run(task)) as TaskResult;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), limit);
    try {
      return (await pool.run(task, { signal: abort.signal })) as TaskResult;
    } catch (error) {
      if (abort.signal.aborted) return timedOut(task, limit);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Pulls tasks from `next` until it returns undefined or `more()` is false, with at most
   * 2 × workers tasks in flight (workers with a time limit); resolves when all started tasks have finished.
   */
  async run(next: () => Task | undefined, more: () => boolean, onResult: (result: TaskResult) => void): Promise<void> {
    if (!this.pool) {
      for (let task = more() ? next() : undefined; task !== undefined; task = more() ? next() : undefined) {
        onResult(await executeTask(task));
        // Let a progress bar and timers breathe between runs.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return;
    }
    const pool = this.pool;
    // Two tasks a worker keep the threads busy; with a time limit, one, so that no task's clock runs while it waits in the queue.
    const window = this.taskTimeoutMs === undefined ? this.workers * 2 : this.workers;
    await new Promise<void>((resolve, reject) => {
      let inFlight = 0;
      let exhausted = false;
      let failed = false;
      const pump = (): void => {
        while (!failed && !exhausted && inFlight < window) {
          const task = more() ? next() : undefined;
          if (task === undefined) {
            exhausted = true;
            break;
          }
          inFlight++;
          this.runOnPool(pool, task).then(
            (result) => {
              inFlight--;
              if (failed) return;
              onResult(result);
              pump();
            },
            (error: unknown) => {
              failed = true;
              reject(error);
            },
          );
        }
        if (exhausted && inFlight === 0) resolve();
      };
      pump();
    });
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}
