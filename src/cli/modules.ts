import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError, loadImplementationModule, type Implementation } from '../adapter/load.ts';
import type { CheckerDefinition } from '../../invariants/types.ts';

/**
 * Loading what a run needs by name, so that worker threads and `replay` can load exactly what the
 * campaign used: the implementation ("reference" or a module path) and the checkers ("builtin" =
 * invariants/index.ts ALL_CHECKERS, or a module exporting CHECKERS, ALL_CHECKERS or a default list).
 */
export const REFERENCE = 'reference';
export const BUILTIN_CHECKERS = 'builtin';

const implementations = new Map<string, Promise<Implementation>>();
const checkerLists = new Map<string, Promise<readonly CheckerDefinition[]>>();

/** How a module path is recorded: relative to the working directory when inside it. */
export function recordPath(path: string): string {
  const absolute = resolve(path);
  const rel = relative(process.cwd(), absolute);
  return rel.startsWith('..') || isAbsolute(rel) ? absolute : rel;
}

export function loadImplementation(implementation: string): Promise<Implementation> {
  let loaded = implementations.get(implementation);
  if (!loaded) {
    loaded =
      implementation === REFERENCE
        ? import('../raft/index.ts').then((m) => ({ factory: m.createRaft, knobs: m.knobs, validateOptions: m.validateOptions }))
        : loadImplementationModule(implementation);
    implementations.set(implementation, loaded);
  }
  return loaded;
}

export function loadCheckers(module: string, option = '--checkers'): Promise<readonly CheckerDefinition[]> {
  let loaded = checkerLists.get(module);
  if (!loaded) {
    loaded = module === BUILTIN_CHECKERS ? import('../../invariants/index.ts').then((m) => m.ALL_CHECKERS) : importCheckers(module, option);
    checkerLists.set(module, loaded);
  }
  return loaded;
}

async function importCheckers(module: string, option: string): Promise<readonly CheckerDefinition[]> {
  const file = resolve(module);
  if (!existsSync(file)) throw new InputError(`${option}: no module at ${file}; give a .ts or .js file exporting CHECKERS (a list of CheckerDefinition)`);
  const m = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const list = m.CHECKERS ?? m.ALL_CHECKERS ?? m.default;
  if (!Array.isArray(list) || !list.every((c) => typeof c === 'object' && c !== null && typeof (c as CheckerDefinition).create === 'function')) {
    throw new InputError(`${option}: ${module} exports no checker list; export CHECKERS: CheckerDefinition[]`);
  }
  return list as CheckerDefinition[];
}
