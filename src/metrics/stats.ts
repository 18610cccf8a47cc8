/**
 * Distribution-free statistics for repeated benchmark runs: timings are skewed and few, so summaries are
 * medians with order-statistic confidence intervals, and comparisons use the Mann–Whitney U test.
 */

const sorted = (xs: readonly number[]): number[] => {
  if (xs.some((x) => Number.isNaN(x))) throw new Error('statistics of a sample containing NaN');
  return [...xs].sort((a, b) => a - b);
};

/** Quantile q ∈ [0, 1] by linear interpolation between order statistics (R type 7, numpy's default). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) throw new Error('quantile of an empty sample');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile ${q} is outside [0, 1]`);
  const s = sorted(xs);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** log C(n, k), exact enough for binomial tails at the sample sizes of benchmarks. */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** P(X ≤ k) for X ~ Binomial(n, 1/2). */
function binomHalfCdf(k: number, n: number): number {
  let p = 0;
  for (let i = 0; i <= k; i++) p += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, p);
}

export interface MedianInterval {
  median: number;
  /** null when the sample is too small for any interval at the requested level. */
  lower: number | null;
  upper: number | null;
  /** The coverage actually achieved (≥ the requested level; order statistics make it discrete). */
  confidence: number | null;
}

/**
 * Distribution-free confidence interval for the median: [x(k), x(n−k+1)] with the largest k such that
 * P(Bin(n, ½) ≤ k−1) ≤ (1−level)/2, so coverage is at least `level` for any continuous distribution.
 * Needs n ≥ 6 at 95 %.
 */
export function medianCI(xs: readonly number[], level = 0.95): MedianInterval {
  const s = sorted(xs);
  const n = s.length;
  const m = median(s);
  const alpha = 1 - level;
  let k = 0;
  while (k + 1 <= Math.floor(n / 2) && binomHalfCdf(k, n) <= alpha / 2) k++;
  if (k === 0) return { median: m, lower: null, upper: null, confidence: null };
  return { median: m, lower: s[k - 1], upper: s[n - k], confidence: 1 - 2 * binomHalfCdf(k - 1, n) };
}

/** Standard normal upper tail P(Z > z), via erfc (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7). */
export function normalSf(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  const erfc = x >= 0 ? y : 2 - y;
  return erfc / 2;
}

/** Midranks (1-based) of the pooled sample, and Σ(t³ − t) over tie groups. */
function rank(pooled: readonly number[]): { ranks: number[]; tieSum: number } {
  const order = pooled.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(pooled.length);
  let tieSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = r;
    const t = j - i + 1;
    tieSum += t * t * t - t;
    i = j + 1;
  }
  return { ranks, tieSum };
}

/**
 * Null distribution of U for sample sizes m, n without ties: counts[u] = number of arrangements with
 * U = u, by the recurrence f(u; m, n) = f(u − n; m − 1, n) + f(u; m, n − 1).
 */
function exactUCounts(m: number, n: number): Float64Array {
  // Rolling table over n' = 0..n for each m' = 0..m, built up in m'.
  let prev: Float64Array[] = Array.from({ length: n + 1 }, () => Float64Array.of(1));
  for (let mi = 1; mi <= m; mi++) {
    const cur: Float64Array[] = [Float64Array.of(1)];
    for (let ni = 1; ni <= n; ni++) {
      const size = mi * ni + 1;
      const f = new Float64Array(size);
      const left = prev[ni];
      const down = cur[ni - 1];
      for (let u = 0; u < size; u++) {
        f[u] = (u - ni >= 0 && u - ni < left.length ? left[u - ni] : 0) + (u < down.length ? down[u] : 0);
      }
      cur.push(f);
    }
    prev = cur;
  }
  return prev[n];
}

export type Alternative = 'two-sided' | 'greater' | 'less';

export interface MannWhitneyResult {
  /** U of the first sample: the number of pairs (x, y) with x > y, ties counting ½. */
  u: number;
  p: number;
  method: 'exact' | 'normal';
  /** Hodges–Lehmann shift: median of all pairwise differences x − y. */
  shift: number;
  /** median(x) / median(y); null when median(y) is 0. */
  medianRatio: number | null;
  /** U / (m·n): the probability that a random x exceeds a random y (ties ½). */
  commonLanguage: number;
}

/** Above this many pairs the exact null distribution is replaced by the normal approximation. */
const EXACT_MAX_PAIRS = 2500;

/**
 * Mann–Whitney U test of x against y. 'greater' tests whether x tends to be larger than y (e.g. a new
 * build is slower than a baseline). The exact null distribution is used for samples without ties and at
 * most 2,500 pairs; otherwise the normal approximation with tie correction and continuity correction.
 * Two-sided p-values are twice the smaller tail, capped at 1.
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[], alternative: Alternative = 'two-sided'): MannWhitneyResult {
  const m = x.length;
  const n = y.length;
  if (m === 0 || n === 0) throw new Error('Mann–Whitney U needs two non-empty samples');
  if ([...x, ...y].some((v) => Number.isNaN(v))) throw new Error('Mann–Whitney U of a sample containing NaN');
  const { ranks, tieSum } = rank([...x, ...y]);
  let r1 = 0;
  for (let i = 0; i < m; i++) r1 += ranks[i];
  const u = r1 - (m * (m + 1)) / 2;

  let p: number;
  let method: MannWhitneyResult['method'];
  if (tieSum === 0 && m * n <= EXACT_MAX_PAIRS) {
    method = 'exact';
    const counts = exactUCounts(m, n);
    let total = 0;
    for (const c of counts) total += c;
    let upper = 0; // P(U ≥ u)
    let lower = 0; // P(U ≤ u)
    for (let k = 0; k < counts.length; k++) {
      if (k >= u) upper += counts[k];
      if (k <= u) lower += counts[k];
    }
    upper /= total;
    lower /= total;
    p = alternative === 'greater' ? upper : alternative === 'less' ? lower : Math.min(1, 2 * Math.min(upper, lower));
  } else {
    method = 'normal';
    const N = m + n;
    const mu = (m * n) / 2;
    const sigma = Math.sqrt(((m * n) / 12) * (N + 1 - tieSum / (N * (N - 1))));
    if (sigma === 0) {
      p = 1;
    } else if (alternative === 'greater') {
      p = normalSf((u - mu - 0.5) / sigma);
    } else if (alternative === 'less') {
      p = normalSf((mu - u - 0.5) / sigma);
    } else {
      p = Math.min(1, 2 * normalSf((Math.abs(u - mu) - 0.5) / sigma));
    }
  }

  const diffs = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) diffs[i * n + j] = x[i] - y[j];
  diffs.sort();
  const half = diffs.length / 2;
  const shift = diffs.length % 2 === 1 ? diffs[Math.floor(half)] : (diffs[half - 1] + diffs[half]) / 2;
  const my = median(y);
  return {
    u,
    p,
    method,
    shift,
    medianRatio: my === 0 ? null : median(x) / my,
    commonLanguage: u / (m * n),
  };
}
