/**
 * Worker-thread side of src/adapter/process.ts: owns the child processes of process nodes and
 * relays the node protocol to them as JSON lines on stdin/stdout, with Node's ordinary
 * asynchronous pipes. The engine's thread waits for each answer in Atomics.wait (channel.ts).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { serve } from './channel.ts';

export type BridgeRequest =
  | { readonly op: 'spawn'; readonly key: number; readonly command: string; readonly args: readonly string[]; readonly cwd?: string }
  | { readonly op: 'exchange'; readonly key: number; readonly line: string }
  | { readonly op: 'kill'; readonly key: number };

interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  readonly label: string;
  buffer: string;
  lines: unknown[];
  stderr: string;
  dead: string | undefined;
  waiting: { resolve: (effects: unknown[]) => void; reject: (error: Error) => void } | undefined;
}

const children = new Map<number, Child>();
const STDERR_KEPT = 2000;

function fail(child: Child, problem: string): void {
  const stderr = child.stderr.trim();
  child.dead ??= `${child.label} ${problem}${stderr ? `; its last stderr: ${JSON.stringify(stderr.slice(-500))}` : ''}`;
  const waiting = child.waiting;
  child.waiting = undefined;
  waiting?.reject(new Error(child.dead));
}

function onLine(child: Child, line: string): void {
  if (line.trim() === '') return;
  let effect: unknown;
  try {
    effect = JSON.parse(line);
  } catch {
    fail(child, `wrote a line that is not JSON: ${JSON.stringify(line.slice(0, 200))}`);
    child.process.kill('SIGKILL');
    return;
  }
  child.lines.push(effect);
  if ((effect as { type?: unknown }).type === 'done') {
    const lines = child.lines;
    child.lines = [];
    const waiting = child.waiting;
    child.waiting = undefined;
    if (waiting) waiting.resolve(lines);
    else fail(child, 'wrote effects while no event was pending');
  }
}

function start(request: Extract<BridgeRequest, { op: 'spawn' }>): void {
  const proc = spawn(request.command, [...request.args], { cwd: request.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const child: Child = { process: proc, label: `process "${[request.command, ...request.args].join(' ')}"`, buffer: '', lines: [], stderr: '', dead: undefined, waiting: undefined };
  children.set(request.key, child);
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    child.buffer += chunk;
    let newline: number;
    while ((newline = child.buffer.indexOf('\n')) >= 0) {
      const line = child.buffer.slice(0, newline);
      child.buffer = child.buffer.slice(newline + 1);
      onLine(child, line);
    }
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk: string) => {
    child.stderr = (child.stderr + chunk).slice(-STDERR_KEPT);
  });
  proc.on('error', (error) => fail(child, `could not run: ${error.message}`));
  proc.on('exit', (code, signal) => fail(child, `exited (${signal ? `signal ${signal}` : `code ${code}`})`));
  proc.stdin.on('error', () => {
    // EPIPE after the child died: its exit is reported instead.
  });
}

serve((body) => {
  const request = body as BridgeRequest;
  switch (request.op) {
    case 'spawn':
      start(request);
      return true;
    case 'kill': {
      const child = children.get(request.key);
      children.delete(request.key);
      if (child && !child.dead) {
        child.dead = `${child.label} was stopped`;
        child.process.kill('SIGKILL');
      }
      return true;
    }
    case 'exchange': {
      const child = children.get(request.key);
      if (!child) return Promise.reject(new Error(`no process ${request.key}`));
      if (child.dead) return Promise.reject(new Error(child.dead));
      return new Promise<unknown[]>((resolve, reject) => {
        child.waiting = { resolve, reject };
        child.lines = [];
        child.process.stdin.write(request.line + '\n');
      });
    }
  }
});
