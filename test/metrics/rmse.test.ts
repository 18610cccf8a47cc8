import { describe, expect, it } from 'vitest';
import { RmseAccumulator } from '../../src/metrics/rmse.js';

const dn = { scale: 1e-4, offset: 0, nodata: 65535 };

describe('RmseAccumulator', () => {
  it('computes RMSE and bias per band in reflectance, skipping nodata in either raster', () => {
    // Two bands × 4 pixels (CHW). Band B02 differs by +100, −100, +300 DN; pixel 3 is nodata in the reference.
    const pred = Uint16Array.from([1100, 900, 1300, 500, 2000, 2000, 2000, 65535]);
    const ref = Uint16Array.from([1000, 1000, 1000, 65535, 2100, 2100, 2100, 2100]);
    const acc = new RmseAccumulator(['B02', 'B03'], { bands: ['B02', 'B03'], scaling: dn }, { bands: ['B02', 'B03'], scaling: dn });
    acc.add(pred, ref, 4);
    const [b2, b3] = acc.result();
    expect(b2.count).toBe(3);
    expect(b2.rmse).toBeCloseTo(Math.sqrt((0.01 ** 2 + 0.01 ** 2 + 0.03 ** 2) / 3), 10);
    expect(b2.bias).toBeCloseTo(0.03 / 3, 10);
    expect(b3.count).toBe(3);
    expect(b3.rmse).toBeCloseTo(0.01, 10);
    expect(b3.bias).toBeCloseTo(-0.01, 10);
  });

  it('applies offsets, matches bands by name and honours the mask', () => {
    // Prediction is reflectance floats with bands reversed; reference is baseline-04.00 DN with offset −1000.
    const pred = Float32Array.from([0.2, 0.2, 0.1, 0.1]); // B03 B03 | B02 B02
    const ref = Uint16Array.from([2000, 9999, 3000, 9999]); // B02 B02 | B03 B03 → 0.1, …, 0.2, …
    const acc = new RmseAccumulator(
      ['B02', 'B03'],
      { bands: ['B03', 'B02'], scaling: { scale: 1, offset: 0 } },
      { bands: ['B2', 'B3'], scaling: { scale: 1e-4, offset: -1000 } },
    );
    acc.add(pred, ref, 2, Uint8Array.from([1, 0]));
    const res = acc.result();
    expect(res.map((r) => r.count)).toEqual([1, 1]);
    expect(res[0].rmse).toBeCloseTo(0, 6);
    expect(res[1].rmse).toBeCloseTo(0, 6);
  });

  it('treats float32 nodata (−3.4e38) and NaN as missing', () => {
    const f = Float32Array.from([-3.4e38, Number.NaN, 1500]);
    const acc = new RmseAccumulator(['B04'], { bands: ['B04'], scaling: { scale: 1e-4, offset: 0, nodata: -3.4e38 } }, { bands: ['B04'], scaling: dn });
    acc.add(f, Uint16Array.from([1, 1, 1000]), 3);
    expect(acc.result()[0].count).toBe(1);
    expect(acc.result()[0].bias).toBeCloseTo(0.05, 6);
  });

  it('merges partial accumulators into the whole-tile result, and reports null for empty bands', () => {
    const layout = { bands: ['B08'], scaling: dn };
    const whole = new RmseAccumulator(['B08'], layout, layout);
    const a = new RmseAccumulator(['B08'], layout, layout);
    const b = new RmseAccumulator(['B08'], layout, layout);
    expect(a.result()[0]).toEqual({ band: 'B08', rmse: null, bias: null, count: 0 });
    whole.add([10, 20, 30, 40], [0, 0, 0, 0], 4);
    a.add([10, 20], [0, 0], 2);
    b.add([30, 40], [0, 0], 2);
    expect(a.merge(b).result()[0].rmse).toBeCloseTo(whole.result()[0].rmse!, 12);
    expect(() => a.add([1], [1, 2], 1)).toThrow(/block sizes/);
  });

  it('names missing bands', () => {
    expect(() => new RmseAccumulator(['B8A'], { bands: ['B08'], scaling: dn }, { bands: ['B8A'], scaling: dn })).toThrow(/prediction lacks band B8A/);
  });
});
