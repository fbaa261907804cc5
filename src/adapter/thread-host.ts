/**
 * Worker-thread side of src/adapter/threaded.ts: hosts one node of a promise-based JS library at
 * a time, under virtual globals, and answers the node protocol.
 *
 * Why a thread: the engine is synchronous, but a library written with promises and async
 * functions only makes progress when its microtasks run, and V8 runs them only once the current
 * JavaScript stack is empty — never inside the engine's step. Here, in a thread of its own, each
 * event is handled to quiescence:
 *   1. the event is handed to the node (a call into the library, with Date, timers and
 *      Math.random virtual: see virtual-time.ts);
 *   2. we yield to this thread's event loop with a *real* setImmediate. Node runs every microtask
 *      and process.nextTick job before it runs a macrotask, so when it fires, every promise
 *      chain the event started has gone as far as it can without a timer or new input;
 *   3. the library's own (virtual) setImmediate callbacks run, and we go back to 2, until a round
 *      runs none.
 * The library never waits on wall time or real I/O (its timers are simulator events, its disk is
 * the simulated one), so the real setImmediate is only a barrier: it changes when we look, never
 * what the library does. Nothing awaits a library promise; the library's own continuations run
 * in the order V8 gives them, which depends only on the order of events. The engine's thread
 * waits for the answer in Atomics.wait (channel.ts), so the run stays one synchronous step after
 * another.
 */
import { createRequire } from 'node:module';
import { workerData } from 'node:worker_threads';
import type { ClusterConfig, ProposeResult, RaftNode } from './contract.ts';
import { serve } from './channel.ts';
import type { InitEvent, NodeEffect, NodeEvent } from './protocol.ts';
import { VirtualGlobals } from './virtual-time.ts';
import { ViewEncoder, WireHost } from './wire-host.ts';
import { describeError } from '../errors.ts';
import { asFactory } from './load.ts';

const realSetImmediate = globalThis.setImmediate;
const MAX_ROUNDS = 100_000;

const { module: modulePath, exportName } = workerData as { module: string; exportName: string };
const globals = new VirtualGlobals();
// Installed before the library loads, so that whatever it captures at load time is virtual too.
globals.install();

const asyncErrors: string[] = [];
process.on('unhandledRejection', (reason) => {
  asyncErrors.push(describeError(reason));
});
process.on('uncaughtException', (error) => {
  asyncErrors.push(describeError(error));
});

const loaded = createRequire(`${process.cwd()}/`)(modulePath) as Record<string, unknown>;
const factory = asFactory(loaded[exportName] ?? (exportName === 'createRaft' ? loaded.default : undefined));
if (factory === undefined) throw new Error(`${modulePath} exports no RaftFactory "${exportName}" (a function (host, config) => RaftNode, or a class whose constructor takes them)`);

let host: WireHost | undefined;
let node: RaftNode | undefined;
let encoder = new ViewEncoder();
const pendingReads = new Map<number, (index: number) => void>();

async function settle(): Promise<void> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    await new Promise<void>((resolve) => realSetImmediate(resolve));
    if (globals.runImmediates() === 0) return;
  }
  throw new Error(`the node queued setImmediate callbacks for more than ${MAX_ROUNDS} rounds in one event (a livelock)`);
}

async function handle(event: NodeEvent): Promise<NodeEffect[]> {
  if (event.type === 'init') return init(event);
  if (!host || !node) throw new Error(`"${event.type}" before "init"`);
  host.time = event.now;
  const current = node;
  let reply: NodeEffect | undefined;
  switch (event.type) {
    case 'message':
      current.receive(event.from, event.body);
      break;
    case 'timer':
      host.fire(event.id);
      break;
    case 'propose': {
      // An in-thread node may answer propose with a promise (a library whose append is async):
      // it is settled here, inside the thread, with the rest of the event's work.
      const answer = current.propose(event.command) as ProposeResult | PromiseLike<ProposeResult>;
      let result: ProposeResult | undefined;
      if (typeof (answer as PromiseLike<ProposeResult>).then === 'function') {
        (answer as PromiseLike<ProposeResult>).then(
          (value) => (result = value),
          () => (result = { accepted: false }),
        );
      } else {
        result = answer as ProposeResult;
      }
      await settle();
      // Still pending at quiescence: it waits for a timer or a message; refuse (the client retries).
      const final = result ?? { accepted: false };
      reply = final.accepted
        ? { type: 'reply', accepted: true, index: final.index, term: final.term }
        : { type: 'reply', accepted: false, ...(final.leaderHint !== undefined ? { leader_hint: final.leaderHint } : {}) };
      break;
    }
    case 'read': {
      const id = event.read_id;
      const owner = host;
      const accepted = current.read?.((index) => owner.emit({ type: 'read_ready', read_id: id, index })) ?? false;
      reply = { type: 'reply', accepted };
      break;
    }
    case 'inspect':
      break;
    case 'crash':
      current.stop?.();
      node = undefined;
      host = undefined;
      globals.detach();
      pendingReads.clear();
      return [{ type: 'done' }];
  }
  await settle();
  return finish(host, reply);
}

async function init(event: InitEvent): Promise<NodeEffect[]> {
  if (node) node.stop?.();
  host = new WireHost(event);
  encoder = new ViewEncoder();
  globals.attach(host);
  const config: ClusterConfig = { nodes: event.nodes, initialMembers: event.members, timing: event.timing, options: event.options };
  node = factory!(host, config);
  await settle();
  const effects = finish(host, undefined);
  const done = effects.pop()!;
  effects.push({ ...done, ...(typeof node.read === 'function' ? { capabilities: ['read'] } : {}) } as NodeEffect);
  return effects;
}

function finish(current: WireHost, reply: NodeEffect | undefined): NodeEffect[] {
  if (asyncErrors.length > 0) {
    const errors = asyncErrors.splice(0);
    throw new Error(`unhandled error in the library's asynchronous code: ${errors.join('; ')}`);
  }
  const effects = current.take();
  if (reply) effects.push(reply);
  if (node) effects.push(encoder.encode(node.inspect()));
  effects.push({ type: 'done' });
  return effects;
}

serve((body) => handle(body as NodeEvent));
