import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { L1C_BANDS } from '../../src/raster/bands.js';
import { writeSyntheticTile } from '../../src/raster/synth.js';
import { openRaster } from '../../src/raster/tiff-reader.js';
import { haveTool } from '../helpers/shared.js';
import { gdalInfo } from './gdal.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('hil-synth-');

const sha256 = async (file: string) => createHash('sha256').update(await fs.readFile(file)).digest('hex');

function stats(a: ArrayLike<number>) {
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < a.length; i++) {
    sum += a[i];
    sq += a[i] * a[i];
  }
  const mean = sum / a.length;
  return { mean, std: Math.sqrt(sq / a.length - mean * mean) };
}

/** Correlation of each pixel with its right-hand neighbour: ~0 for white noise, near 1 for smooth scenes. */
function lagOneCorrelation(plane: ArrayLike<number>, width: number): number {
  const { mean, std } = stats(plane);
  let acc = 0;
  let n = 0;
  for (let i = 0; i < plane.length; i++) {
    if (i % width === width - 1) continue;
    acc += (plane[i] - mean) * (plane[i + 1] - mean);
    n++;
  }
  return acc / n / (std * std);
}

describe('writeSyntheticTile', () => {
  it('is deterministic: same seed and flags give the same bytes, another seed other bytes', async () => {
    const opts = { res: 60 as const, size: 300 };
    const a = await writeSyntheticTile({ ...opts, out: path.join(dir, 'a.tif'), seed: 7 });
    await writeSyntheticTile({ ...opts, out: path.join(dir, 'b.tif'), seed: 7 });
    await writeSyntheticTile({ ...opts, out: path.join(dir, 'c.tif'), seed: 8 });
    expect(a).toEqual({ path: path.join(dir, 'a.tif'), width: 300, height: 300, bands: [...L1C_BANDS] });
    const [ha, hb, hc] = await Promise.all(['a', 'b', 'c'].map((n) => sha256(path.join(dir, `${n}.tif`))));
    expect(ha).toBe(hb);
    expect(hc).not.toBe(ha);
    expect((await fs.readdir(dir)).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('has the structure of an L1C scene: texture, clouds, shadows, cirrus in B10', async () => {
    const size = 700;
    const out = path.join(dir, 'scene.tif');
    const seen: number[] = [];
    await writeSyntheticTile({ out, res: 60, size, seed: 3, onProgress: (done, total) => seen.push(done / total) });
    expect(seen.at(-1)).toBe(1);
    const reader = await openRaster(out);
    try {
      expect(reader.info).toMatchObject({ width: size, height: size, bands: 13, dtype: 'uint16', nodata: 0, bandNames: [...L1C_BANDS] });
      expect(reader.info.geo.epsg).toBe(32632);
      expect(reader.info.geo.geoTransform?.[1]).toBe(60);
      const img = await reader.readWindow(0, 0, size, size);
      const plane = size * size;
      const band = (name: string) => img.subarray(L1C_BANDS.indexOf(name as never) * plane, (L1C_BANDS.indexOf(name as never) + 1) * plane);
      for (const name of L1C_BANDS) {
        const b = band(name);
        expect(stats(b).std, name).toBeGreaterThan(20);
        expect(Math.min(...b.subarray(0, 100000)), name).toBeGreaterThan(0);
        expect(lagOneCorrelation(b, size), name).toBeGreaterThan(0.5);
      }
      const blue = band('B02');
      const nir = band('B08');
      const cirrus = band('B10');
      let cloud = 0;
      let dark = 0;
      let thinCirrus = 0;
      let max = 0;
      for (let i = 0; i < plane; i++) {
        if (blue[i] > 4500) cloud++;
        // Land in shadow: a land spectrum (NIR well above blue, unlike water) darker than any sunlit land.
        if (blue[i] < 700 && nir[i] > 1.5 * blue[i]) dark++;
        if (cirrus[i] > 300 && blue[i] < 3000) thinCirrus++;
        max = Math.max(max, blue[i]);
      }
      expect(cloud / plane).toBeGreaterThan(0.01);
      expect(cloud / plane).toBeLessThan(0.6);
      expect(dark / plane).toBeGreaterThan(0.002);
      expect(thinCirrus / plane).toBeGreaterThan(0.005);
      expect(max).toBeGreaterThan(7000);
      expect(max).toBeLessThan(10000);
      expect(stats(cirrus).mean).toBeLessThan(stats(blue).mean / 3);
    } finally {
      await reader.close();
    }
  });

  it('shows the same landscape at every resolution', async () => {
    await writeSyntheticTile({ out: path.join(dir, 'r20.tif'), res: 20, size: 240, bands: ['B8'], seed: 5 });
    await writeSyntheticTile({ out: path.join(dir, 'r60.tif'), res: 60, size: 80, bands: ['B8'], seed: 5 });
    const [fine, coarse] = await Promise.all([openRaster(path.join(dir, 'r20.tif')), openRaster(path.join(dir, 'r60.tif'))]);
    const a = await fine.readWindow(0, 0, 240, 240);
    const b = await coarse.readWindow(0, 0, 80, 80);
    await Promise.all([fine.close(), coarse.close()]);
    // Each 60 m pixel against the 20 m pixel at its centre.
    const pairs: [number, number][] = [];
    for (let y = 0; y < 80; y++) for (let x = 0; x < 80; x++) pairs.push([b[y * 80 + x], a[(y * 3 + 1) * 240 + x * 3 + 1]]);
    const sa = stats(pairs.map((p) => p[0]));
    const sb = stats(pairs.map((p) => p[1]));
    const cov = pairs.reduce((s, [u, v]) => s + (u - sa.mean) * (v - sb.mean), 0) / pairs.length;
    expect(cov / (sa.std * sb.std)).toBeGreaterThan(0.6);
  });

  it.skipIf(!haveTool('gdalinfo'))('is georeferenced and described so GDAL reads it as an L1C tile', async () => {
    const out = path.join(dir, 'gdal.tif');
    await writeSyntheticTile({ out, res: 20, size: 300, bands: ['b2', 'B3', 'B04', 'B8A'], seed: 1 });
    const info = await gdalInfo(out, '-stats');
    expect(info.size).toEqual([300, 300]);
    expect(info.geoTransform).toEqual([499980, 20, 0, 5100000, 0, -20]);
    expect(info.coordinateSystem?.wkt).toContain('ID["EPSG",32632]');
    expect(info.bands.map((b) => b.description)).toEqual(['B02', 'B03', 'B04', 'B8A']);
    expect(info.bands.every((b) => b.block[0] === 256 && b.noDataValue === 0)).toBe(true);
  });

  it('refuses unknown bands, bad sizes and unwritable folders with a fix', async () => {
    const oneLine = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: unknown) => (e instanceof HilError ? e.oneLine() : `not a HilError: ${String(e)}`),
      );
    expect(await oneLine(writeSyntheticTile({ out: path.join(dir, 'x.tif'), res: 60, size: 10, bands: ['B13'] }))).toMatch(/unknown Sentinel-2 band B13 — use band names/);
    expect(await oneLine(writeSyntheticTile({ out: path.join(dir, 'x.tif'), res: 60, size: 0 }))).toMatch(/positive integer, got 0 — pass --size/);
    expect(await oneLine(writeSyntheticTile({ out: path.join(dir, 'x.tif'), res: 30 as never }))).toMatch(/30 m is not a Sentinel-2 resolution — use one of 10, 20, 60/);
    const notAFolder = path.join(dir, 'plain-file');
    await fs.writeFile(notAFolder, '');
    expect(await oneLine(writeSyntheticTile({ out: path.join(notAFolder, 'x.tif'), res: 60, size: 10 }))).toMatch(/not writable .* — choose a writable folder/);
  });
});
