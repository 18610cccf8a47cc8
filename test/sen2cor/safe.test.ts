import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { L1C_BANDS } from '../../src/raster/bands.js';
import { safeToGeoTiff } from '../../src/sen2cor-adapter/convert.js';
import { runSen2Cor } from '../../src/sen2cor-adapter/run.js';
import { readL1CSafe, readL2ASafe } from '../../src/sen2cor-adapter/safe.js';
import { haveShared, haveTool } from '../helpers/shared.js';
import { FAKE_L2A_PROCESS, makeL1CSafe } from './l1c-safe.js';
import { tempDir } from '../helpers/temp.js';

interface GdalInfo {
  size: [number, number];
  geoTransform: number[];
  bands: { description?: string; type: string; noDataValue?: number; block: [number, number] }[];
  metadata?: { IMAGE_STRUCTURE?: { COMPRESSION?: string } };
}
const gdalinfo = (file: string): GdalInfo => JSON.parse(execFileSync('gdalinfo', ['-json', file], { encoding: 'utf8' }));

const ready = haveShared('data/s2cloudless-optimized') && haveTool('gdal_translate');

describe.skipIf(!ready)('SAFE products', { timeout: 30_000 }, () => {
  const tmp = () => tempDir('hil-safe-test-');

  it('reads an L1C SAFE with and without RADIO_ADD_OFFSET', async () => {
    const old = await readL1CSafe(makeL1CSafe());
    expect(old.bands.map((b) => b.band)).toEqual([...L1C_BANDS]);
    expect(old.bands.every((b) => b.offset === 0 && b.scale === 1e-4 && b.nodata === 0)).toBe(true);
    expect(old.bands.find((b) => b.band === 'B8A')).toMatchObject({ resolution: 20, path: expect.stringMatching(/_B8A\.jp2$/) });
    const n0400 = await readL1CSafe(makeL1CSafe({ radioAddOffset: -1000 }));
    expect(n0400.bands.every((b) => b.offset === -1000)).toBe(true);
    await expect(readL1CSafe(makeL1CSafe({ omitBands: ['B09', 'B10'] }))).rejects.toThrow(/lacks bands B09, B10/);
    await expect(readL1CSafe(tmp())).rejects.toThrow(/has no MTD_MSIL1C\.xml/);
  });

  it('converts an L1C SAFE to a named, tiled, deflated 13-band GeoTIFF at 20 m', async () => {
    const out = path.join(tmp(), 'l1c_20m.tif');
    await safeToGeoTiff({ safe: makeL1CSafe(), resolution: 20, output: out });
    const info = gdalinfo(out);
    expect(info.size).toEqual([150, 150]);
    expect(info.geoTransform[1]).toBe(20);
    expect(info.bands.map((b) => b.description)).toEqual([...L1C_BANDS]);
    expect(info.bands.every((b) => b.type === 'UInt16' && b.noDataValue === 0)).toBe(true);
    expect(info.bands[0].block).toEqual([256, 256]);
    expect(info.metadata?.IMAGE_STRUCTURE?.COMPRESSION).toBe('DEFLATE');
    expect(readdirSync(path.dirname(out))).toEqual(['l1c_20m.tif']); // no partial file left behind
  });

  it('reads and converts a (fake) Sen2Cor L2A product, and names a missing resolution', async () => {
    const d = tmp();
    const run = await runSen2Cor({ safe: makeL1CSafe({ radioAddOffset: -1000 }), resolution: 10, outputDir: path.join(d, 'out'), workDir: path.join(d, 'work'), l2aProcess: FAKE_L2A_PROCESS });
    expect(run.status).toBe('ok');
    const l2a = await readL2ASafe(run.product!, 10);
    expect(l2a.bands.map((b) => [b.band, b.resolution])).toEqual([
      ['B01', 20], ['B02', 10], ['B03', 10], ['B04', 10], ['B05', 20], ['B06', 20], ['B07', 20], ['B08', 10], ['B8A', 20], ['B11', 20], ['B12', 20],
    ]);
    expect(l2a.bands.every((b) => b.offset === -1000 && b.scale === 1e-4)).toBe(true);
    expect(l2a.scl).toMatchObject({ resolution: 20, path: expect.stringMatching(/R20m\/.*_SCL_20m\.jp2$/) });
    const out = path.join(d, 'boa_10m.tif');
    await safeToGeoTiff({ safe: run.product!, resolution: 10, output: out });
    const info = gdalinfo(out);
    expect(info.size).toEqual([300, 300]);
    expect(info.bands.map((b) => b.description)).toEqual(l2a.bands.map((b) => b.band));
    await expect(readL2ASafe(run.product!, 60)).rejects.toThrow(/has no 60 m output \(.*R60m is missing\)/);
  });

  it('says GDAL is required when its tools are missing', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const err = await safeToGeoTiff({ safe: makeL1CSafe(), resolution: 60, output: path.join(tmp(), 'x.tif') }).catch((e) => e);
      expect(err).toBeInstanceOf(HilError);
      expect(err.oneLine()).toMatch(/required for SAFE input .*apt-get install gdal-bin/);
    } finally {
      process.env.PATH = saved;
    }
  });
});
