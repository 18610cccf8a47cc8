import { describe, expect, it } from 'vitest';
import { makePatchGrid, blockSource } from '../../src/raster/patch-grid.js';
import { nodataTest } from '../../src/metrics/scaling.js';
import { copyModelInput, fillModelInput, inputSources, nodataMask } from '../../src/runner/tensors.js';

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
    // Every sample type, 16-bit ones (looked up in a table) with signed values too, and scales and
    // offsets that change between calls (the table is rebuilt).
    const raws = [
      new Uint16Array(2 * plane).map((_, i) => (i * 37) % 65536),
      new Int16Array(2 * plane).map((_, i) => ((i * 37) % 65536) - 32768),
      new Uint8Array(2 * plane).map((_, i) => (i * 37) % 256),
      new Float32Array(2 * plane).map((_, i) => ((i * 37) % 5000) / 3),
    ];
    for (const raw of raws) {
      for (const [scale, offset] of [
        [1e-4, -3],
        [1e-4, -1000],
        [2.5e-5, 0],
      ]) {
        for (const side of [7, 13, 24]) {
          const dst = new Float32Array(2 * 2 * side * side);
          fillModelInput(dst, 1, raw, src, [1, 0], 0, side, scale, offset);
          const want = new Float32Array(2 * 2 * side * side);
          let o = 2 * side * side;
          for (const b of [1, 0]) for (let r = 0; r < side; r++) for (let c = 0; c < side; c++) want[o++] = (raw[b * plane + src.rows[r] * src.width + src.cols[c]] + offset) * scale;
          expect(dst).toEqual(want);
        }
      }
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
    // Nodata in the window's margin only is found by the search over the whole window, yet marks nothing.
    const inner = makePatchGrid(100, 100, 24, 4);
    const block = blockSource(inner, { index: 7, tileX: 1, tileY: 1, x: 16, y: 16 });
    const window = new Uint16Array(2 * block.width * block.height).fill(3);
    window[block.width * block.height] = 0;
    expect(nodataMask(window, block, 2, 4, 16, (v) => v === 0, 0)).toBeUndefined();
    window[block.width * block.height + 4 * block.width + 5] = 0;
    const marked = nodataMask(window, block, 2, 4, 16, (v) => v === 0, 0)!;
    expect(Array.from(marked).flatMap((m, i) => (m ? [i] : []))).toEqual([1]);
  });
});
