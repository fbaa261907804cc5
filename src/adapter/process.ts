import { fileURLToPath } from 'node:url';
import type { RaftFactory } from './contract.ts';
import { SyncWorker } from './channel.ts';
import type { BridgeRequest } from './process-bridge.ts';
import type { Answer, NodeEvent } from './protocol.ts';
import { remoteFactory, type Transport } from './remote.ts';

const BRIDGE = fileURLToPath(new URL('./process-bridge.ts', import.meta.url));

export interface ProcessOptions {
  /** Wall-clock milliseconds a node may take to answer one event before it counts as hung (default 5000). */
  readonly timeoutMs?: number;
  /** Extra time for the answer to `init`, which includes starting the process (default 20 000). */
  readonly startTimeoutMs?: number;
  readonly cwd?: string;
}

let bridge: SyncWorker | undefined;
let nextKey = 1;

/** The one bridge thread of this JS thread; replaced if it ever failed. */
function theBridge(): SyncWorker {
  if (!bridge || bridge.failed) bridge = new SyncWorker(BRIDGE);
  return bridge;
}

/**
 * Nodes in any language (docs/protocol.md): each incarnation of each node is one child process
 * running `command args...`, spoken to in JSON lines over its stdin and stdout. A process that
 * dies, writes something that is not the protocol, or stays silent past `timeoutMs` becomes an
 * 'adapter-error' finding of the run (with its seed), never a hang or crash of the runner.
 */
export function processFactory(command: string, args: readonly string[] = [], options: ProcessOptions = {}): RaftFactory {
  const timeoutMs = options.timeoutMs ?? 5000;
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  // The engine runs one incarnation of a node id at a time and does not stop the nodes still up
  // when a run ends: opening id X again (a restart, or the next run) ends X's previous process.
  const live = new Map<string, Transport>();
  const open = (id: string): Transport => {
    live.get(id)?.close();
    const channel = theBridge();
    const key = nextKey++;
    const spawn: BridgeRequest = { op: 'spawn', key, command, args: [...args], ...(options.cwd ? { cwd: options.cwd } : {}) };
    channel.call(spawn, startTimeoutMs);
    let closed = false;
    const transport: Transport = {
      exchange(event: NodeEvent): Answer {
        const request: BridgeRequest = { op: 'exchange', key, line: JSON.stringify(event) };
        return channel.call(request, event.type === 'init' ? startTimeoutMs : timeoutMs, true) as Answer;
      },
      close() {
        if (closed) return;
        closed = true;
        try {
          channel.call({ op: 'kill', key } satisfies BridgeRequest, startTimeoutMs, true);
        } catch {
          // The bridge itself is gone; so is the process.
        }
      },
    };
    live.set(id, transport);
    return transport;
  };
  return remoteFactory(open, { label: [command, ...args].join(' ') });
}
