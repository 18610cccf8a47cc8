import { describe, expect, it } from 'vitest';
import { makePatchGrid, blockSource } from '../../src/raster/patch-grid.js';
import { nodataTest } from '../../src/metrics/scaling.js';
import { applyNodata, postProcess } from '../../src/runner/postprocess.js';
import { argmaxClasses, copyModelInput, fillModelInput, inputSources, nodataMask, quantiseReflectance } from '../../src/runner/tensors.js';

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

  it('quantises every sample of rows whose length is and is not a multiple of four, into a reused tile', () => {
    // Per-sample reference: the rule stated in the doc comment, one sample at a time.
    const reference = (v: number) => Math.floor((Number.isNaN(v) ? 0 : Math.min(Math.max(v, 0), 2)) * 10000 + 0.5);
    for (const tileSide of [7, 8, 9]) {
      const side = tileSide + 2;
      const out = new Float32Array(2 * 3 * side * side).map((_, i) => (i % 11 === 0 ? Number.NaN : ((i * 7919) % 2600) / 1000 - 0.3));
      const dirty = new Uint16Array(3 * tileSide * tileSide).fill(65535);
      const tile = quantiseReflectance(out, 1, 3, side, tileSide, 1, [0, 2], 10000, dirty);
      expect(tile).toBe(dirty);
      const expected: number[] = [];
      for (let ch = 0; ch < 3; ch++) {
        for (let r = 0; r < tileSide; r++) {
          for (let c = 0; c < tileSide; c++) expected.push(reference(out[(3 + ch) * side * side + (r + 1) * side + c + 1]));
        }
      }
      expect(Array.from(tile)).toEqual(expected);
    }
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
    // Filled again, the reused tile loses the nodata of its last block.
    expect(argmaxClasses(logits, 0, 3, 2, 2, 0, tile)).toBe(tile);
    expect(Array.from(tile)).toEqual([1, 2, 1, 0]);
  });

  it('post-processes into the tiles reuse hands out, and allocates when it has none', () => {
    const spec = { model: 'm', channels: 1, side: 2, tile: 2, from: 0, kind: 'quantise' as const, clamp: [0, 2] as [number, number], scale: 10000 };
    const spare = new Uint16Array(4).fill(7);
    const pool = [spare];
    const tiles = postProcess(spec, { data: new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]), dims: [2, 1, 2, 2] }, () => pool.pop());
    expect(tiles[0]).toBe(spare);
    expect(tiles[1]).not.toBe(spare);
    expect(tiles.map((t) => Array.from(t))).toEqual([
      [1000, 2000, 3000, 4000],
      [5000, 6000, 7000, 8000],
    ]);
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

  it('converts every sample of an interior window, also those after the last whole group of eight', () => {
    // A 40 × 40 image cut into 24 px patches with 4 px margins: the middle patch has contiguous columns,
    // and a 7 px square leaves a tail in every row; so do 13 samples per band.
    const g = makePatchGrid(40, 40, 24, 4);
    const src = blockSource(g, { index: 0, tileX: 1, tileY: 1, x: 16, y: 16 });
    const plane = src.width * src.height;
    const raw = new Uint16Array(2 * plane).map((_, i) => (i * 37) % 5000);
    for (const side of [7, 13, 24]) {
      const dst = new Float32Array(2 * side * side);
      fillModelInput(dst, 0, raw, src, [1, 0], 0, side, 1e-4, -3);
      const want = new Float32Array(2 * side * side);
      let o = 0;
      for (const b of [1, 0]) for (let r = 0; r < side; r++) for (let c = 0; c < side; c++) want[o++] = (raw[b * plane + src.rows[r] * src.width + src.cols[c]] - 3) * 1e-4;
      expect(dst).toEqual(want);
    }
  });

  it('cuts a later stage\'s input out of an earlier one that holds its bands over a covering square', () => {
    const stages = [
      { bandIdx: [2, 0, 1], from: 0, side: 24 },
      { bandIdx: [1, 2], from: 4, side: 16 },
      { bandIdx: [3], from: 4, side: 16 },
      { bandIdx: [0], from: 0, side: 28 },
    ];
    // Stage 1 is inside stage 0; stage 2 has a band stage 0 lacks; stage 3's square is larger.
    expect(inputSources(stages)).toEqual([undefined, { of: 0, channels: [2, 0], at: 4 }, undefined, undefined]);
    // The cut holds what filling it from the window would: the same bands, rows and columns.
    const g = makePatchGrid(30, 30, 24, 4);
    const src = blockSource(g, { index: 0, tileX: 0, tileY: 0, x: 0, y: 0 });
    const raw = new Uint16Array(3 * src.width * src.height).map((_, i) => (i * 53) % 9000);
    const whole = new Float32Array(2 * 3 * 24 * 24);
    const part = new Float32Array(2 * 2 * 16 * 16);
    const want = new Float32Array(2 * 2 * 16 * 16);
    const cut = inputSources(stages)[1]!;
    for (const slot of [0, 1]) {
      fillModelInput(whole, slot, raw, src, stages[0].bandIdx, 0, 24, 1e-4, slot);
      copyModelInput(part, whole, slot, cut, stages[0], 16);
      fillModelInput(want, slot, raw, src, stages[1].bandIdx, 4, 16, 1e-4, slot);
    }
    expect(part).toEqual(want);
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
