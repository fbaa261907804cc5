import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Runs the CLI as a user would: a fresh `node --import tsx src/cli/main.ts …` process. */
function raftsim(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1', ...env },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const BROKEN = ['--impl', 'test/support/broken-raft.ts', '--checkers', 'test/support/checkers.ts'];
const tmp = mkdtempSync(join(tmpdir(), 'raftsim-cli-'));

describe('raftsim exit code 2: usage and input errors name the argument and the fix', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown scenario', ['run', '--scenario', 'nope'], /--scenario: unknown scenario "nope"; run "raftsim list"/],
    ['bad seed', ['run', '--seed', 'abc'], /--seed: "abc" is not a seed; give an integer/],
    ['bad runs', ['run', '--runs', '0'], /--runs: "0" is not a count/],
    ['bad workers', ['run', '--workers', 'many'], /--workers: "many" is not a count/],
    ['bad shard', ['run', '--shard', '3/2'], /--shard: "3\/2" is not a shard; give i\/n/],
    ['bad time budget', ['run', '--time-budget', 'soon'], /--time-budget: "soon" is not a duration; give e\.g\. 60s/],
    ['missing impl', ['run', '--impl', 'no/such.ts'], /--impl: no module at .*no\/such\.ts/],
    ['bad impl options', ['run', '--impl-options', '{x'], /--impl-options: .* is not JSON/],
    ['option the implementation refuses', ['run', '--impl-options', '{"preVot":false}'], /--impl-options: unknown raft option "preVot" \(known: preVote, /],
    ['unknown option', ['run', '--frobnicate'], /unknown option '--frobnicate'/],
    ['unknown checker to skip', ['run', '--skip-checkers', 'catch-up,catchup'], /--skip-checkers: no checker "catchup" \(known: election-safety, /],
    ['empty checker name', ['run', '--skip-checkers', 'catch-up,'], /--skip-checkers: "catch-up," has an empty name/],
    ['unknown zoo bug', ['zoo', '--bug', 'nope'], /--bug: unknown bug "nope"; known: vote-not-persisted, /],
    ['bad run timeout', ['run', '--run-timeout', 'never'], /--run-timeout: "never" is not a duration; give e\.g\. 60s/],
    ['bad zoo budget', ['zoo', '--budget-runs', '0'], /--budget-runs: "0" is not a count/],
    ['missing report', ['replay', join(tmp, 'none.json')], /replay: cannot read .*none\.json/],
    ['bad knobs export', ['run', '--impl', 'test/adapter/fixtures/bad-knobs.ts'], /export "knobs": knob "maxEntriesPerAppend" must be a non-empty list of values with the default first/],
  ];
  it.each(cases)('%s', (_name, args, message) => {
    const { code, stderr } = raftsim(args);
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
  });

  it('a scenario file with a bad plan, and a file that is not a report', () => {
    const scenario = join(tmp, 'bad-plan.json');
    writeFileSync(scenario, JSON.stringify({ name: 'bad-plan', nodes: 3, faultWindowMs: 100, plan: { version: 1, actions: [{ at: 1, kind: 'crash', node: 'n9' }] } }));
    const a = raftsim(['run', '--scenario', scenario, ...BROKEN]);
    expect(a.stderr).toMatch(/actions\[0\] \(crash\): field "node": unknown node "n9"/);
    expect(a.code).toBe(2);
    const notReport = join(tmp, 'not-report.json');
    writeFileSync(notReport, '{"hello": 1}');
    const b = raftsim(['replay', notReport]);
    expect(b.stderr).toMatch(/report field "format" is missing/);
    expect(b.code).toBe(2);
    const badJson = join(tmp, 'bad.json');
    writeFileSync(badJson, '{"format": "raftsim-report",');
    const c = raftsim(['replay', badJson]);
    expect(c.stderr).toMatch(/is not valid JSON/);
    expect(c.code).toBe(2);
  });
});

describe('raftsim run and replay', () => {
  it('a failing campaign exits 1, writes the reports, ends with the replay command; replay reproduces (exit 0)', () => {
    const dir = join(tmp, 'reports');
    const { code, stdout } = raftsim(['run', ...BROKEN, '--runs', '12', '--reports-dir', dir, '--max-reports', '1']);
    expect(code).toBe(1);
    const last = stdout.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^Replay: npm run raftsim -- replay .*default-\d+\.json$/);
    const file = last.replace(/^Replay: npm run raftsim -- replay /, '');
    const report = JSON.parse(readFileSync(file, 'utf8'));
    expect(report.plan.actions.length).toBeLessThanOrEqual(3);
    expect(readFileSync(file.replace(/\.json$/, '.html'), 'utf8')).toMatch(/^<!doctype html>/);
    const replay = raftsim(['replay', file, '--html']);
    expect(replay.stdout).toMatch(/Trace hash [0-9a-f]{16} matches the report\.\nREPRODUCED\./);
    expect(replay.code).toBe(0);
    // A tampered hash is a mismatch: exit 1.
    const tampered = join(tmp, 'tampered.json');
    writeFileSync(tampered, JSON.stringify({ ...report, traceHash: '0000000000000000' }));
    const mismatch = raftsim(['replay', tampered]);
    expect(mismatch.stdout).toMatch(/MISMATCH: trace hash [0-9a-f]{16}, the report has 0000000000000000/);
    expect(mismatch.code).toBe(1);
  });

  it('--json prints exactly one JSON object; --workers 2 gives the same results as --workers 1; shards split the runs', () => {
    const base = ['run', ...BROKEN, '--runs', '16', '--seed', '5', '--json', '--max-reports', '0'];
    const one = raftsim([...base, '--workers', '1']);
    const two = raftsim([...base, '--workers', '2']);
    expect(one.code).toBe(two.code);
    const a = JSON.parse(one.stdout);
    const b = JSON.parse(two.stdout);
    expect(one.stdout.trim().split('\n')).toHaveLength(1);
    expect(a.runs).toHaveLength(16);
    expect(b.runs).toEqual(a.runs);
    expect(b.violations).toEqual(a.violations);
    for (const run of a.runs) expect(Object.keys(run).sort()).toEqual(expect.arrayContaining(['events', 'seed', 'traceHash', 'virtualMs']));
    expect(a.violations.length).toBeGreaterThan(0);
    const s1 = JSON.parse(raftsim([...base, '--shard', '1/2']).stdout);
    const s2 = JSON.parse(raftsim([...base, '--shard', '2/2']).stdout);
    const merged = [...s1.runs, ...s2.runs].sort((x, y) => a.runs.findIndex((r: { seed: number }) => r.seed === x.seed) - a.runs.findIndex((r: { seed: number }) => r.seed === y.seed));
    expect(merged).toEqual(a.runs);
  });

  it('the reference gives the same runs in this thread (--workers 1) as in worker threads (--workers 2)', () => {
    const base = ['run', '--runs', '10', '--seed', '9', '--json', '--max-reports', '0'];
    const one = JSON.parse(raftsim([...base, '--workers', '1']).stdout);
    const two = JSON.parse(raftsim([...base, '--workers', '2']).stdout);
    expect(one.runs.map((r: { traceHash: string }) => r.traceHash)).toHaveLength(10);
    expect(two.runs).toEqual(one.runs);
  });

  it("--json names the knobs each run drew; an option fixed with --impl-options is never drawn", () => {
    const drawn = JSON.parse(raftsim(['run', '--runs', '12', '--json', '--max-reports', '0']).stdout).runs.map((r: { knobs?: object }) => r.knobs ?? {});
    expect(drawn.some((k: object) => 'preVote' in k)).toBe(true);
    const fixed = JSON.parse(raftsim(['run', '--runs', '12', '--json', '--max-reports', '0', '--impl-options', '{"preVote":true}']).stdout).runs;
    expect(fixed.some((r: { knobs?: object }) => r.knobs !== undefined && 'preVote' in r.knobs)).toBe(false);
  });

  it('--skip-checkers leaves checkers out and says so; the report replays with the checkers that ran', () => {
    const broken = ['run', '--impl', 'test/support/broken-raft.ts', '--runs', '1'];
    // With every checker, seed 1 of this implementation fails one-vote-per-term first.
    expect(JSON.parse(raftsim([...broken, '--json', '--max-reports', '0']).stdout).violations[0].invariant).toBe('one-vote-per-term');
    const dir = join(tmp, 'skipped');
    const { code, stdout } = raftsim([...broken, '--reports-dir', dir, '--max-reports', '1', '--skip-checkers', 'one-vote-per-term, election-safety']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/ {2}skipped {5}election-safety: left out with --skip-checkers\n {2}skipped {5}one-vote-per-term: left out with --skip-checkers\n/);
    expect(stdout).toMatch(/✗ seed 1: liveness-after-heal/);
    expect(stdout).toMatch(/\n {2}violations {2}1: liveness-after-heal 1\n/);
    const file = join(dir, 'default-1.json');
    const names: string[] = JSON.parse(readFileSync(file, 'utf8')).checkers.names;
    expect(names).not.toContain('one-vote-per-term');
    expect(names).toContain('liveness-after-heal');
    // Replayed with every built-in checker, one-vote-per-term would fire first: replay runs the recorded ones.
    const replay = raftsim(['replay', file]);
    expect(replay.stdout).toMatch(/Violation: liveness-after-heal .*\n.*matches the report\.\nREPRODUCED\./);
    expect(replay.code).toBe(0);
  });

  it('zoo prints the table, writes a replayable report per found bug, and exits 1 when a bug is missed', () => {
    const dir = join(tmp, 'zoo');
    const found = raftsim(['zoo', '--bug', 'figure8-commit-old-term', 'regrant-same-candidate', '--budget-runs', '3', '--reports-dir', dir]);
    expect(found.stdout).toMatch(/^bug +result +runs +wall +check +shrunk +replay$/m);
    expect(found.stdout).toMatch(/^figure8-commit-old-term +found +1 +[\d.]+ s +current-term-commit +1 \(from \d+\) +npm run raftsim -- replay .*zoo-figure8-commit-old-term-1\.json$/m);
    expect(found.stdout).toMatch(/^regrant-same-candidate \(control\) +clean +3 /m);
    expect(found.stdout).toMatch(/found 1\/1 bugs; .* false positives 0;/);
    expect(found.code).toBe(0);
    expect(raftsim(['replay', join(dir, 'zoo-figure8-commit-old-term-1.json')]).code).toBe(0);
    // candidate-no-retry first fails at run 243: three runs miss it.
    const missed = raftsim(['zoo', '--bug', 'candidate-no-retry', '--budget-runs', '3', '--reports-dir', dir, '--json']);
    expect(JSON.parse(missed.stdout)).toMatchObject({ budgetRuns: 3, found: 0, total: 1, missed: ['candidate-no-retry'], falsePositives: [] });
    expect(missed.code).toBe(1);
  });

  it('zoo --workers 2 hunts in worker threads with the same results, in zoo order', () => {
    const hunt = (workers: string) => {
      const args = ['zoo', '--bug', 'vote-count-not-set', 'figure8-commit-old-term', 'regrant-same-candidate', '--budget-runs', '20', '--reports-dir', join(tmp, `zoo-${workers}`), '--json'];
      const out = JSON.parse(raftsim([...args, '--workers', workers]).stdout) as { bugs: Record<string, unknown>[] };
      // Everything but wall times and where the reports went.
      return out.bugs.map(({ huntMs, msToFirstFailure, shrinkMs, report, replay, ...rest }) => rest);
    };
    const one = hunt('1');
    expect(one.map((b) => b.name)).toEqual(['vote-count-not-set', 'figure8-commit-old-term', 'regrant-same-candidate']);
    expect(one[0]).toMatchObject({ flagged: true, runsToFirstFailure: 3, invariant: 'election-quorum' });
    expect(hunt('2')).toEqual(one);
  });

  it('checkers lists every built-in checker by the name --skip-checkers takes', () => {
    const { code, stdout } = raftsim(['checkers']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^election-quorum +every step +a node becomes leader .* \(needs votedFor\)$/m);
    expect(stdout).toMatch(/^catch-up +end of run +/m);
    const listed = JSON.parse(raftsim(['checkers', '--json']).stdout) as { name: string }[];
    expect(listed.map((c) => c.name)).toContain('linearizability');
    expect(listed.length).toBe(stdout.trim().split('\n').length);
  });

  it('stops quietly when its reader closes the pipe early (raftsim list | head -1)', () => {
    const result = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" --import tsx src/cli/main.ts list | head -1`], { encoding: 'utf8', timeout: 60_000 });
    expect(result.stdout).toMatch(/^default +Five servers/);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('an implementation that never returns is a hang finding with its seed, and the campaign goes on', () => {
    const dir = join(tmp, 'hangs');
    const { code, stdout } = raftsim(['run', '--impl', 'test/adapter/fixtures/broken-hangs.ts', '--runs', '2', '--run-timeout', '3s', '--reports-dir', dir, '--json']);
    expect(code).toBe(1);
    const out = JSON.parse(stdout);
    expect(out.runs).toHaveLength(2);
    for (const run of out.violations) {
      expect(run.invariant).toBe('hang');
      expect(run.message).toMatch(new RegExp(`^the run did not finish within 3 s of wall time: .*--seed ${run.seed} --runs 1`));
    }
    expect(out.violations).toHaveLength(2);
    expect(out.reports).toEqual([]); // a hang is not shrunk: it would only hang again
  });

  it('--time-budget runs seeds until the time is up and records which ran', () => {
    const { code, stdout } = raftsim(['run', ...BROKEN, '--impl-options', '{"bug":"none"}', '--time-budget', '2s', '--json']);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.seeds.stoppedBy).toBe('time-budget');
    expect(out.runs.length).toBeGreaterThan(5);
    expect(out.seeds.runIndexes).toEqual({ first: 0, last: out.runs.length - 1, count: out.runs.length });
    expect(out.violations).toEqual([]);
  });
});
