import { BINARY_MASKS, ConfusionAccumulator } from '../metrics/confusion.js';
import { RmseAccumulator } from '../metrics/rmse.js';
import { median } from '../metrics/stats.js';

/** Where the cloud/shadow pixels excluded from AC RMSE come from. */
export type AcMaskSource = 'labels' | 'scl' | 'model' | 'none';
/** What SC predictions are scored against. */
export type ScReferenceSource = 'labels' | 'scl';
/** A pooled block over samples that did not all use the same source. */
type Pooled<T> = T | 'mixed';

type MaskName = keyof typeof BINARY_MASKS;
type PerMask = Record<MaskName, number | null>;
type PerBand = Record<string, number | null>;

/** A metric that cannot be a number for this model or sample, and why (synthetic weights, no reference). */
export interface NotApplicable {
  notApplicable: string;
}

/** AC accuracy in reflectance units; `baseline*` is the no-correction baseline (TOA vs L2A) on the same pixels. */
export interface AcAccuracy {
  model: string;
  mask: Pooled<AcMaskSource>;
  rmse: PerBand;
  baselineRmse: PerBand;
  bias: PerBand;
  baselineBias: PerBand;
  pixels: Record<string, number>;
}

export interface ScAccuracy {
  model: string;
  reference: Pooled<ScReferenceSource>;
  f2: PerMask;
  precision: PerMask;
  recall: PerMask;
  iou: PerMask;
  /** Rows reference, columns prediction: clear, thick, thin, shadow. */
  confusion: number[][];
  pixels: number;
}

/** Accumulated counts of one sample (or a merge of samples), from which the reported blocks are made. */
export interface AcCounts {
  model: string;
  mask: Pooled<AcMaskSource>;
  predicted: RmseAccumulator;
  baseline: RmseAccumulator;
}

export interface ScCounts {
  model: string;
  reference: Pooled<ScReferenceSource>;
  confusion: ConfusionAccumulator;
}

const byBand = (acc: RmseAccumulator, pick: 'rmse' | 'bias') => Object.fromEntries(acc.result().map((r) => [r.band, r[pick]]));

export function acBlock(c: AcCounts): AcAccuracy {
  return {
    model: c.model,
    mask: c.mask,
    rmse: byBand(c.predicted, 'rmse'),
    baselineRmse: byBand(c.baseline, 'rmse'),
    bias: byBand(c.predicted, 'bias'),
    baselineBias: byBand(c.baseline, 'bias'),
    pixels: Object.fromEntries(c.predicted.result().map((r) => [r.band, r.count])),
  };
}

export function scBlock(c: ScCounts): ScAccuracy {
  const masks = c.confusion.masks(2);
  const pick = (k: 'fbeta' | 'precision' | 'recall' | 'iou') =>
    Object.fromEntries(Object.entries(masks).map(([name, m]) => [name, m[k]])) as PerMask;
  const k = c.confusion.classes;
  return {
    model: c.model,
    reference: c.reference,
    f2: pick('fbeta'),
    precision: pick('precision'),
    recall: pick('recall'),
    iou: pick('iou'),
    confusion: Array.from({ length: k }, (_, r) => Array.from(c.confusion.matrix.subarray(r * k, (r + 1) * k))),
    pixels: c.confusion.total(),
  };
}

/** Median over samples of each key, skipping samples where the value is null; null when none has one. */
function medianOf(records: Record<string, number | null>[]): Record<string, number | null> {
  const keys = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    keys.map((key) => {
      const values = records.map((r) => r[key]).filter((v): v is number => typeof v === 'number');
      return [key, values.length ? median(values) : null];
    }),
  );
}

export interface AcMedian {
  rmse: PerBand;
  baselineRmse: PerBand;
  bias: PerBand;
  baselineBias: PerBand;
}

export interface ScMedian {
  f2: PerMask;
  precision: PerMask;
  recall: PerMask;
  iou: PerMask;
}

export function acMedian(blocks: AcAccuracy[]): AcMedian {
  return {
    rmse: medianOf(blocks.map((b) => b.rmse)),
    baselineRmse: medianOf(blocks.map((b) => b.baselineRmse)),
    bias: medianOf(blocks.map((b) => b.bias)),
    baselineBias: medianOf(blocks.map((b) => b.baselineBias)),
  };
}

export function scMedian(blocks: ScAccuracy[]): ScMedian {
  return {
    f2: medianOf(blocks.map((b) => b.f2)) as PerMask,
    precision: medianOf(blocks.map((b) => b.precision)) as PerMask,
    recall: medianOf(blocks.map((b) => b.recall)) as PerMask,
    iou: medianOf(blocks.map((b) => b.iou)) as PerMask,
  };
}
