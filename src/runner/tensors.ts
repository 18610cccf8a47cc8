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
  // Inside the image (most blocks) the columns are consecutive and need no lookup.
  const contiguous = columnsContiguous(src, from, side);
  const c0 = src.cols[from];
  let o = slot * bandIdx.length * side * side;
  for (const b of bandIdx) {
    const base = b * plane;
    for (let r = 0; r < side; r++) {
      const rowBase = base + src.rows[from + r] * src.width;
      if (contiguous) {
        for (let i = rowBase + c0, end = i + side; i < end; i++) dst[o++] = (raw[i] + offset) * scale;
      } else {
        for (let c = 0; c < side; c++) dst[o++] = (raw[rowBase + src.cols[from + c]] + offset) * scale;
      }
    }
  }
}

function columnsContiguous(src: BlockSource, from: number, side: number): boolean {
  for (let c = 1; c < side; c++) if (src.cols[from + c] !== src.cols[from] + c) return false;
  return true;
}

/** Per core pixel, whether any band of the raw input is nodata (`isNodata` from src/metrics/scaling.ts). */
export function nodataMask(raw: RawSamples, src: BlockSource, bands: number, from: number, side: number, isNodata: ((v: number) => boolean) | undefined): Uint8Array | undefined {
  if (!isNodata) return undefined;
  const mask = new Uint8Array(side * side);
  const plane = src.width * src.height;
  const contiguous = columnsContiguous(src, from, side);
  const c0 = src.cols[from];
  let any = false;
  for (let b = 0; b < bands; b++) {
    const base = b * plane;
    for (let r = 0; r < side; r++) {
      const rowBase = base + src.rows[from + r] * src.width;
      const m = r * side;
      for (let c = 0; c < side; c++) {
        if (isNodata(raw[rowBase + (contiguous ? c0 + c : src.cols[from + c])])) {
          mask[m + c] = 1;
          any = true;
        }
      }
    }
  }
  return any ? mask : undefined;
}

/**
 * AC post-processing: clamp reflectance, scale back to DN and round to the nearest integer (uint16).
 * (Nodata is applied afterwards, by applyNodata in postprocess.ts.) This runs on every output sample of a
 * full tile (1.4 G of them at 10 m), so the loop avoids calls: after the clamp v·scale is in
 * [0, 65535], and a Uint16Array store truncates, so v·scale + 0.5 rounds half up.
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
): Uint16Array {
  const tile = new Uint16Array(channels * tileSide * tileSide);
  const lo = Math.max(clamp[0], 0);
  const hi = Math.min(clamp[1], 65535 / scale);
  const plane = side * side;
  let o = 0;
  for (let ch = 0; ch < channels; ch++) {
    const base = (slot * channels + ch) * plane;
    for (let r = 0; r < tileSide; r++) {
      let i = base + (from + r) * side + from;
      const end = o + tileSide;
      while (o < end) {
        const v = out[i++];
        // NaN fails both comparisons and lands on the lower bound.
        tile[o++] = (v > lo ? (v < hi ? v : hi) : lo) * scale + 0.5;
      }
    }
  }
  return tile;
}

/** SC post-processing: argmax over class logits for the core pixels. */
export function argmaxClasses(
  out: Float32Array,
  slot: number,
  classes: number,
  side: number,
  tileSide: number,
  from: number,
): Uint8Array {
  const tile = new Uint8Array(tileSide * tileSide);
  const plane = side * side;
  const base = slot * classes * plane;
  for (let r = 0; r < tileSide; r++) {
    for (let c = 0; c < tileSide; c++) {
      const i = r * tileSide + c;
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
