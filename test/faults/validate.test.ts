import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/adapter/load.ts';
import { parseGeneratorConfig } from '../../src/faults/arbitraries.ts';
import { parsePlanText, validatePlan } from '../../src/faults/validate.ts';
import { loadScenarioFile } from '../../scenarios/index.ts';

const nodes = ['n1', 'n2', 'n3'];
const plan = (actions: unknown[]) => ({ version: 1, actions });

describe('validatePlan', () => {
  it('accepts every action kind, with named and role-targeted nodes', () => {
    const ok = plan([
      { at: 0, kind: 'partition', groups: [['n1'], ['n2', 'n3']] },
      { at: 1, kind: 'isolate', node: 'leader' },
      { at: 2, kind: 'cut', from: 'n1', to: 'follower' },
      { at: 3, kind: 'bridge', links: [['n1', 'n2'], ['n2', 'n3']] },
      { at: 4, kind: 'heal' },
      { at: 5, kind: 'crash', node: 'leader', loss: 'torn' },
      { at: 6, kind: 'restart', node: 'crashed' },
      { at: 7, kind: 'corrupt', node: 'n2' },
      { at: 8, kind: 'link', dropRate: 0.2, latency: { minMs: 1, maxMs: 50 } },
      { at: 9, kind: 'link', from: 'n1', to: 'n2', duplicateRate: 0.5, longDelayRate: 0.1, longDelay: { minMs: 300, maxMs: 900 } },
      { at: 10, kind: 'skew', node: 'n3', rate: 1.5 },
      { at: 11, kind: 'membership', members: ['n1', 'n2'] },
      { at: 12, kind: 'transfer', to: 'n3' },
      { at: 13, kind: 'burst', operations: 5 },
      { at: 14, kind: 'load', thinkMs: { minMs: 0, maxMs: 5 }, requestTimeoutMs: 50 },
      { at: 15, kind: 'load', requestTimeoutMs: 900 },
    ]);
    expect(validatePlan(ok, nodes, 'p')).toBe(ok);
  });

  it('names an unknown node and lists the valid ones', () => {
    expect(() => validatePlan(plan([{ at: 0, kind: 'crash', node: 'n9' }]), nodes, 'plan.json')).toThrow(
      /plan\.json: actions\[0\] \(crash\): field "node": unknown node "n9"; use one of the scenario's nodes \(n1, n2, n3\)/,
    );
    expect(() => validatePlan(plan([{ at: 0, kind: 'partition', groups: [['n1'], ['x']] }]), nodes, 'p')).toThrow(/field "groups"\[1\]\[0\]: unknown node "x"/);
    expect(() => validatePlan(plan([{ at: 0, kind: 'membership', members: ['leader'] }]), nodes, 'p')).toThrow(/unknown node "leader"/);
  });

  it('names an unknown kind and lists the kinds', () => {
    expect(() => validatePlan(plan([{ at: 0, kind: 'explode', node: 'n1' }]), nodes, 'p')).toThrow(/actions\[0\]: unknown fault kind "explode"; use one of partition, isolate/);
  });

  it('names a bad or unknown field and says what it should be', () => {
    expect(() => validatePlan(plan([{ at: 0, kind: 'crash', node: 'n1', lose: 'all' }]), nodes, 'p')).toThrow(/unknown field "lose"; a crash action has at, kind, when, nth, afterMs, node, loss/);
    expect(() => validatePlan(plan([{ at: 0, kind: 'crash', node: 'n1', loss: 'half' }]), nodes, 'p')).toThrow(/field "loss" is "half"; use "all"/);
    expect(() => validatePlan(plan([{ at: -5, kind: 'heal' }]), nodes, 'p')).toThrow(/"at" is -5; give the virtual time in ms/);
    expect(() => validatePlan(plan([{ at: 0, kind: 'link', dropRate: 2 }]), nodes, 'p')).toThrow(/field "dropRate" is 2; give a probability from 0 to 1/);
    expect(() => validatePlan(plan([{ at: 0, kind: 'skew', node: 'n1' }]), nodes, 'p')).toThrow(/missing field "rate"/);
    expect(() => validatePlan({ version: 2, actions: [] }, nodes, 'p')).toThrow(/plan version is 2; this raftsim reads version 1/);
    expect(() => validatePlan({ version: 1, steps: [] }, nodes, 'p')).toThrow(/unknown plan field "steps"/);
    expect(() => validatePlan([], nodes, 'p')).toThrow(/a fault plan must be a JSON object/);
    expect(() => validatePlan(plan([{ at: 0, kind: 'heal', when: 'soon' }]), nodes, 'p')).toThrow(/field "when" is "soon"; leave it out, or give "elected"/);
    expect(() => validatePlan(plan([{ at: 0, kind: 'load' }]), nodes, 'p')).toThrow(/\(load\): a load action changes nothing without "thinkMs" or "requestTimeoutMs"; give at least one/);
    expect(() => validatePlan(plan([{ at: 0, kind: 'load', requestTimeoutMs: 0 }]), nodes, 'p')).toThrow(/field "requestTimeoutMs" is 0; give a number of virtual milliseconds from 1 to 60000/);
    expect(() => validatePlan(plan([{ at: 0, kind: 'load', thinkMs: { minMs: 9, maxMs: 2 } }]), nodes, 'p')).toThrow(/field "thinkMs" is .*; give \{ "minMs": a, "maxMs": b \}/);
  });

  it('accepts an action that waits for the next election', () => {
    const ok = plan([{ at: 5, kind: 'membership', members: ['n1', 'n2'], when: 'elected' }]);
    expect(validatePlan(ok, nodes, 'p')).toBe(ok);
  });

  it('accepts nth and afterMs with when: "elected", and names them wrong or alone', () => {
    const ok = plan([{ at: 5, kind: 'heal', when: 'elected', nth: 2, afterMs: 80 }]);
    expect(validatePlan(ok, nodes, 'p')).toBe(ok);
    expect(() => validatePlan(plan([{ at: 0, kind: 'heal', nth: 2 }]), nodes, 'p')).toThrow(/field "nth" refines when: "elected"; add "when": "elected" or leave "nth" out/);
    expect(() => validatePlan(plan([{ at: 0, kind: 'heal', when: 'elected', nth: 0 }]), nodes, 'p')).toThrow(/field "nth" is 0; give an integer from 1 to 20/);
    expect(() => validatePlan(plan([{ at: 0, kind: 'heal', when: 'elected', afterMs: -1 }]), nodes, 'p')).toThrow(/field "afterMs" is -1; give virtual ms from 0 to 10000/);
  });

  it('reports bad JSON with its source', () => {
    expect(() => parsePlanText('{"version":1,', nodes, 'broken.json')).toThrow(/broken\.json: not valid JSON/);
  });

  it('validates generator configs', () => {
    expect(parseGeneratorConfig({ kinds: ['crash', 'restart'], maxActions: 4 }, 's').kinds).toEqual(['crash', 'restart']);
    expect(() => parseGeneratorConfig({ kinds: ['crash', 'nuke'] }, 's')).toThrow(/generate\.kinds names unknown fault kind "nuke"/);
    expect(() => parseGeneratorConfig({ maxActions: -1 }, 's')).toThrow(/generate\.maxActions is -1; it must be an integer/);
    expect(() => parseGeneratorConfig({ intensity: 3 }, 's')).toThrow(/unknown field generate\.intensity/);
  });
});

describe('scenario files with a plan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftsim-scenario-'));
  const write = (name: string, value: unknown): string => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(value));
    return file;
  };

  it('loads a valid plan', () => {
    const file = write('ok.json', { name: 'ok', nodes: 3, faultWindowMs: 1000, plan: plan([{ at: 10, kind: 'crash', node: 'n2' }]) });
    expect(loadScenarioFile(file).plan!.actions).toHaveLength(1);
  });

  it('turns a bad plan into an InputError naming the file, the action and the node', () => {
    const file = write('bad.json', { name: 'bad', nodes: 3, faultWindowMs: 1000, plan: plan([{ at: 10, kind: 'crash', node: 'n7' }]) });
    expect(() => loadScenarioFile(file)).toThrow(InputError);
    expect(() => loadScenarioFile(file)).toThrow(/bad\.json: plan: actions\[0\] \(crash\): field "node": unknown node "n7"/);
  });

  it('turns a bad generator config into an InputError', () => {
    const file = write('gen.json', { name: 'gen', nodes: 3, faultWindowMs: 1000, generate: { kinds: [] } });
    expect(() => loadScenarioFile(file)).toThrow(/generate\.kinds/);
  });
});
