import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/adapter/load.ts';
import { generatePlan } from '../../src/faults/generate.ts';
import { shrinkFailure } from '../../src/faults/shrink.ts';
import { renderHtml } from '../../src/report/html.ts';
import { buildReport, frameworkVersion, loadReport, writeReport, type Report } from '../../src/report/report.ts';
import { formatTrace } from '../../src/report/text.ts';
import { runScenario, type RunSettings } from '../../src/runner.ts';
import { defaultScenario } from '../../scenarios/default.ts';
import { createBrokenRaft } from '../support/broken-raft.ts';
import { TEST_CHECKERS } from '../support/checkers.ts';

const settings: RunSettings = { factory: createBrokenRaft, checkers: TEST_CHECKERS, generatePlan, implementationOptions: { bug: 'double-vote' } };
const dir = mkdtempSync(join(tmpdir(), 'raftsim-report-'));

function aReport(): Report {
  let seed = 1;
  while (!runScenario(defaultScenario, seed, settings).violation) seed++;
  const shrink = shrinkFailure(defaultScenario, seed, settings, { maxRuns: 50 })!;
  return buildReport({ scenario: defaultScenario, implementation: 'test/support/broken-raft.ts', checkersModule: 'test/support/checkers.ts', settings }, shrink);
}

describe('reports', () => {
  const report = aReport();

  it('hold what a replay and a reader need', () => {
    expect(report.frameworkVersion).toBe(frameworkVersion());
    expect(report.frameworkVersion).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(report.scenario.name).toBe('default');
    expect(report.implementationOptions).toEqual({ bug: 'double-vote' });
    if (report.shrink.method === 'fast-check, then removal') expect(report.fastCheck).toMatchObject({ seed: report.seed | 0 });
    else expect(report.shrink.method).toBe('removal');
    expect(report.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(report.trace.at(-1)).toMatchObject({ k: 'violation' });
    expect(report.violation.invariant).toBe('election-safety');
  });

  it('load with clear errors (InputError, exit 2)', () => {
    const file = writeReport(dir, report);
    expect(loadReport(file).seed).toBe(report.seed);
    const bad = (name: string, content: string): string => {
      const f = join(dir, name);
      writeFileSync(f, content);
      return f;
    };
    expect(() => loadReport(join(dir, 'missing.json'))).toThrow(InputError);
    expect(() => loadReport(bad('trunc.json', '{"format":'))).toThrow(/is not valid JSON/);
    expect(() => loadReport(bad('other.json', '{"format":"something"}'))).toThrow(/report field "format" is invalid; it must be "raftsim-report"/);
    const { seed: _seed, ...noSeed } = report;
    expect(() => loadReport(bad('noseed.json', JSON.stringify(noSeed)))).toThrow(/report field "seed" is missing/);
    expect(() => loadReport(bad('hash.json', JSON.stringify({ ...report, traceHash: 'xyz' })))).toThrow(/report field "traceHash" is invalid/);
  });

  it('the HTML timeline is one self-contained page', () => {
    const html = renderHtml(report, 'npm run raftsim -- replay x.json');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<link|<script[^>]+src=|<img|@import|url\(http/i);
    // The only URL is the SVG namespace, which is a name, not a fetch.
    expect(html.match(/https?:\/\/[^\s'"]+/g)?.filter((u) => u !== 'http://www.w3.org/2000/svg') ?? []).toEqual([]);
    expect(html).toContain(report.violation.message);
    for (const node of report.nodes) expect(html).toContain(`"${node}"`);
  });

  it('the short trace shows state changes, faults, client operations and the violation; verbose shows all', () => {
    const short = formatTrace(report.trace, false);
    const all = formatTrace(report.trace, true);
    expect(all.length).toBe(report.trace.length);
    expect(short.length).toBeLessThan(all.length);
    expect(short.at(-1)).toMatch(/VIOLATION election-safety/);
    expect(short.every((l) => !/\b(deliver|timer|drop)\b/.test(l.slice(25, 40)))).toBe(true);
  });
});
