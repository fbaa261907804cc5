import { readFileSync } from 'node:fs';
import { InputError } from '../src/adapter/load.ts';
import { parseScenario, type Scenario } from '../src/sim/scenario.ts';
import { defaultScenario } from './default.ts';

/** Every named scenario, in the order `raftsim list` shows them. */
export const SCENARIOS: readonly Scenario[] = [defaultScenario];

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
    return parseScenario(json, file);
  } catch (error) {
    throw new InputError(`--scenario: ${error instanceof Error ? error.message : String(error)}`);
  }
}
