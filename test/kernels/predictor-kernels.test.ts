import { describe, expect, it } from 'vitest';
import { PredictorKernels } from '../../src/kernels/predictor-kernels.js';
import { mulberry32 } from '../../src/util/rng.js';

/** TIFF Predictor 2 as libtiff defines it, one sample at a time: each sample minus the one before it in its row. */
function differenceRef(values: number[], rowLength: number, mask: number): number[] {
  return values.map((v, i) => (i % rowLength === 0 ? v : (v - values[i - 1]) & mask));
}

function accumulateRef(values: number[], rowLength: number, mask: number): number[] {
  const out: number[] = [];
  values.forEach((v, i) => out.push(i % rowLength === 0 ? v : (out[i - 1] + v) & mask));
  return out;
}

const kernels = new PredictorKernels();

describe('PredictorKernels', () => {
  // Row lengths below, at and across the vector width, with remainders, and the engine's 448 and 256.
  const rowLengths = [1, 2, 7, 8, 9, 15, 16, 17, 33, 256, 448];
  for (const [name, Array_, mask] of [
    ['uint16', Uint16Array, 0xffff],
    ['uint8', Uint8Array, 0xff],
  ] as const) {
    it(`differences and accumulates ${name} rows sample for sample as the scalar rule, wrapping`, () => {
      const random = mulberry32(7);
      for (const rowLength of rowLengths) {
        const rows = 3;
        // Extremes next to each other make every lane wrap somewhere.
        const values = Array.from({ length: rowLength * rows }, (_, i) => (i % 5 === 0 ? mask : i % 7 === 0 ? 0 : Math.floor(random() * (mask + 1))));
        const data = Array_.from(values);
        kernels.difference(data, rowLength);
        const differenced = differenceRef(values, rowLength, mask);
        expect(Array.from(data), `difference, rows of ${rowLength}`).toEqual(differenced);
        const present = values[values.length - 1];
        expect(kernels.accumulate(data, rowLength, present), `finds ${present}, rows of ${rowLength}`).toBe(true);
        expect(Array.from(data), `accumulate, rows of ${rowLength}`).toEqual(accumulateRef(differenced, rowLength, mask));
        expect(Array.from(data), `round trip, rows of ${rowLength}`).toEqual(values);
        // Found in the vector part or in the remainder; not found where the data lacks it, or with no value asked for.
        const absent = Array.from({ length: mask + 1 }, (_, v) => v).find((v) => !values.includes(v))!;
        expect(absent).toBeDefined();
        expect(kernels.accumulate(Array_.from(differenced), rowLength, absent), `${absent} nowhere`).toBe(false);
        expect(kernels.accumulate(Array_.from(differenced), rowLength), 'nothing asked').toBe(false);
        for (const at of [0, values.length - 1, Math.floor(values.length / 2)]) {
          const withAbsent = values.map((v, i) => (i === at ? absent : v));
          expect(kernels.accumulate(Array_.from(differenceRef(withAbsent, rowLength, mask)), rowLength, absent), `${absent} at ${at}`).toBe(true);
        }
      }
    });
  }

  it('works on views into larger buffers and rejects a length that is not whole rows', () => {
    const backing = new Uint16Array(100).map((_, i) => i * 37);
    const view = backing.subarray(10, 10 + 4 * 16);
    kernels.difference(view, 16);
    expect(Array.from(backing.subarray(0, 10))).toEqual(Array.from({ length: 10 }, (_, i) => i * 37));
    expect(view[0]).toBe(370);
    expect(view[1]).toBe(37);
    expect(() => kernels.accumulate(view, 15)).toThrow(/not whole rows of 15/);
  });
});
