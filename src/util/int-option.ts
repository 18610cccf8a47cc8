import { usageError } from '../errors.js';

/**
 * A whole-number command-line option. `min` is 1 for counts and sizes, 0 where 0 has a meaning of its
 * own (threads: as many as the runtime picks; overlap: none). Only decimal digits pass, so "1.5", "-5",
 * "0x10", "1e3" and "" are refused rather than read as something the user did not mean.
 */
export function intOption(flag: string, value: string | number, min: 0 | 1, example: number): number {
  const text = String(value).trim();
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw usageError(`${flag} ${value} is not a ${min === 1 ? 'positive' : 'non-negative'} integer`, `pass a whole number, e.g. ${flag} ${example}`);
  }
  return Number(text);
}
