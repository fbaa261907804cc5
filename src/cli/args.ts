import { InputError } from '../adapter/load.ts';

/** Parses a seed: a decimal or 0x-hex integer in [0, 2^32). */
export function parseSeed(value: string, option = '--seed'): number {
  const n = /^0x[0-9a-f]+$/i.test(value) ? Number.parseInt(value, 16) : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) {
    throw new InputError(`${option}: "${value}" is not a seed; give an integer from 0 to 4294967295 (decimal or 0x-hex)`);
  }
  return n;
}

export function parsePositiveInt(value: string, option: string, max = 100_000_000): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new InputError(`${option}: "${value}" is not a count; give a whole number from 1 to ${max}`);
  }
  return Number(value);
}
