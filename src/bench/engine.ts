import type { RaftFactory } from '../adapter/contract.ts';
import { Simulation } from '../sim/engine.ts';
import { EventQueue } from '../sim/queue.ts';
import { Rng } from '../sim/rng.ts';
import { median } from './median.ts';

export interface EngineBench {
  /** The best of the rounds. */
  eventsPerSec: number;
  /** The best of the rounds. */
  bareLoopEventsPerSec: number;
  /** Engine throughput as a share of the bare loop's (1 = no overhead): the median of the rounds' paired ratios. */
  ratio: number;
  /** The lowest and highest paired ratio, to show the machine's noise. */
  ratioRange: [number, number];
  events: number;
  rounds: number;
}

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const IN_FLIGHT_PER_NODE = 20;

/** Each node keeps messages circulating: every delivery sends one no-op message to a random peer. */
const noOpNode: RaftFactory = (host) => {
  const peers = NODES.filter((id) => id !== host.id);
  const forward = (): void => host.send(peers[Math.floor(host.random() * peers.length)]!, 0);
  for (let i = 0; i < IN_FLIGHT_PER_NODE; i++) forward();
  return { receive: forward, propose: () => ({ accepted: false }), inspect: () => ({ role: 'follower', term: 0 }) };
};

function engineRun(virtualMs: number): { events: number; ms: number } {
  const started = performance.now();
  const result = new Simulation({ seed: 1, factory: noOpNode, nodes: NODES, workload: false, faultWindowMs: virtualMs, settleMs: 0 }).run();
  return { events: result.events, ms: performance.now() - started };
}

/** The same heap with the same event shape, popping and pushing with no simulation work. */
function bareLoop(events: number): { events: number; ms: number } {
  const started = performance.now();
  const queue = new EventQueue<{ time: number; seq: number; kind: number; target: number; source: number; epoch: number; payload: unknown }>();
  const rng = new Rng(1);
  for (let i = 0; i < NODES.length * IN_FLIGHT_PER_NODE; i++) {
    queue.push({ time: rng.between(1, 10), seq: 0, kind: 0, target: i % 5, source: 0, epoch: 1, payload: 0 });
  }
  for (let i = 0; i < events; i++) {
    const e = queue.pop()!;
    queue.push({ time: e.time + rng.between(1, 10), seq: 0, kind: 0, target: rng.int(0, 4), source: e.target, epoch: 1, payload: 0 });
  }
  return { events, ms: performance.now() - started };
}

/**
 * The engine and the bare loop alternate over `rounds` rounds (the order flips each round); a
 * round's two halves share the machine's load, so the median of the rounds' ratios is steadier
 * than one engine run against one bare-loop run.
 */
export function benchEngine(virtualMs = 100_000, rounds = 7): EngineBench {
  engineRun(virtualMs / 10); // warm up the JIT
  bareLoop(200_000);
  const perSec = (run: { events: number; ms: number }): number => run.events / (run.ms / 1000);
  let best = 0;
  let bestBare = 0;
  let events = 0;
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let engine: { events: number; ms: number };
    let bare: { events: number; ms: number };
    if (r % 2 === 0) {
      engine = engineRun(virtualMs);
      bare = bareLoop(engine.events);
    } else {
      bare = bareLoop(events);
      engine = engineRun(virtualMs);
    }
    events = engine.events;
    best = Math.max(best, perSec(engine));
    bestBare = Math.max(bestBare, perSec(bare));
    ratios.push(perSec(engine) / perSec(bare));
  }
  const round3 = (x: number): number => Number(x.toFixed(3));
  return {
    eventsPerSec: Math.round(best),
    bareLoopEventsPerSec: Math.round(bestBare),
    ratio: round3(median(ratios)),
    ratioRange: [round3(Math.min(...ratios)), round3(Math.max(...ratios))],
    events,
    rounds,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(benchEngine(), null, 2));
