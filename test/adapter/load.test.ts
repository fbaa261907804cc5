import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALL_CHECKERS } from '../../invariants/index.ts';
import { asFactory, loadImplementationModule } from '../../src/adapter/load.ts';
import { createRaft } from '../../src/raft/index.ts';
import { runScenario } from '../../src/runner.ts';
import { defaultScenario } from '../../scenarios/default.ts';
import { generatePlan } from '../../src/faults/generate.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('an implementation module: its factory', () => {
  it('takes a factory function as it is, and nothing that is not a function', () => {
    expect(asFactory(createRaft)).toBe(createRaft);
    expect(asFactory({ createRaft })).toBeUndefined();
    expect(asFactory(undefined)).toBeUndefined();
  });

  it('takes a class whose constructor takes (host, config), and runs it clean under every checker', async () => {
    const { factory } = await loadImplementationModule(fixture('class-export.ts'));
    for (const seed of [1, 2, 3]) {
      const result = runScenario(defaultScenario, seed, { factory, checkers: ALL_CHECKERS, generatePlan });
      expect(result.violation).toBeUndefined();
      expect(result.events).toBeGreaterThan(1000);
    }
  });
});
