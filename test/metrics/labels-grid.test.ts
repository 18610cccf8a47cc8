import { describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { upsampleFactor, upsampleNearest, type RasterGrid } from '../../src/metrics/grid.js';
import { IGNORE, SCL_MAP, UKIS_CSMASK_MAP, CLOUDSEN12_MAP, applyLabelMap, labelMapByName } from '../../src/metrics/labels.js';

describe('label maps', () => {
  it('maps every SCL code as REFERENCE.md says', () => {
    const out = applyLabelMap(Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), SCL_MAP, 'scl.tif');
    expect(Array.from(out)).toEqual([IGNORE, IGNORE, 0, 3, 0, 0, 0, 0, 1, 1, 2, 0]);
  });

  it('maps ukis-csmask and CloudSEN12 codes, with float nodata', () => {
    expect(Array.from(applyLabelMap([0, 1, 3, 4], UKIS_CSMASK_MAP, 'mask.tif'))).toEqual([3, 0, 0, 1]);
    const hq = Float32Array.from([0, 1, 2, 3, -3.4e38]);
    expect(Array.from(applyLabelMap(hq, CLOUDSEN12_MAP, 'manual_hq.tif', -3.4e38))).toEqual([0, 1, 2, 3, IGNORE]);
  });

  it('names unknown codes and the raster', () => {
    expect(() => applyLabelMap([0, 2, 7, 2], UKIS_CSMASK_MAP, 'mask.tif')).toThrow(/mask\.tif has label codes 2, 7/);
    expect(() => labelMapByName('fmask')).toThrow(HilError);
    expect(labelMapByName('scl')).toBe(SCL_MAP);
  });
});

describe('SCL grid alignment', () => {
  const crs = 'EPSG:32632';
  const fine: RasterGrid = { path: 'boa.tif', width: 24, height: 42, geoTransform: [580560, 10, 0, 5102120, 0, -10], crs };
  const coarse: RasterGrid = { path: 'scl.tif', width: 12, height: 21, geoTransform: [580560, 20, 0, 5102120, 0, -20], crs };

  it('accepts an exact integer factor with matching origins', () => {
    expect(upsampleFactor(coarse, fine)).toBe(2);
    expect(upsampleFactor(fine, fine)).toBe(1);
    const nudged = { ...coarse, geoTransform: [580560.05, 20, 0, 5102120, 0, -20] };
    expect(upsampleFactor(nudged, fine)).toBe(2);
  });

  it('refuses other grids, naming both files', () => {
    const cases: RasterGrid[] = [
      { ...coarse, crs: 'EPSG:32633' },
      { ...coarse, geoTransform: [580570, 20, 0, 5102120, 0, -20] },
      { ...coarse, geoTransform: [580560, 25, 0, 5102120, 0, -25] },
      { ...coarse, width: 11 },
    ];
    for (const c of cases) {
      expect(() => upsampleFactor(c, fine)).toThrow(/scl\.tif cannot be aligned to boa\.tif/);
    }
  });

  it('upsamples by repetition and crops to the fine grid', () => {
    const src = Uint8Array.from([1, 2, 3, 4]); // 2×2
    expect(Array.from(upsampleNearest(src, 2, 2, 4, 3))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4]);
    expect(upsampleNearest(Float32Array.of(1), 1, 3, 2, 2)).toBeInstanceOf(Float32Array);
  });
});
