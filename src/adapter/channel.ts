import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { describeError } from '../errors.ts';

/**
 * A blocking request/answer channel to a worker thread. The engine is synchronous: it calls
 * `node.receive()` and inspects the node when that returns. A node whose code needs an event
 * loop of its own (promises, a child process's pipes) therefore runs in a worker thread, and
 * the engine's thread blocks in `Atomics.wait` until the worker has answered, or until a
 * wall-clock timeout turns a hung or dead node into a finding. The answer itself travels on a
 * MessagePort and is taken synchronously with `receiveMessageOnPort`.
 *
 * Why a worker and Atomics.wait rather than, say, named FIFOs read with fs.readSync: a blocking
 * read has no timeout (a silent process would hang the runner forever), while Atomics.wait has
 * one, and the worker keeps a normal asynchronous event loop in which a child process's pipes,
 * exit and errors are handled the ordinary way.
 */

export class ChannelTimeout extends Error {
  override readonly name = 'ChannelTimeout';
}

interface Envelope {
  readonly seq: number;
  readonly body?: unknown;
  readonly error?: string;
}

/** Wall time for the watchdog only; bound at load so that check-adapter's traps do not count it. */
const wallNow = performance.now.bind(performance);

const ENTRY = fileURLToPath(new URL('./worker-entry.cjs', import.meta.url));

export class SyncWorker {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private seq = 0;
  private broken: string | undefined;

  /** `script`: absolute path of a TypeScript module that calls `serve()`. */
  constructor(script: string, data: Record<string, unknown> = {}) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(ENTRY, {
      workerData: { ...data, script, port: port2, flag: this.flag },
      transferList: [port2],
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    this.worker.unref();
    this.port.unref();
  }

  /** Whether an earlier call timed out or the worker failed: it must not be used again. */
  get failed(): string | undefined {
    return this.broken;
  }

  /**
   * Sends `body` and blocks until the answer, or throws ChannelTimeout after `timeoutMs` of wall
   * time. On a timeout the worker is terminated, unless `keepOnTimeout` (a worker that serves
   * several nodes and has its own way to drop the silent one).
   */
  call(body: unknown, timeoutMs: number, keepOnTimeout = false): unknown {
    if (this.broken) throw new ChannelTimeout(this.broken);
    const seq = ++this.seq;
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ seq, body });
    // Wall time here is a watchdog only: it decides whether a hang is reported, never what a node sees.
    const deadline = wallNow() + timeoutMs;
    for (;;) {
      const message = receiveMessageOnPort(this.port);
      if (message) {
        const envelope = message.message as Envelope;
        if (envelope.seq !== seq) continue; // a late answer to a call that already timed out
        if (envelope.error !== undefined) throw new Error(envelope.error);
        return envelope.body;
      }
      const left = deadline - wallNow();
      if (left <= 0) {
        const problem = `no answer within ${timeoutMs} ms of wall time`;
        if (keepOnTimeout) throw new ChannelTimeout(problem);
        this.broken = problem;
        this.terminate();
        throw new ChannelTimeout(problem);
      }
      Atomics.wait(this.flag, 0, 0, left);
      Atomics.store(this.flag, 0, 0);
    }
  }

  terminate(): void {
    void this.worker.terminate();
  }
}

/** Worker side: answers each request with `handler`'s (possibly asynchronous) result. */
export function serve(handler: (body: unknown) => unknown | Promise<unknown>): void {
  const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };
  const answer = (envelope: Envelope): void => {
    port.postMessage(envelope);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  };
  port.on('message', (message: { seq: number; body: unknown }) => {
    let result: unknown;
    try {
      result = handler(message.body);
    } catch (error) {
      answer({ seq: message.seq, error: describeError(error) });
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (body) => answer({ seq: message.seq, body }),
        (error: unknown) => answer({ seq: message.seq, error: describeError(error) }),
      );
    } else {
      answer({ seq: message.seq, body: result });
    }
  });
}

/** Resolves a module specifier or path the way the worker's `require` will. */
export function resolveScript(specifier: string, from: string): string {
  return createRequire(from).resolve(specifier);
}
