import { Worker } from 'node:worker_threads';
import { resolve } from 'node:path';
import type { CheckRunResult, CheckTask } from './check-task.ts';
import { conformanceRule } from './conformance.ts';
import { describeError } from '../errors.ts';

/**
 * `raftsim check-adapter <module>`: does an implementation meet the adapter contract?
 *  - it loads (a RaftFactory is exported);
 *  - determinism: each seed gives the same trace hash in two fresh threads, and again after other
 *    runs in the same thread (no state carried across runs in module globals);
 *  - no wall clock, timers or global randomness on the simulation path (the globals are trapped);
 *  - no message mutated after send, none mutated by its receiver, inspect() has no side effects;
 *  - inspect() sane (adapterViewChecker), and no exception, contract breach or hang.
 * Every finding names the seed that shows it. Runs happen in worker threads with a wall-clock
 * timeout, so an adapter that loops forever or never answers is reported, not waited for.
 */
export interface CheckOptions {
  readonly module: string;
  readonly scenario: string;
  readonly seeds: readonly number[];
  /** Wall-clock limit for one thread's runs (default 120 s). */
  readonly timeoutMs?: number;
}

export interface Finding {
  readonly check: string;
  readonly seed?: number;
  readonly message: string;
}

export interface CheckReport {
  readonly module: string;
  readonly scenario: string;
  readonly seeds: readonly number[];
  readonly passed: readonly string[];
  readonly findings: readonly Finding[];
  readonly events: number;
  readonly capabilities: readonly string[];
}

type ThreadOutcome = { ok: true; results: CheckRunResult[] } | { ok: false; error: string };

function runInThread(task: CheckTask, timeoutMs: number): Promise<ThreadOutcome> {
  return new Promise((done) => {
    const worker = new Worker(new URL('./check-worker.mjs', import.meta.url), { workerData: task, stdout: false, stderr: false });
    let settled = false;
    const finish = (outcome: ThreadOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      done(outcome);
    };
    // Wall time bounds the check itself; it never enters a simulation.
    const timer = setTimeout(() => finish({ ok: false, error: `TIMEOUT: the runs did not finish within ${timeoutMs / 1000} s of wall time (an infinite loop in the adapter, or a node that never answers)` }), timeoutMs);
    worker.on('message', (message: ThreadOutcome) => finish(message));
    worker.on('error', (error) => finish({ ok: false, error: describeError(error) }));
    worker.on('exit', (code) => finish({ ok: false, error: `the worker thread exited with code ${code} before answering` }));
  });
}

export async function checkAdapter(options: CheckOptions): Promise<CheckReport> {
  const module = resolve(options.module);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const seeds = options.seeds;
  const findings: Finding[] = [];
  const passed: string[] = [];
  const task = (list: readonly number[]): CheckTask => ({ module, scenario: options.scenario, seeds: list });
  // Thread A: every seed in order. Thread B: every seed in reverse order. Thread C: each seed alone
  // would be costly; B's last run is the first seed after all the others, A's first is it fresh.
  const [a, b] = await Promise.all([runInThread(task(seeds), timeoutMs), runInThread(task([...seeds].reverse()), timeoutMs)]);
  for (const outcome of [a, b]) {
    if (!outcome.ok) {
      const hang = outcome.error.startsWith('TIMEOUT');
      findings.push({ check: hang ? 'hang' : 'load', ...(hang ? { seed: seeds[0] } : {}), message: outcome.error });
      return { module: options.module, scenario: options.scenario, seeds, passed, findings: dedupe(findings), events: 0, capabilities: [] };
    }
  }
  const first = (a as { results: CheckRunResult[] }).results;
  const second = new Map((b as { results: CheckRunResult[] }).results.map((r) => [r.seed, r]));
  passed.push('loads: the module exports a RaftFactory');
  let events = 0;
  const before = findings.length;
  for (const run of first) {
    events += run.events;
    const other = second.get(run.seed)!;
    if (run.traceHash !== other.traceHash || run.events !== other.events) {
      findings.push({
        check: 'determinism',
        seed: run.seed,
        message: `seed ${run.seed} gave trace ${run.traceHash} (${run.events} events) in one thread and ${other.traceHash} (${other.events} events) in another, after other runs: hidden state (module globals, caches) or an unseeded source of randomness or time`,
      });
    }
  }
  if (findings.length === before) passed.push(`determinism: each seed gave the same trace hash in two threads, fresh and after other runs (${seeds.length} seed(s))`);
  const leakFindings = new Map<string, Finding>();
  for (const run of [...first, ...second.values()]) {
    for (const leak of run.leaks) {
      if (leakFindings.has(leak.name)) continue;
      leakFindings.set(leak.name, {
        check: 'no-wall-clock',
        seed: run.seed,
        message: `${leak.name} was called ${leak.count} time(s) during the run of seed ${run.seed}; use host.now(), host.setTimer() and host.random() (or src/adapter/virtual-time.ts). First call:\n    ${leak.stack}`,
      });
    }
  }
  findings.push(...leakFindings.values());
  if (leakFindings.size === 0) passed.push('no wall clock, real timer or global randomness on the simulation path');
  const ruleFindings = new Map<string, Finding>();
  for (const run of first) {
    const violation = run.violation;
    if (!violation) continue;
    const rule = conformanceRule(violation.message) ?? violation.invariant;
    if (ruleFindings.has(rule)) continue;
    ruleFindings.set(rule, { check: rule, seed: run.seed, message: `${violation.message} (at ${violation.time?.toFixed(1) ?? '?'} ms, step ${violation.step ?? '?'})` });
  }
  findings.push(...ruleFindings.values());
  for (const [rule, text] of [
    ['message-mutated', 'messages unchanged between send and delivery, and by their receivers'],
    ['inspect-impure', 'inspect() has no side effects'],
    ['adapter-view', 'inspect() consistent: term and commitIndex never go down, log view agrees with commitIndex'],
    ['adapter-error', 'no exception from the adapter, no dead or silent node'],
    ['adapter-contract', 'inspect() returns NodeViews, timers and sends are well formed'],
  ] as const) {
    if (!ruleFindings.has(rule)) passed.push(text);
  }
  return { module: options.module, scenario: options.scenario, seeds, passed, findings: dedupe(findings), events, capabilities: first[0]?.capabilities ?? [] };
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.check}:${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
