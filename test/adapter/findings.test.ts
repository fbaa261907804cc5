import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RaftFactory } from '../../src/adapter/contract.ts';
import { adapterViewChecker } from '../../src/adapter/conformance.ts';
import type { FaultPlan } from '../../src/faults/plan.ts';
import { runScenario } from '../../src/runner.ts';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import { findScenario } from '../../scenarios/index.ts';

/**
 * What raftsim found in third-party libraries (adapters/<name>/findings.json, written up in each
 * adapter's README) is a result, not a failure of our CI: this suite asserts that each recorded
 * finding still reproduces — the same seed and shrunk plan give the same violated invariant.
 */
interface RecordedFinding {
  readonly title: string;
  readonly scenario: string;
  readonly seed: number;
  readonly invariant: string;
  /** A regular expression the violation message must match. */
  readonly message: string;
  readonly plan: FaultPlan;
  /** "adapter-view": found by check-adapter's view checker rather than the invariants. */
  readonly checkers?: 'adapter-view';
  /**
   * Checkers left out of the replay: one that flags another finding of the library earlier in
   * the same run (liferaft's followers delete committed entries in almost every run).
   */
  readonly withoutCheckers?: readonly string[];
}

const LIBRARIES = ['liferaft', 'coaty'] as const;

for (const library of LIBRARIES) {
  const file = fileURLToPath(new URL(`../../adapters/${library}/findings.json`, import.meta.url));
  const findings: RecordedFinding[] = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RecordedFinding[]) : [];
  describe(`recorded findings in ${library}`, () => {
    it.skipIf(findings.length === 0)('each still reproduces with its seed and shrunk plan', async () => {
      const { createRaft } = (await import(`../../adapters/${library}/adapter.ts`)) as { createRaft: RaftFactory };
      for (const finding of findings) {
        const left = finding.withoutCheckers ?? [];
        for (const name of left) expect(ALL_CHECKERS.map((c) => c.name), finding.title).toContain(name);
        const checkers = finding.checkers === 'adapter-view' ? [adapterViewChecker] : ALL_CHECKERS.filter((c) => !left.includes(c.name));
        const result = runScenario(findScenario(finding.scenario), finding.seed, { factory: createRaft, checkers, plan: finding.plan });
        expect(result.violation?.invariant, finding.title).toBe(finding.invariant);
        expect(result.violation?.message, finding.title).toMatch(new RegExp(finding.message));
      }
    });
  });
}
