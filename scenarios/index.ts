import { readFileSync } from 'node:fs';
import { InputError } from '../src/adapter/load.ts';
import { parseGeneratorConfig } from '../src/faults/arbitraries.ts';
import { validatePlan } from '../src/faults/validate.ts';
import { nodeIds, parseScenario, type Scenario } from '../src/sim/scenario.ts';
import { CLASSIC_SCENARIOS } from './classic.ts';
import { defaultScenario } from './default.ts';

/** Every named scenario, in the order `raftsim list` shows them. */
export const SCENARIOS: readonly Scenario[] = [defaultScenario, ...CLASSIC_SCENARIOS];

/** A scenario by name, or from a JSON file when the argument ends in ".json". */
export function findScenario(nameOrFile: string): Scenario {
  if (nameOrFile.endsWith('.json')) return loadScenarioFile(nameOrFile);
  const scenario = SCENARIOS.find((s) => s.name === nameOrFile);
  if (!scenario) {
    throw new InputError(`--scenario: unknown scenario "${nameOrFile}"; run "raftsim list" for the names, or give a path to a .json scenario file`);
  }
  return scenario;
}

export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new InputError(`--scenario: cannot read ${file}; give the path of an existing .json scenario file`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(`--scenario: ${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    const scenario = parseScenario(json, file);
    const nodes = nodeIds(scenario.nodes);
    if (scenario.plan !== undefined) validatePlan(scenario.plan, nodes, `${file}: plan`);
    if (scenario.generate !== undefined) parseGeneratorConfig(scenario.generate, file, scenario.faultWindowMs);
    return scenario;
  } catch (error) {
    throw new InputError(`--scenario: ${error instanceof Error ? error.message : String(error)}`);
  }
}
