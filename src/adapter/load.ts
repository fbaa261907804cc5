import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RaftFactory } from './contract.ts';

/** A usage or input error: the CLI prints the message and exits 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/**
 * Loads a third-party implementation: a module whose default export, or named export
 * `createRaft`, is a RaftFactory. TypeScript modules load through tsx.
 */
export async function loadFactory(modulePath: string): Promise<RaftFactory> {
  const file = resolve(modulePath);
  if (!existsSync(file)) throw new InputError(`--impl: no module at ${file}; give the path of a .ts or .js file that exports a RaftFactory`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`--impl: loading ${modulePath} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const factory = module.createRaft ?? module.default;
  if (typeof factory !== 'function') {
    throw new InputError(`--impl: ${modulePath} exports no RaftFactory; export a function (host, config) => RaftNode as default or as "createRaft"`);
  }
  return factory as RaftFactory;
}
