import { describe, expect, it } from 'vitest';
import { PostKernels } from '../../src/kernels/post-kernels.js';
import { applyNodata, postProcess, type PostProcess } from '../../src/runner/postprocess.js';

/** The AC rule, one sample at a time in f64 as JavaScript computes it: clamp (NaN to lo), scale, round half up. */
const quantiseRef = (v: number, lo: number, hi: number, scale: number) => Math.floor((v > lo ? (v < hi ? v : hi) : lo) * scale + 0.5);

/** The AC rule over the `tile`² core at (`from`, `from`) of each of `channels` planes of `side`², channel by channel. */
function quantiseCoreRef(out: Float32Array, channels: number, side: number, tile: number, from: number): number[] {
  const expected: number[] = [];
  for (let ch = 0; ch < channels; ch++) {
    for (let r = 0; r < tile; r++) {
      for (let c = 0; c < tile; c++) expected.push(quantiseRef(out[ch * side * side + (from + r) * side + from + c], 0, 2, 10000));
    }
  }
  return expected;
}

/** The SC rule: the first class with the largest logit (`v > best`, so NaN never wins after the first). */
function argmaxRef(out: Float32Array, classes: number, side: number, tile: number, from: number): number[] {
  const plane = side * side;
  const tiles: number[] = [];
  for (let r = 0; r < tile; r++) {
    for (let c = 0; c < tile; c++) {
      const p = (from + r) * side + from + c;
      let best = 0;
      for (let k = 1; k < classes; k++) if (out[p + k * plane] > out[p + best * plane]) best = k;
      tiles.push(best);
    }
  }
  return tiles;
}

/** Deterministic values across and beyond [0, 2], with NaN, ±Infinity and exact half-DN values among them. */
function samples(n: number): Float32Array {
  const special = [Number.NaN, Infinity, -Infinity, 0, 2, 0.12345, 0.00005, 1.99995, 0.99996, -0.5, 2.5];
  return new Float32Array(n).map((_, i) => (i % 13 < special.length && i % 3 === 0 ? special[i % 13] : i % 7 === 0 ? (((i * 7919) % 20000) + 0.5) / 10000 : ((i * 7919) % 2600) / 1000 - 0.3));
}

const kernels = new PostKernels();

describe('AC post-processing (WebAssembly quantise)', () => {
  it('clamps to the manifest range, scales by 10000 and rounds half up to the nearest DN', () => {
    const spec: PostProcess = { model: 'm', channels: 1, side: 3, tile: 3, from: 0, kind: 'quantise', clamp: [0, 2], scale: 10000 };
    const out = new Float32Array([-0.5, 0, 0.12345, 0.99996, 1.5, 2.5, Number.NaN, 0.00004, 0.00006]);
    const [tile] = postProcess(spec, { data: out, dims: [1, 1, 3, 3] }, kernels);
    expect(Array.from(tile)).toEqual([0, 0, 1235, 10000, 15000, 20000, 0, 0, 1]);
  });

  it('gives the f64 rule sample for sample, in and out of the output area', () => {
    for (const [lo, hi, scale] of [
      [0, 2, 10000],
      [0, 6.5535, 10000],
      [0.1, 1, 1000],
    ]) {
      // Lengths with and without a remainder after the kernel's four samples per turn.
      for (const n of [4096, 4093, 3]) {
        const data = samples(n);
        const expected = Array.from(data, (v) => quantiseRef(v, lo, hi, scale));
        // n planes of 1 pixel: the whole run in one call. From elsewhere (copied in) and from the output area.
        expect(Array.from(kernels.quantise(data, n, 1, 1, 0, lo, hi, scale, new Uint16Array(n).fill(1)))).toEqual(expected);
        const area = kernels.outputArea(n);
        area.set(data);
        expect(Array.from(kernels.quantise(area, n, 1, 1, 0, lo, hi, scale, new Uint16Array(n).fill(1)))).toEqual(expected);
      }
    }
  });

  it('takes the core of each channel of a batch slot, row by row, into a reused tile', () => {
    for (const tile of [7, 8, 9]) {
      const side = tile + 2;
      const spec: PostProcess = { model: 'm', channels: 3, side, tile, from: 1, kind: 'quantise', clamp: [0, 2], scale: 10000 };
      const data = samples(2 * 3 * side * side);
      const dirty = new Uint16Array(3 * tile * tile).fill(65535);
      // Popped from the end: slot 0 gets the other one, slot 1 the dirty one.
      const pool = [dirty, new Uint16Array(3 * tile * tile)];
      const [, second] = postProcess(spec, { data, dims: [2, 3, side, side] }, kernels, () => pool.pop());
      expect(second).toBe(dirty);
      expect(Array.from(second)).toEqual(quantiseCoreRef(data.subarray(3 * side * side), 3, side, tile, 1));
    }
  });

  it('writes the output nodata (0) where the input had nodata', () => {
    const spec: PostProcess = { model: 'm', channels: 1, side: 2, tile: 2, from: 0, kind: 'quantise', clamp: [0, 2], scale: 10000 };
    const [tile] = postProcess(spec, { data: new Float32Array(4).fill(0.5), dims: [1, 1, 2, 2] }, kernels);
    applyNodata(tile, new Uint8Array([0, 1, 0, 0]), 0);
    expect(Array.from(tile)).toEqual([5000, 0, 5000, 5000]);
  });

  it('keeps working as the output area grows and moves', () => {
    const small = samples(64);
    kernels.outputArea(64).set(small);
    const big = samples(3 * 1024 * 1024);
    const area = kernels.outputArea(big.length);
    area.set(big);
    const out = kernels.quantise(area, 3, 1024, 1024, 0, 0, 2, 10000, new Uint16Array(big.length));
    for (const i of [0, 1, 4097, big.length - 1]) expect(out[i]).toBe(quantiseRef(big[i], 0, 2, 10000));
  });
});

describe('SC post-processing (WebAssembly argmax)', () => {
  it('takes the argmax class per core pixel, 255 for nodata, and fills a reused tile again', () => {
    const spec: PostProcess = { model: 'm', channels: 3, side: 2, tile: 2, from: 0, kind: 'argmax' };
    // 3 classes on a 2×2 image.
    const logits = new Float32Array([
      1, 0, 0, 5, // class 0
      2, 0, 9, 0, // class 1
      0, 3, 0, 0, // class 2
    ]);
    const [tile] = postProcess(spec, { data: logits, dims: [1, 3, 2, 2] }, kernels);
    expect(Array.from(tile)).toEqual([1, 2, 1, 0]);
    applyNodata(tile, new Uint8Array([0, 0, 0, 1]), 255);
    expect(Array.from(tile)).toEqual([1, 2, 1, 255]);
    const [again] = postProcess(spec, { data: logits, dims: [1, 3, 2, 2] }, kernels, () => tile);
    expect(again).toBe(tile);
    expect(Array.from(tile)).toEqual([1, 2, 1, 0]);
  });

  it('matches the scalar rule with ties and NaN, on cores of any width and batch slots', () => {
    for (const [classes, tile] of [
      [4, 8],
      [4, 9],
      [2, 7],
      [5, 13],
    ]) {
      const side = tile + 6;
      const spec: PostProcess = { model: 'm', channels: classes, side, tile, from: 3, kind: 'argmax' };
      // Few distinct values, so ties are common; some NaN.
      const data = new Float32Array(2 * classes * side * side).map((_, i) => (i % 17 === 0 ? Number.NaN : ((i * 7919) % 5) / 4));
      const tiles = postProcess(spec, { data, dims: [2, classes, side, side] }, kernels);
      tiles.forEach((t, slot) => {
        expect(Array.from(t)).toEqual(argmaxRef(data.subarray(slot * classes * side * side), classes, side, tile, 3));
      });
    }
  });
});

describe('postProcess', () => {
  it('post-processes every slot of a batch the runtime wrote into a fresh output area', () => {
    // A fresh module has one 64 KB page: the first scratch tile would grow the memory, and the rest
    // of the batch would be read through a detached view (it threw for --batch 2 before).
    const fresh = new PostKernels();
    for (const kind of ['quantise', 'argmax'] as const) {
      const [n, channels, side, tile, from] = [3, 4, 160, 128, 16];
      const spec: PostProcess =
        kind === 'quantise' ? { model: 'm', channels, side, tile, from, kind, clamp: [0, 2], scale: 10000 } : { model: 'm', channels, side, tile, from, kind };
      const data = samples(n * channels * side * side);
      const area = fresh.outputArea(data.length);
      area.set(data);
      const tiles = postProcess(spec, { data: area, dims: [n, channels, side, side] }, fresh);
      for (let slot = 0; slot < n; slot++) {
        const out = data.subarray(slot * channels * side * side, (slot + 1) * channels * side * side);
        const expected = kind === 'argmax' ? argmaxRef(out, channels, side, tile, from) : quantiseCoreRef(out, channels, side, tile, from);
        expect(Array.from(tiles[slot]), `${kind} slot ${slot}`).toEqual(expected);
      }
    }
  });

  it('post-processes into the tiles reuse hands out, and allocates when it has none', () => {
    const spec: PostProcess = { model: 'm', channels: 1, side: 2, tile: 2, from: 0, kind: 'quantise', clamp: [0, 2], scale: 10000 };
    const spare = new Uint16Array(4).fill(7);
    const pool = [spare];
    const tiles = postProcess(spec, { data: new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]), dims: [2, 1, 2, 2] }, kernels, () => pool.pop());
    expect(tiles[0]).toBe(spare);
    expect(tiles[1]).not.toBe(spare);
    expect(tiles.map((t) => Array.from(t))).toEqual([
      [1000, 2000, 3000, 4000],
      [5000, 6000, 7000, 8000],
    ]);
  });

  it('refuses a model output of the wrong shape before making tiles', () => {
    const spec: PostProcess = { model: 'm', channels: 4, side: 2, tile: 2, from: 0, kind: 'argmax' };
    expect(() => postProcess(spec, { data: new Float32Array(12), dims: [1, 3, 2, 2] }, kernels)).toThrow(/model m returned \[1,3,2,2\], expected \[1,4,2,2\]/);
  });
});
