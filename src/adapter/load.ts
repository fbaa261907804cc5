import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { KnobSpace, OptionsValidator, RaftFactory } from './contract.ts';
import { errorMessage } from '../errors.ts';

/** A usage or input error: the CLI prints the message and exits 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** What an implementation module gives: its factory, the knobs generated runs may draw, and its options check. */
export interface Implementation {
  readonly factory: RaftFactory;
  readonly knobs: KnobSpace;
  readonly validateOptions?: OptionsValidator;
}

/**
 * The factory an implementation module exports: a function (host, config) => RaftNode, or a class
 * whose constructor takes (host, config) — called with `new`, which a plain call of a class
 * refuses. Undefined for anything else.
 */
export function asFactory(exported: unknown): RaftFactory | undefined {
  if (typeof exported !== 'function') return undefined;
  if (!Function.prototype.toString.call(exported).startsWith('class')) return exported as RaftFactory;
  const Implementation = exported as new (...args: Parameters<RaftFactory>) => ReturnType<RaftFactory>;
  return (host, config) => new Implementation(host, config);
}

/**
 * Loads a third-party implementation: a module whose default export, or named export
 * `createRaft`, is a RaftFactory (or a class, see asFactory), with optional `knobs` (a KnobSpace) and `validateOptions` (an
 * OptionsValidator) exports. TypeScript modules load through tsx.
 */
export async function loadImplementationModule(modulePath: string): Promise<Implementation> {
  const file = resolve(modulePath);
  if (!existsSync(file)) throw new InputError(`--impl: no module at ${file}; give the path of a .ts or .js file that exports a RaftFactory`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`--impl: loading ${modulePath} failed: ${errorMessage(error)}`);
  }
  const factory = asFactory(module.createRaft ?? module.default);
  if (factory === undefined) {
    throw new InputError(`--impl: ${modulePath} exports no RaftFactory; export a function (host, config) => RaftNode, or a class whose constructor takes (host, config), as default or as "createRaft"`);
  }
  const validateOptions = module.validateOptions;
  if (validateOptions !== undefined && typeof validateOptions !== 'function') {
    throw new InputError(`--impl: ${modulePath} export "validateOptions" must be a function (options) => void that throws on a bad option`);
  }
  return {
    factory,
    knobs: parseKnobs(module.knobs, `--impl: ${modulePath} export "knobs"`),
    ...(validateOptions ? { validateOptions: validateOptions as OptionsValidator } : {}),
  };
}

/**
 * Before a campaign: the options a campaign fixes (`fixed`, named by `source`), and each knob
 * value alone, must pass the implementation's validateOptions; an InputError names the option.
 */
export function checkImplementationOptions(implementation: Implementation, fixed: Readonly<Record<string, unknown>>, source: string): void {
  const validate = implementation.validateOptions;
  if (!validate) return;
  const attempt = (options: Readonly<Record<string, unknown>>, where: string): void => {
    try {
      validate(options);
    } catch (error) {
      throw new InputError(`${where}: ${errorMessage(error)}`);
    }
  };
  attempt(fixed, source);
  for (const [name, values] of Object.entries(implementation.knobs)) {
    values.forEach((value, i) => attempt({ [name]: value }, `the implementation's knob "${name}" value [${i}]`));
  }
}

/** The factory alone (check-adapter, which runs with the defaults). */
export async function loadFactory(modulePath: string): Promise<RaftFactory> {
  return (await loadImplementationModule(modulePath)).factory;
}

/**
 * Validates a `knobs` export: an object mapping each option name to a non-empty list of JSON
 * values, the default first. Errors name the knob and the fix.
 */
export function parseKnobs(value: unknown, source: string): KnobSpace {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(`${source} must be an object { option: [default, other values…] }, not ${JSON.stringify(value) ?? String(value)}`);
  }
  for (const [name, values] of Object.entries(value)) {
    if (!Array.isArray(values) || values.length === 0) {
      throw new InputError(`${source}: knob "${name}" must be a non-empty list of values with the default first, not ${JSON.stringify(values) ?? String(values)}`);
    }
    values.forEach((v, i) => {
      // A plan carries the drawn values as JSON (reports, replay): a value must survive the round trip.
      const text = JSON.stringify(v);
      if (text === undefined || JSON.stringify(JSON.parse(text)) !== text || (typeof v === 'number' && !Number.isFinite(v))) {
        throw new InputError(`${source}: knob "${name}" value [${i}] is not plain JSON (${String(v)}); use numbers, strings, booleans, null, lists or plain objects`);
      }
    });
  }
  return value as KnobSpace;
}
