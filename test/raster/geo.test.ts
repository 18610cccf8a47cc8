import { describe, expect, it } from 'vitest';
import { deriveGeo, shiftGeo, utmGeo } from '../../src/raster/geo.js';

describe('georeferencing', () => {
  it('derives EPSG and the geotransform of a Sentinel-2-like UTM tile', () => {
    const geo = utmGeo(32633, 399960, 5000040, 20);
    expect(geo.epsg).toBe(32633);
    expect(geo.geoTransform).toEqual([399960, 20, 0, 5000040, 0, -20]);
  });

  it('reads a rotated ModelTransformation', () => {
    const geo = deriveGeo({ modelTransformation: [10, 1, 0, 500, 2, -10, 0, 900, 0, 0, 0, 0, 0, 0, 0, 1] });
    expect(geo.geoTransform).toEqual([500, 10, 1, 900, 2, -10]);
    expect(geo.epsg).toBeUndefined();
    expect(shiftGeo(geo, 3, 4).geoTransform).toEqual([500 + 30 + 4, 10, 1, 900 + 6 - 40, 2, -10]);
  });

  it('ignores user-defined CRS keys', () => {
    expect(deriveGeo({ geoKeyDirectory: [1, 1, 0, 1, 3072, 0, 1, 32767] }).epsg).toBeUndefined();
  });

  it('moves the origin of a crop and keeps everything else', () => {
    const geo = utmGeo(32632, 580560, 5102120, 10);
    const crop = shiftGeo(geo, 100, 50);
    expect(crop.geoTransform).toEqual([581560, 10, 0, 5101620, 0, -10]);
    expect(crop.geoKeyDirectory).toEqual(geo.geoKeyDirectory);
    expect(crop.epsg).toBe(32632);
    expect(shiftGeo(geo, 0, 0)).toBe(geo);
  });
});
