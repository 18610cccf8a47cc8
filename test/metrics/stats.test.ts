import { describe, expect, it } from 'vitest';
import { mannWhitneyU, median, medianCI, normalSf, quantile } from '../../src/metrics/stats.js';
import { mulberry32 } from '../../src/util/rng.js';


describe('median and quantiles', () => {
  it('interpolates between order statistics', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantile([10, 20], 0.9)).toBeCloseTo(19, 12);
    expect(quantile([7], 0.3)).toBe(7);
    expect(() => median([])).toThrow(/empty/);
  });
});

describe('medianCI', () => {
  it('uses the binomial order statistics', () => {
    // n = 10: P(Bin(10,½) ≤ 1) = 11/1024 ≤ 0.025 < P(≤ 2) = 56/1024, so k = 2: [x(2), x(9)], coverage 1 − 22/1024.
    const xs = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    const ci = medianCI(xs);
    expect(ci.median).toBe(5.5);
    expect(ci.lower).toBe(2);
    expect(ci.upper).toBe(9);
    expect(ci.confidence).toBeCloseTo(1 - 22 / 1024, 12);
  });

  it('gives no interval when the sample is too small for the level', () => {
    // n = 5: P(Bin(5,½) ≤ 0) = 1/32 > 0.025.
    expect(medianCI([1, 2, 3, 4, 5]).lower).toBeNull();
    // n = 6: 1/64 ≤ 0.025 → [x(1), x(6)].
    const ci = medianCI([1, 2, 3, 4, 5, 6]);
    expect([ci.lower, ci.upper]).toEqual([1, 6]);
    expect(ci.confidence).toBeCloseTo(1 - 2 / 64, 12);
  });
});

describe('normalSf', () => {
  it('matches standard normal tail values', () => {
    expect(normalSf(0)).toBeCloseTo(0.5, 7);
    expect(normalSf(1.959963985)).toBeCloseTo(0.025, 6);
    expect(normalSf(-1.644853627)).toBeCloseTo(0.95, 6);
  });
});

describe('mannWhitneyU', () => {
  it('computes exact p-values on a hand-countable case', () => {
    // x beats y in 17 of 20 pairs. With m = 5, n = 4 there are C(9,4) = 126 arrangements, and U ≥ 17 (⇔ U' ≤ 3)
    // in 1 + 1 + 2 + 3 = 7 of them (partitions of 0..3), so P = 7/126.
    const x = [19, 22, 16, 29, 24];
    const y = [20, 11, 17, 12];
    const g = mannWhitneyU(x, y, 'greater');
    expect(g.method).toBe('exact');
    expect(g.u).toBe(17);
    expect(g.p).toBeCloseTo(7 / 126, 12);
    expect(mannWhitneyU(x, y).p).toBeCloseTo(14 / 126, 12);
    expect(mannWhitneyU(x, y, 'less').p).toBeCloseTo(1 - 4 / 126, 12); // P(U ≤ 17) = 1 − P(U ≥ 18) = 1 − P(U ≤ 2)
    expect(g.commonLanguage).toBeCloseTo(17 / 20, 12);
  });

  it('matches the classic textbook example', () => {
    // Hollander & Wolfe's example as used in scipy's docs: U = 58. y has ties (1.06, 1.29), so the normal
    // approximation applies; reference p-values from scipy's asymptotic method.
    const x = [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3];
    const y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
    const r = mannWhitneyU(x, y);
    expect(r.method).toBe('normal');
    expect(r.u).toBe(58);
    expect(r.p).toBeCloseTo(0.13291945818531892, 6);
    expect(mannWhitneyU(x, y, 'greater').p).toBeCloseTo(0.06645972909265946, 6);
  });

  it('matches scipy exact p-values on a larger tie-free sample', () => {
    const x = [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3, 2.2, 0.7, 3.3];
    const y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.07, 3.14, 1.28, 0.3];
    const r = mannWhitneyU(x, y);
    expect(r.method).toBe('exact');
    expect(r.u).toBe(89);
    expect(r.p).toBeCloseTo(0.05913591052909939, 10);
    expect(mannWhitneyU(x, y, 'greater').p).toBeCloseTo(0.029567955264549695, 10);
  });

  it('uses the tie- and continuity-corrected normal approximation with ties', () => {
    const x = [1, 2, 2, 3, 3, 3, 4, 5];
    const y = [3, 4, 4, 5, 5, 6, 7, 7, 8];
    const r = mannWhitneyU(x, y);
    expect(r.method).toBe('normal');
    expect(r.u).toBe(7.5);
    // Reference values from scipy.stats.mannwhitneyu (asymptotic, use_continuity=True).
    expect(r.p).toBeCloseTo(0.006373133838085873, 6);
    expect(mannWhitneyU(x, y, 'less').p).toBeCloseTo(0.0031865669190429364, 6);
    expect(mannWhitneyU(x, y, 'greater').p).toBeCloseTo(0.9976386658073535, 6);
  });

  it('is symmetric in its samples', () => {
    const next = mulberry32(7);
    const x = Array.from({ length: 12 }, () => next());
    const y = Array.from({ length: 9 }, () => next() + 0.2);
    const a = mannWhitneyU(x, y);
    const b = mannWhitneyU(y, x);
    expect(a.u + b.u).toBe(12 * 9);
    expect(a.p).toBeCloseTo(b.p, 12);
    expect(mannWhitneyU(x, y, 'greater').p).toBeCloseTo(mannWhitneyU(y, x, 'less').p, 12);
    expect(a.shift).toBeCloseTo(-b.shift, 12);
  });

  it('reports the Hodges–Lehmann shift and median ratio', () => {
    const r = mannWhitneyU([11, 12, 13], [1, 2, 3]);
    expect(r.shift).toBe(10);
    expect(r.medianRatio).toBe(6);
    expect(mannWhitneyU([1], [0]).medianRatio).toBeNull();
  });

  it('rejects about 5 % of the time under H0 (exact and normal paths)', () => {
    const next = mulberry32(2024);
    const trials = 1500;
    for (const [m, n, round] of [
      [10, 10, false],
      [40, 40, true], // rounding makes ties → normal approximation
    ] as const) {
      let rejected = 0;
      for (let t = 0; t < trials; t++) {
        const draw = () => (round ? Math.round(next() * 20) : next());
        const x = Array.from({ length: m }, draw);
        const y = Array.from({ length: n }, draw);
        if (mannWhitneyU(x, y).p < 0.05) rejected++;
      }
      const rate = rejected / trials;
      expect(rate).toBeGreaterThan(0.025);
      expect(rate).toBeLessThan(0.075);
    }
  });
});
