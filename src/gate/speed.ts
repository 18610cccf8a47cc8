import { mannWhitneyU, median, normalSf } from '../metrics/stats.js';

export type SpeedStatus = 'pass' | 'regression' | 'inconclusive';

export interface SpeedVerdict {
  status: SpeedStatus;
  baselineN: number;
  candidateN: number;
  baselineMedian: number;
  candidateMedian: number;
  /** candidate median / baseline median − 1: +0.08 is 8 % slower. */
  change: number;
  /** One-sided p-value of "the candidate is slower"; null when the test cannot reach alpha at these sizes. */
  p: number | null;
  /** Repeats per side that would settle the question, where the answer is "not yet". */
  neededPerSide?: number;
  message: string;
}

/** Smallest possible one-sided exact p-value with m and n samples: complete separation, 1 / C(m+n, n). */
export function minimumP(m: number, n: number): number {
  let logC = 0;
  for (let i = 1; i <= n; i++) logC += Math.log(m + i) - Math.log(i);
  return Math.exp(-logC);
}

/** Repeats per side needed before complete separation can be significant at alpha at all. */
export function minimumRepeats(alpha: number): number {
  let n = 1;
  while (minimumP(n, n) > alpha) n++;
  return n;
}

/** z with P(Z > z) = q, by bisection on the normal tail (monotone, so this always converges). */
function zUpper(q: number): number {
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (normalSf(mid) > q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Noether's sample size for the Mann–Whitney test: repeats per side to detect, with 80 % power at alpha,
 * a difference whose probability of superiority P(candidate > baseline) is `pSup`.
 */
export function repeatsToResolve(pSup: number, alpha: number, power = 0.8): number | undefined {
  const d = pSup - 0.5;
  if (d <= 0) return undefined;
  const z = zUpper(alpha) + zUpper(1 - power);
  return Math.ceil((z * z) / (6 * d * d));
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

/**
 * A regression is a candidate both significantly slower (one-sided Mann–Whitney U, p ≤ alpha) and slower
 * in the median by more than minEffect. Too few repeats to ever reach alpha, or a slowdown above the
 * minimum effect that the test cannot yet confirm, is inconclusive: reported with the repeats it needs.
 */
export function speedVerdict(baseline: readonly number[], candidate: readonly number[], alpha: number, minEffect: number): SpeedVerdict {
  const m = baseline.length;
  const n = candidate.length;
  const bMed = median(baseline);
  const cMed = median(candidate);
  const change = cMed / bMed - 1;
  const base = { baselineN: m, candidateN: n, baselineMedian: bMed, candidateMedian: cMed, change };
  const sizes = `${m} baseline and ${n} candidate repeats`;
  if (minimumP(m, n) > alpha) {
    const need = minimumRepeats(alpha);
    return {
      ...base,
      status: 'inconclusive',
      p: null,
      neededPerSide: need,
      message: `median ${pct(change)}, but ${sizes} cannot show significance at α = ${alpha}: run at least ${need} repeats per side`,
    };
  }
  const test = mannWhitneyU(candidate, baseline, 'greater');
  const p = test.p;
  if (p <= alpha && change > minEffect) {
    return { ...base, status: 'regression', p, message: `slower: median ${pct(change)} (p = ${p.toPrecision(2)} ≤ α = ${alpha}, more than the ${pct(minEffect)} minimum effect)` };
  }
  if (change > minEffect) {
    const need = repeatsToResolve(test.commonLanguage, alpha);
    return {
      ...base,
      status: 'inconclusive',
      p,
      ...(need !== undefined ? { neededPerSide: Math.max(need, minimumRepeats(alpha)) } : {}),
      message: `median ${pct(change)} but not significant (p = ${p.toPrecision(2)} > α = ${alpha}) with ${sizes}${need !== undefined ? `: about ${Math.max(need, minimumRepeats(alpha))} repeats per side would tell` : ''}`,
    };
  }
  const faster = mannWhitneyU(candidate, baseline, 'less').p;
  const why =
    p <= alpha
      ? `significantly slower (p = ${p.toPrecision(2)}) but within the ${pct(minEffect)} minimum effect`
      : faster <= alpha && -change > minEffect
        ? `faster (p = ${faster.toPrecision(2)})`
        : `no significant slowdown (p = ${p.toPrecision(2)})`;
  return { ...base, status: 'pass', p, message: `median ${pct(change)}: ${why}` };
}
