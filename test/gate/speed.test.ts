import { describe, expect, it } from 'vitest';
import { minimumP, minimumRepeats, repeatsToResolve, speedVerdict } from '../../src/gate/speed.js';
import { mulberry32 } from '../../src/util/rng.js';


/** Benchmark-like times: a floor plus right-skewed (log-normal) noise of about 5 %. */
function times(rand: () => number, n: number, scale = 1): number[] {
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    return scale * (1000 + 50 * Math.exp(0.8 * z));
  });
}

describe('how many repeats a test can use', () => {
  it('knows the smallest p-value a sample size allows', () => {
    expect(minimumP(5, 5)).toBeCloseTo(1 / 252, 10);
    expect(minimumP(4, 4)).toBeCloseTo(1 / 70, 10);
    expect(minimumRepeats(0.01)).toBe(5);
    expect(minimumRepeats(0.05)).toBe(3);
    expect(minimumRepeats(0.001)).toBe(7);
  });

  it("estimates repeats to resolve an effect with Noether's formula", () => {
    // P(X > Y) = 0.75 at α = 0.01 one-sided, 80 % power: (2.326 + 0.842)² / (6 · 0.0625) ≈ 26.8.
    expect(repeatsToResolve(0.75, 0.01)).toBe(27);
    expect(repeatsToResolve(0.5, 0.01)).toBeUndefined();
  });
});

describe('speed verdicts', () => {
  it('calls a clear slowdown with enough repeats a regression', () => {
    const v = speedVerdict([100, 101, 102, 103, 104, 105], [120, 121, 122, 123, 124, 125], 0.01, 0.05);
    expect(v.status).toBe('regression');
    expect(v.change).toBeCloseTo(122.5 / 102.5 - 1, 10);
    expect(v.p).toBeCloseTo(1 / 924, 10);
    expect(v.message).toMatch(/^slower: median \+19\.5 % \(p = 0\.0011 ≤ α = 0\.01/);
  });

  it('is inconclusive with too few repeats, and says how many it needs', () => {
    const v = speedVerdict([100, 101, 102], [150, 151, 152], 0.01, 0.05);
    expect(v).toMatchObject({ status: 'inconclusive', p: null, neededPerSide: 5 });
    expect(v.message).toMatch(/3 baseline and 3 candidate repeats cannot show significance at α = 0\.01: run at least 5 repeats per side/);
  });

  it('is inconclusive when the median slowed by more than the minimum effect but the test cannot confirm it', () => {
    const v = speedVerdict([100, 130, 101, 125, 99], [110, 135, 104, 128, 112], 0.01, 0.05);
    expect(v.status).toBe('inconclusive');
    expect(v.p).toBeGreaterThan(0.01);
    expect(v.neededPerSide).toBeGreaterThan(5);
    expect(v.message).toMatch(/not significant .* repeats per side would tell/);
  });

  it('passes a significant slowdown smaller than the minimum effect, and notes a speed-up', () => {
    const small = speedVerdict([100, 100.5, 101, 101.5, 102, 102.5], [103, 103.5, 104, 104.5, 105, 105.5], 0.01, 0.05);
    expect(small.status).toBe('pass');
    expect(small.message).toMatch(/significantly slower .* but within the \+5\.0 % minimum effect/);
    const faster = speedVerdict([120, 121, 122, 123, 124, 125], [100, 101, 102, 103, 104, 105], 0.01, 0.05);
    expect(faster.status).toBe('pass');
    expect(faster.message).toMatch(/faster/);
  });

  it('keeps the false-alarm rate of identical builds under alpha, and catches a 15 % slowdown', () => {
    const rand = mulberry32(42);
    const trials = 2000;
    let falseAlarms = 0;
    let caught = 0;
    for (let i = 0; i < trials; i++) {
      if (speedVerdict(times(rand, 8), times(rand, 8), 0.01, 0.05).status === 'regression') falseAlarms++;
      if (speedVerdict(times(rand, 8), times(rand, 8, 1.15), 0.01, 0.05).status === 'regression') caught++;
    }
    expect(falseAlarms / trials).toBeLessThanOrEqual(0.01);
    expect(caught / trials).toBeGreaterThan(0.95);
  });
});
