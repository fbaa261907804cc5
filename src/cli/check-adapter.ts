import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkAdapter, type CheckReport } from '../adapter/check.ts';
import { InputError } from '../adapter/load.ts';
import { campaignSeeds } from '../runner.ts';
import { findScenario } from '../../scenarios/index.ts';
import { parsePositiveInt, parseSeed } from './args.ts';

export interface CheckAdapterOptions {
  scenario: string;
  seed: string;
  runs: string;
  timeout: string;
  json?: boolean;
}

/** `raftsim check-adapter <module>`: exit 0 when the adapter conforms, 1 on a finding, 2 on a usage error. */
export async function checkAdapterCommand(module: string, options: CheckAdapterOptions): Promise<number> {
  if (!existsSync(resolve(module))) throw new InputError(`check-adapter: no module at ${resolve(module)}; give the path of a .ts or .js file that exports a RaftFactory`);
  findScenario(options.scenario); // fails early, with exit 2, on an unknown scenario
  const seeds = campaignSeeds(parseSeed(options.seed), parsePositiveInt(options.runs, '--runs'));
  const timeoutMs = parsePositiveInt(options.timeout, '--timeout') * 1000;
  const report = await checkAdapter({ module, scenario: options.scenario, seeds, timeoutMs });
  if (options.json) process.stdout.write(JSON.stringify(report) + '\n');
  else printReport(report);
  return report.findings.length > 0 ? 1 : 0;
}

function printReport(report: CheckReport): void {
  const lines = [`raftsim check-adapter ${report.module} — scenario "${report.scenario}", seeds ${report.seeds.join(', ')}`];
  if (report.capabilities.length > 0) lines.push(`  capabilities: ${report.capabilities.join(', ')}`);
  for (const text of report.passed) lines.push(`  ✓ ${text}`);
  for (const finding of report.findings) {
    lines.push(`  ✗ ${finding.check}${finding.seed !== undefined ? ` (seed ${finding.seed})` : ''}: ${finding.message}`);
  }
  if (report.events > 0) lines.push(`  ${report.events.toLocaleString('en-US')} events checked`);
  lines.push(report.findings.length === 0 ? 'OK: the adapter meets the contract.' : `FAILED: ${report.findings.length} finding(s). Replay one with: raftsim run --impl ${report.module} --scenario ${report.scenario} --seed <seed> --runs 1`);
  console.log(lines.join('\n'));
}
