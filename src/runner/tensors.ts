import type { BlockSource } from '../raster/patch-grid.js';

export type RawSamples = Uint8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/**
 * Fills one batch slot of a model input (C × side × side, NCHW) from raw window samples (band-sequential),
 * converting DN to reflectance ((DN + offset) × scale). `rowFrom`/`colFrom` pick a sub-square of the padded block (the core for a
 * per-pixel model that needs no margin).
 */
export function fillModelInput(
  dst: Float32Array,
  slot: number,
  raw: RawSamples,
  src: BlockSource,
  bandIdx: readonly number[],
  from: number,
  side: number,
  scale: number,
  offset: number,
): void {
  const plane = src.width * src.height;
  let o = slot * bandIdx.length * side * side;
  for (const b of bandIdx) {
    const base = b * plane;
    for (let r = 0; r < side; r++) {
      const rowBase = base + src.rows[from + r] * src.width;
      for (let c = 0; c < side; c++) {
        dst[o++] = (raw[rowBase + src.cols[from + c]] + offset) * scale;
      }
    }
  }
}

/** Per core pixel, whether any band of the raw input is nodata (`isNodata` from src/metrics/scaling.ts). */
export function nodataMask(raw: RawSamples, src: BlockSource, bands: number, from: number, side: number, isNodata: ((v: number) => boolean) | undefined): Uint8Array | undefined {
  if (!isNodata) return undefined;
  const mask = new Uint8Array(side * side);
  const plane = src.width * src.height;
  let any = false;
  for (let b = 0; b < bands; b++) {
    const base = b * plane;
    for (let r = 0; r < side; r++) {
      const rowBase = base + src.rows[from + r] * src.width;
      for (let c = 0; c < side; c++) {
        if (isNodata(raw[rowBase + src.cols[from + c]])) {
          mask[r * side + c] = 1;
          any = true;
        }
      }
    }
  }
  return any ? mask : undefined;
}

/**
 * AC post-processing: clamp reflectance, scale back to DN and round to the nearest integer (uint16).
 * Pixels with nodata in the input get 0, the output's nodata.
 */
export function quantiseReflectance(
  out: Float32Array,
  slot: number,
  channels: number,
  side: number,
  tileSide: number,
  from: number,
  clamp: readonly [number, number],
  scale: number,
  mask: Uint8Array | undefined,
): Uint16Array {
  const tile = new Uint16Array(channels * tileSide * tileSide);
  const [lo, hi] = clamp;
  const plane = side * side;
  let o = 0;
  for (let ch = 0; ch < channels; ch++) {
    const base = (slot * channels + ch) * plane;
    for (let r = 0; r < tileSide; r++) {
      const rowBase = base + (from + r) * side + from;
      for (let c = 0; c < tileSide; c++) {
        if (mask && mask[r * tileSide + c]) {
          tile[o++] = 0;
          continue;
        }
        let v = out[rowBase + c];
        if (!(v >= lo)) v = lo; // also maps NaN to the lower bound
        else if (v > hi) v = hi;
        tile[o++] = Math.min(65535, Math.round(v * scale));
      }
    }
  }
  return tile;
}

/** SC post-processing: argmax over class logits for the core pixels; nodata pixels get 255. */
export function argmaxClasses(
  out: Float32Array,
  slot: number,
  classes: number,
  side: number,
  tileSide: number,
  from: number,
  mask: Uint8Array | undefined,
): Uint8Array {
  const tile = new Uint8Array(tileSide * tileSide);
  const plane = side * side;
  const base = slot * classes * plane;
  for (let r = 0; r < tileSide; r++) {
    for (let c = 0; c < tileSide; c++) {
      const i = r * tileSide + c;
      if (mask && mask[i]) {
        tile[i] = 255;
        continue;
      }
      const p = base + (from + r) * side + from + c;
      let best = 0;
      let bestV = out[p];
      for (let k = 1; k < classes; k++) {
        const v = out[p + k * plane];
        if (v > bestV) {
          bestV = v;
          best = k;
        }
      }
      tile[i] = best;
    }
  }
  return tile;
}
