import { execFileSync } from 'node:child_process';

/**
 * Runs `script` (an ES module, run from the repository root) in a fresh Node process and returns
 * the JSON value of its last output line. Speed benchmarks run there, as a campaign runs: one
 * implementation in the process, no other benchmark's code compiled before it (after the engine
 * benchmark in the same process, the reference's speed measured 3% lower on average over five
 * alternating pairs, and the 10,000-entry checker overhead 1.54x against 1.46–1.50x alone).
 */
export function runInChild<T>(script: string, nodeFlags: readonly string[] = []): T {
  const out = execFileSync(process.execPath, [...nodeFlags, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}
