import { HilError } from '../../src/errors.js';

/** The HilError `fn` throws; anything else thrown is rethrown, and not throwing fails the test. */
export function hilErrorOf(fn: () => unknown): HilError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HilError) return err;
    throw err;
  }
  throw new Error('expected a HilError');
}
