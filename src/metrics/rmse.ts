import { mapBands } from '../raster/bands.js';
import { nodataTest, type NumericArray, type RadiometricScaling } from './scaling.js';

/** A raster block's layout: band names in storage order and the scaling of its stored values. */
export interface BlockLayout {
  bands: readonly string[];
  scaling: RadiometricScaling;
}

export interface BandError {
  band: string;
  /** Root mean squared difference in reflectance units; null when no pixel was compared. */
  rmse: number | null;
  /** Mean of (predicted − reference) in reflectance units; null when no pixel was compared. */
  bias: number | null;
  count: number;
}

/**
 * Per-band RMSE and bias of a prediction against a reference, accumulated block by block so a full tile
 * never has to sit in memory. Blocks are CHW (band-major) in the stored units of each raster; scaling is
 * applied here so nodata can still be recognised in the stored values. A pixel is compared in a band only
 * when both rasters have data there and the optional mask (1 = use, 0 = skip, e.g. cloud or shadow) allows it.
 */
export class RmseAccumulator {
  readonly bands: readonly string[];
  private readonly predicted: BlockLayout;
  private readonly reference: BlockLayout;
  private readonly predIndex: number[];
  private readonly refIndex: number[];
  private readonly sumDiff: Float64Array;
  private readonly sumSq: Float64Array;
  private readonly counts: Float64Array;

  constructor(bands: readonly string[], predicted: BlockLayout, reference: BlockLayout) {
    this.bands = [...bands];
    this.predicted = predicted;
    this.reference = reference;
    this.predIndex = mapBands(predicted.bands, bands, 'the prediction');
    this.refIndex = mapBands(reference.bands, bands, 'the reference');
    this.sumDiff = new Float64Array(bands.length);
    this.sumSq = new Float64Array(bands.length);
    this.counts = new Float64Array(bands.length);
  }

  /** Adds one block of `pixels` pixels (width × height) of both rasters; `mask` has one byte per pixel. */
  add(pred: NumericArray, ref: NumericArray, pixels: number, mask?: Uint8Array): void {
    if (pred.length !== this.predicted.bands.length * pixels || ref.length !== this.reference.bands.length * pixels) {
      throw new Error(
        `block sizes do not match ${pixels} pixels: prediction ${pred.length} values for ${this.predicted.bands.length} bands, ` +
          `reference ${ref.length} values for ${this.reference.bands.length} bands`,
      );
    }
    if (mask && mask.length !== pixels) throw new Error(`mask has ${mask.length} values for ${pixels} pixels`);
    const ps = this.predicted.scaling;
    const rs = this.reference.scaling;
    const predNodata = nodataTest(ps.nodata);
    const refNodata = nodataTest(rs.nodata);
    for (let b = 0; b < this.bands.length; b++) {
      const pBase = this.predIndex[b] * pixels;
      const rBase = this.refIndex[b] * pixels;
      let sum = 0;
      let sq = 0;
      let n = 0;
      for (let i = 0; i < pixels; i++) {
        if (mask && mask[i] === 0) continue;
        const p = pred[pBase + i];
        const r = ref[rBase + i];
        if (predNodata(p) || refNodata(r)) continue;
        const d = (p + ps.offset) * ps.scale - (r + rs.offset) * rs.scale;
        sum += d;
        sq += d * d;
        n++;
      }
      this.sumDiff[b] += sum;
      this.sumSq[b] += sq;
      this.counts[b] += n;
    }
  }

  /** Folds another accumulator over the same bands into this one (e.g. one per sample → dataset). */
  merge(other: RmseAccumulator): this {
    if (other.bands.join() !== this.bands.join()) {
      throw new Error(`cannot merge RMSE over bands ${other.bands.join(' ')} into ${this.bands.join(' ')}`);
    }
    for (let b = 0; b < this.bands.length; b++) {
      this.sumDiff[b] += other.sumDiff[b];
      this.sumSq[b] += other.sumSq[b];
      this.counts[b] += other.counts[b];
    }
    return this;
  }

  result(): BandError[] {
    return this.bands.map((band, b) => {
      const n = this.counts[b];
      return {
        band,
        rmse: n > 0 ? Math.sqrt(this.sumSq[b] / n) : null,
        bias: n > 0 ? this.sumDiff[b] / n : null,
        count: n,
      };
    });
  }
}
