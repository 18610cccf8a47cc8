import { inputError } from '../errors.js';
import { IGNORE } from './labels.js';
import type { NumericArray } from './scaling.js';

/**
 * Metrics of one class (or a merged set of classes) treated as the positive class.
 *
 * Conventions: positives are reference pixels in the class; predicted positives are predicted pixels in
 * it. A ratio whose denominator is zero is undefined and reported as null:
 * precision = TP/(TP+FP) (null with no predicted positives), recall = TP/(TP+FN) (null with no reference
 * positives), IoU = TP/(TP+FP+FN), F-beta = (1+β²)TP / ((1+β²)TP + β²FN + FP) (null only when the class is
 * absent from both prediction and reference; 0 when either side has it and they never agree).
 */
export interface ClassMetrics {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number | null;
  recall: number | null;
  fbeta: number | null;
  iou: number | null;
}

/** The binary masks the papers score: cloud = thick or thin, shadow, and cloud or shadow. */
export const BINARY_MASKS: Readonly<Record<'cloud' | 'shadow' | 'cloudOrShadow', readonly number[]>> = {
  cloud: [1, 2],
  shadow: [3],
  cloudOrShadow: [1, 2, 3],
};

const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);

export function metricsFromCounts(tp: number, fp: number, fn: number, tn: number, beta = 2): ClassMetrics {
  const b2 = beta * beta;
  return {
    tp,
    fp,
    fn,
    tn,
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    fbeta: ratio((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp),
    iou: ratio(tp, tp + fp + fn),
  };
}

/**
 * A K-class confusion matrix (rows: reference, columns: prediction), accumulated block by block.
 * Pixels whose reference or prediction is an ignore code, or whose mask byte is 0, are skipped.
 */
export class ConfusionAccumulator {
  readonly classes: number;
  readonly ignore: ReadonlySet<number>;
  readonly matrix: Float64Array;

  constructor(classes = 4, ignore: readonly number[] = [IGNORE]) {
    this.classes = classes;
    this.ignore = new Set(ignore);
    this.matrix = new Float64Array(classes * classes);
  }

  add(predicted: NumericArray, reference: NumericArray, mask?: Uint8Array): void {
    if (predicted.length !== reference.length) {
      throw new Error(`prediction has ${predicted.length} pixels, reference ${reference.length}`);
    }
    const k = this.classes;
    for (let i = 0; i < reference.length; i++) {
      if (mask && mask[i] === 0) continue;
      const r = reference[i];
      const p = predicted[i];
      if (this.ignore.has(r) || this.ignore.has(p)) continue;
      if (!(r >= 0 && r < k && Number.isInteger(r)) || !(p >= 0 && p < k && Number.isInteger(p))) {
        const bad = r >= 0 && r < k && Number.isInteger(r) ? `predicted class ${p}` : `reference class ${r}`;
        throw inputError(
          `${bad} is outside the ${k} classes 0…${k - 1}`,
          'map label codes to classes first (applyLabelMap), or list the code as ignored',
        );
      }
      this.matrix[r * k + p]++;
    }
  }

  merge(other: ConfusionAccumulator): this {
    if (other.classes !== this.classes) throw new Error(`cannot merge ${other.classes} classes into ${this.classes}`);
    for (let i = 0; i < this.matrix.length; i++) this.matrix[i] += other.matrix[i];
    return this;
  }

  total(): number {
    return this.matrix.reduce((a, b) => a + b, 0);
  }

  /** Counts and metrics with the given classes merged into one positive class, all others negative. */
  binary(positive: readonly number[], beta = 2): ClassMetrics {
    const k = this.classes;
    const pos = new Set(positive);
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let tn = 0;
    for (let r = 0; r < k; r++) {
      for (let p = 0; p < k; p++) {
        const n = this.matrix[r * k + p];
        if (pos.has(r)) {
          if (pos.has(p)) tp += n;
          else fn += n;
        } else if (pos.has(p)) fp += n;
        else tn += n;
      }
    }
    return metricsFromCounts(tp, fp, fn, tn, beta);
  }

  /** One-vs-rest metrics of each class. */
  perClass(beta = 2): ClassMetrics[] {
    return Array.from({ length: this.classes }, (_, c) => this.binary([c], beta));
  }

  /** Cloud (thick+thin), shadow, and cloud-or-shadow masks of the CloudSEN12 classes. */
  masks(beta = 2): Record<keyof typeof BINARY_MASKS, ClassMetrics> {
    return {
      cloud: this.binary(BINARY_MASKS.cloud, beta),
      shadow: this.binary(BINARY_MASKS.shadow, beta),
      cloudOrShadow: this.binary(BINARY_MASKS.cloudOrShadow, beta),
    };
  }

  /** Fraction of counted pixels on the diagonal; null when nothing was counted. */
  accuracy(): number | null {
    let diag = 0;
    for (let c = 0; c < this.classes; c++) diag += this.matrix[c * this.classes + c];
    return ratio(diag, this.total());
  }
}
