import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkAdapter, type CheckReport } from '../../src/adapter/check.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const SMALL = fixture('small.json');
const SEEDS = [1, 2];

const check = (module: string, timeoutMs = 60_000): Promise<CheckReport> => checkAdapter({ module, scenario: SMALL, seeds: SEEDS, timeoutMs });

describe('raftsim check-adapter', () => {
  it('gives each broken adapter a clear finding with its seed, and passes a sound one', async () => {
    const [sound, callbacks, throws, nonsense, mutates, wallClock, hidden, termDown, hangs] = await Promise.all([
      check(fixture('ping-adapter.ts')),
      check(fixture('callback-ping.ts')),
      check(fixture('broken-throws.ts')),
      check(fixture('broken-nonsense-view.ts')),
      check(fixture('broken-mutates.ts')),
      check(fixture('broken-wall-clock.ts')),
      check(fixture('broken-hidden-state.ts')),
      check(fixture('broken-term-goes-down.ts')),
      check(fixture('broken-hangs.ts'), 8000),
    ]);
    expect(sound.findings).toEqual([]);
    expect(sound.passed.length).toBeGreaterThanOrEqual(8);
    // A library on real globals, made virtual in process by `virtualized`: nothing leaks.
    expect(callbacks.findings).toEqual([]);

    const only = (report: CheckReport, rule: string) => {
      const found = report.findings.find((f) => f.check === rule);
      expect(found, `${rule} in ${JSON.stringify(report.findings)}`).toBeDefined();
      return found!;
    };
    expect(only(throws, 'adapter-error').message).toMatch(/threw in receive .*boom: a bug in the adapter/);
    expect(only(throws, 'adapter-error').seed).toBe(1);
    expect(only(nonsense, 'adapter-contract').message).toMatch(/inspect\(\) returned role "boss"/);
    expect(only(mutates, 'message-mutated').message).toMatch(/changed a message it received from n\d/);
    const leak = only(wallClock, 'no-wall-clock');
    expect(leak.message).toMatch(/Date\.now was called \d+ time\(s\) during the run of seed \d+/);
    expect(leak.message).toMatch(/broken\.ts/);
    expect(only(hidden, 'determinism').message).toMatch(/seed \d+ gave trace \w+ .* in one thread and \w+ .* in another/);
    expect(only(termDown, 'adapter-view').message).toMatch(/term went down from \d+ to \d+ without a crash/);
    expect(only(hangs, 'hang').message).toMatch(/did not finish within 8 s of wall time/);
  });

  it('exits 0 for a sound adapter, 1 on a finding, 2 on a usage error', () => {
    const cli = (...args: string[]): number => {
      try {
        execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'check-adapter', ...args, '--runs', '1', '--scenario', SMALL], { stdio: 'pipe' });
        return 0;
      } catch (error) {
        return (error as { status: number }).status;
      }
    };
    expect(cli(fixture('ping-adapter.ts'))).toBe(0);
    expect(cli(fixture('broken-throws.ts'))).toBe(1);
    expect(cli('no/such/module.ts')).toBe(2);
  });
});
