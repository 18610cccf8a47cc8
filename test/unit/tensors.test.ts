import { describe, expect, it } from 'vitest';
import { makePatchGrid, blockSource } from '../../src/raster/patch-grid.js';
import { nodataTest } from '../../src/metrics/scaling.js';
import { applyNodata, postProcess } from '../../src/runner/postprocess.js';
import { argmaxClasses, fillModelInput, nodataMask, quantiseReflectance } from '../../src/runner/tensors.js';

describe('AC post-processing (clamp and quantisation)', () => {
  it('clamps to the manifest range, scales by 10000 and rounds to the nearest DN', () => {
    const out = new Float32Array([-0.5, 0, 0.12345, 0.99996, 1.5, 2.5, Number.NaN, 0.00004, 0.00006]);
    const tile = quantiseReflectance(out, 0, 1, 3, 3, 0, [0, 2], 10000);
    expect(Array.from(tile)).toEqual([0, 0, 1235, 10000, 15000, 20000, 0, 0, 1]);
  });

  it('writes the output nodata (0) where the input had nodata', () => {
    const out = new Float32Array(4).fill(0.5);
    const tile = quantiseReflectance(out, 0, 1, 2, 2, 0, [0, 2], 10000);
    applyNodata(tile, new Uint8Array([0, 1, 0, 0]), 0);
    expect(Array.from(tile)).toEqual([5000, 0, 5000, 5000]);
  });

  it('takes the core of a larger model output for a batch slot', () => {
    // 2 slots × 1 channel × 4×4; the core is the central 2×2 (from = 1).
    const out = new Float32Array(32).map((_, i) => i / 10000);
    const tile = quantiseReflectance(out, 1, 1, 4, 2, 1, [0, 2], 10000);
    expect(Array.from(tile)).toEqual([21, 22, 25, 26]);
  });
});

describe('SC post-processing', () => {
  it('takes the argmax class per core pixel, 255 for nodata', () => {
    // 3 classes on a 2×2 image.
    const logits = new Float32Array([
      1, 0, 0, 5, // class 0
      2, 0, 9, 0, // class 1
      0, 3, 0, 0, // class 2
    ]);
    const tile = argmaxClasses(logits, 0, 3, 2, 2, 0);
    expect(Array.from(tile)).toEqual([1, 2, 1, 0]);
    applyNodata(tile, new Uint8Array([0, 0, 0, 1]), 255);
    expect(Array.from(tile)).toEqual([1, 2, 1, 255]);
  });

  it('refuses a model output of the wrong shape before making tiles', () => {
    const spec = { model: 'm', channels: 4, side: 2, tile: 2, from: 0, kind: 'argmax' as const };
    expect(() => postProcess(spec, { data: new Float32Array(12), dims: [1, 3, 2, 2] })).toThrow(/model m returned \[1,3,2,2\], expected \[1,4,2,2\]/);
  });
});

describe('pre-processing', () => {
  it('maps bands by index, converts DN to reflectance and reflects at the border', () => {
    const g = makePatchGrid(3, 1, 16, 0);
    const src = blockSource(g, { index: 0, tileX: 0, tileY: 0, x: 0, y: 0 });
    // Two bands of a 3×1 image, band-sequential.
    const raw = new Uint16Array([1000, 2000, 3000, 10, 20, 30]);
    const dst = new Float32Array(16 * 16);
    fillModelInput(dst, 0, raw, src, [1], 0, 16, 1e-4, 0);
    expect(Array.from(dst.slice(0, 6)).map((v) => Math.round(v * 1e4))).toEqual([10, 20, 30, 20, 10, 20]);
    fillModelInput(dst, 0, raw, src, [0], 0, 16, 1e-4, -1000);
    expect(Array.from(dst.slice(0, 3)).map((v) => Math.round(v * 1e4))).toEqual([0, 1000, 2000]);
  });

  it('marks nodata pixels in any band', () => {
    const g = makePatchGrid(2, 1, 16, 0);
    const src = blockSource(g, { index: 0, tileX: 0, tileY: 0, x: 0, y: 0 });
    const raw = new Uint16Array([5, 65535, 7, 8]);
    const mask = nodataMask(raw, src, 2, 0, 16, nodataTest(65535))!;
    expect([mask[0], mask[1]]).toEqual([0, 1]);
    expect(nodataMask(raw, src, 2, 0, 16, nodataTest(0))).toBeUndefined();
    expect(nodataMask(raw, src, 2, 0, 16, undefined)).toBeUndefined();
    // float32 rasters store nodata such as -3.4e38 rounded to single precision.
    const floats = new Float32Array([-3.4e38, 1, Number.NaN, 2]);
    const fm = nodataMask(floats, src, 2, 0, 16, nodataTest(-3.4e38))!;
    expect([fm[0], fm[1]]).toEqual([1, 0]);
    const nm = nodataMask(new Float32Array([1, Number.NaN, 1, 1]), src, 2, 0, 16, nodataTest(undefined))!;
    expect([nm[0], nm[1]]).toEqual([0, 1]);
  });

  it('marks integer nodata by exact compare, skipping the rows that hold none', () => {
    // 3 × 3 image, reflect-padded to 16; nodata only in row 1 of band 0 and row 2 of band 1.
    const g = makePatchGrid(3, 3, 16, 0);
    const src = blockSource(g, { index: 0, tileX: 0, tileY: 0, x: 0, y: 0 });
    const raw = new Uint16Array([1, 2, 3, 4, 0, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 0, 8, 0]);
    const mask = nodataMask(raw, src, 2, 0, 3, (v) => v === 0, 0)!;
    expect(Array.from(mask)).toEqual([0, 0, 0, 0, 1, 0, 1, 0, 1]);
    expect(nodataMask(raw, src, 2, 0, 3, (v) => v === 10, 10)).toBeUndefined();
  });
});
