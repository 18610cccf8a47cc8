import { describe, expect, it } from 'vitest';
import { idleBefore } from '../../src/backends/run-idle.js';

describe('the inference thread\'s idle time between runs', () => {
  it('counts none before the first run', () => {
    expect(idleBefore(undefined, 5, 10)).toEqual({ request: 0, input: 0 });
  });

  it('is all waiting for the input when the request came while the previous run was busy', () => {
    expect(idleBefore(100, 90, 130)).toEqual({ request: 0, input: 30 });
  });

  it('is all waiting for the request when the input was there once it came', () => {
    expect(idleBefore(100, 125, 125)).toEqual({ request: 25, input: 0 });
  });

  it('splits at the request when the input came after it', () => {
    expect(idleBefore(100, 110, 140)).toEqual({ request: 10, input: 30 });
  });

  it('counts none when the run starts as the previous one ends', () => {
    expect(idleBefore(100, 80, 100)).toEqual({ request: 0, input: 0 });
  });
});
