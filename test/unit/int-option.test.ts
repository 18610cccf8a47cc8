import { describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { intOption } from '../../src/util/int-option.js';

describe('intOption', () => {
  it('reads decimal whole numbers from text or numbers', () => {
    expect(intOption('--batch', '4', 1, 4)).toBe(4);
    expect(intOption('--batch', 7, 1, 4)).toBe(7);
    expect(intOption('--threads', '0', 0, 2)).toBe(0);
  });

  it.each([
    ['1.5', 1],
    ['-5', 1],
    ['0x10', 1],
    ['1e3', 1],
    ['', 1],
    ['0', 1],
    ['-1', 0],
    ['99999999999999999999', 1],
  ] as const)('refuses %j (min %d) as a usage error naming the flag and an example', (text, min) => {
    let err: unknown;
    try {
      intOption('--size', text, min, 1024);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HilError);
    expect((err as HilError).kind).toBe('usage');
    expect((err as HilError).message).toBe(`--size ${text} is not a ${min === 1 ? 'positive' : 'non-negative'} integer`);
    expect((err as HilError).fix).toBe('pass a whole number, e.g. --size 1024');
  });
});
