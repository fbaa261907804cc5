import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import type { RaftFactory } from './contract.ts';
import { SyncWorker } from './channel.ts';
import type { Answer, NodeEvent } from './protocol.ts';
import { remoteFactory, type Transport } from './remote.ts';

const THREAD_HOST = fileURLToPath(new URL('./thread-host.ts', import.meta.url));

export interface ThreadedOptions {
  /** The export of `module` that is the in-thread RaftFactory (default "createRaft", then default). */
  readonly exportName?: string;
  /** Wall-clock milliseconds an event may take before the node counts as hung (default 10 000). */
  readonly timeoutMs?: number;
}

/**
 * Runs a promise-based JavaScript implementation deterministically: each node lives in a worker
 * thread of its own (src/adapter/thread-host.ts) with virtual Date, timers and Math.random, and
 * each event is run there to quiescence — every microtask the library queued has run — before the
 * engine's step returns. `module` exports an ordinary RaftFactory, written exactly as for
 * in-process use; only where it runs differs.
 *
 * Workers are kept per node id and reused by the next incarnation of that id (a restart, or the
 * next run in the same thread), since the engine runs at most one incarnation of an id at a time.
 */
export function threadedFactory(module: string | URL, options: ThreadedOptions = {}): RaftFactory {
  const path = module instanceof URL ? fileURLToPath(module) : resolve(module);
  const exportName = options.exportName ?? 'createRaft';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const workers = new Map<string, SyncWorker>();
  const open = (id: string): Transport => {
    let worker = workers.get(id);
    if (!worker || worker.failed) {
      worker = new SyncWorker(THREAD_HOST, { module: path, exportName });
      workers.set(id, worker);
    }
    const current = worker;
    return {
      exchange: (event: NodeEvent) => current.call(event, event.type === 'init' ? Math.max(timeoutMs, 60_000) : timeoutMs) as Answer,
      close: () => {
        if (current.failed) workers.delete(id);
      },
    };
  };
  return remoteFactory(open, { label: `threaded ${path}` });
}
