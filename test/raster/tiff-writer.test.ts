import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TiledTiffWriter, type TiffWriterOptions } from '../../src/raster/tiff-writer.js';
import { openRaster } from '../../src/raster/tiff-reader.js';
import { haveShared, haveTool, sharedDataDir } from '../helpers/shared.js';
import { bytesOf, gdalInfo, gdalWindow } from './gdal.js';
import { tempDir } from '../helpers/temp.js';

const gdal = haveTool('gdalinfo');
let dir: string;
beforeEach(async () => {
  dir = tempDir('hil-writer-');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

type Arr = Uint8Array | Uint16Array | Float32Array;
const ARRAY = { uint8: Uint8Array, uint16: Uint16Array, float32: Float32Array } as const;

/** A value for every (band, x, y) with enough structure to catch swapped bands, rows or tiles. */
function sample(dtype: TiffWriterOptions['dtype'], b: number, x: number, y: number): number {
  const v = (x * 7 + y * 13 + b * 101 + ((x * y) % 17)) % 251;
  return dtype === 'float32' ? v / 7 - 3.5 : dtype === 'uint16' ? v * 200 + b : v;
}

function expectedImage(o: TiffWriterOptions): Arr {
  const out = new ARRAY[o.dtype](o.bands * o.width * o.height);
  for (let b = 0; b < o.bands; b++)
    for (let y = 0; y < o.height; y++)
      for (let x = 0; x < o.width; x++) out[(b * o.height + y) * o.width + x] = sample(o.dtype, b, x, y);
  return out;
}

function tileOf(o: TiffWriterOptions, ts: number, tx: number, ty: number): Arr {
  const t = new ARRAY[o.dtype](o.bands * ts * ts);
  for (let b = 0; b < o.bands; b++)
    for (let y = 0; y < ts; y++)
      for (let x = 0; x < ts; x++) {
        const gx = tx * ts + x;
        const gy = ty * ts + y;
        if (gx < o.width && gy < o.height) t[(b * ts + y) * ts + x] = sample(o.dtype, b, gx, gy);
      }
  return t;
}

/** Writes every tile in a scrambled order with all writes in flight at once. */
async function writeAll(file: string, o: TiffWriterOptions): Promise<void> {
  const ts = o.tileSize ?? 256;
  const w = await TiledTiffWriter.create(file, o);
  const coords: [number, number][] = [];
  for (let ty = 0; ty < w.tilesDown; ty++) for (let tx = 0; tx < w.tilesAcross; tx++) coords.push([tx, ty]);
  coords.reverse().sort((a, b) => ((a[0] * 31 + a[1] * 17) % 7) - ((b[0] * 31 + b[1] * 17) % 7));
  await Promise.all(coords.map(([tx, ty]) => w.writeTile(tx, ty, tileOf(o, ts, tx, ty))));
  await w.close();
}

const GDAL_TYPE = { uint8: 'Byte', uint16: 'UInt16', float32: 'Float32' } as const;

const cases: [string, TiffWriterOptions][] = [
  ['uint8, 1 band, edge tiles', { width: 150, height: 70, bands: 1, dtype: 'uint8', tileSize: 64 }],
  ['uint16, 13 bands, predictor 2, names, nodata', { width: 100, height: 90, bands: 13, dtype: 'uint16', tileSize: 32, predictor: 2, nodata: 0, bandNames: ['B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B10', 'B11', 'B12'] }],
  ['float32, 3 bands, uncompressed', { width: 80, height: 50, bands: 3, dtype: 'float32', tileSize: 48, compression: 'none' }],
  ['uint8 predictor 2, level 1', { width: 64, height: 33, bands: 2, dtype: 'uint8', tileSize: 16, predictor: 2, level: 1 }],
  ['BigTIFF forced, uint16', { width: 70, height: 40, bands: 4, dtype: 'uint16', tileSize: 32, bigtiff: true }],
];

describe.skipIf(!gdal)('TiledTiffWriter vs GDAL', () => {
  it.each(cases)('%s', async (_name, o) => {
    const file = path.join(dir, 'out.tif');
    await writeAll(file, o);
    expect(await fs.readdir(dir)).toEqual(['out.tif']);
    const info = await gdalInfo(file);
    expect(info.size).toEqual([o.width, o.height]);
    expect(info.bands).toHaveLength(o.bands);
    for (const band of info.bands) {
      expect(band.type).toBe(GDAL_TYPE[o.dtype]);
      expect(band.block).toEqual([o.tileSize, o.tileSize]);
      if (o.nodata !== undefined) expect(band.noDataValue).toBe(o.nodata);
    }
    if (o.bandNames) expect(info.bands.map((b) => b.description)).toEqual(o.bandNames);
    const header = await fs.readFile(file).then((b) => b.readUInt16LE(2));
    expect(header).toBe(o.bigtiff ? 43 : 42);

    const expected = bytesOf(expectedImage(o));
    expect((await gdalWindow(file, 0, 0, o.width, o.height)).equals(expected)).toBe(true);
    const reader = await openRaster(file);
    try {
      expect(reader.info.planar).toBe('band');
      expect(reader.info.bandNames).toEqual(o.bandNames);
      expect(bytesOf(await reader.readWindow(0, 0, o.width, o.height)).equals(expected)).toBe(true);
    } finally {
      await reader.close();
    }
  });

  it('copies georeferencing from a real file so GDAL shows the same CRS and geotransform', async () => {
    if (!haveShared('data/sen2r')) return;
    const src = path.join(sharedDataDir, 'sen2r/S2A1C_20170703_022_Barbellino_TOA_10.tif');
    const reader = await openRaster(src);
    const { geo } = reader.info;
    await reader.close();
    const file = path.join(dir, 'geo.tif');
    await writeAll(file, { width: 24, height: 42, bands: 1, dtype: 'uint8', tileSize: 16, geo });
    const [a, b] = await Promise.all([gdalInfo(src), gdalInfo(file)]);
    expect(b.geoTransform).toEqual(a.geoTransform);
    expect(b.coordinateSystem?.wkt).toBe(a.coordinateSystem?.wkt);
    expect(b.coordinateSystem?.wkt).toContain('ID["EPSG",32632]');
  });
});

describe('TiledTiffWriter failure paths', () => {
  const o: TiffWriterOptions = { width: 40, height: 40, bands: 2, dtype: 'uint16', tileSize: 16 };

  it('abort leaves nothing behind', async () => {
    const w = await TiledTiffWriter.create(path.join(dir, 'a.tif'), o);
    await w.writeTile(0, 0, tileOf(o, 16, 0, 0));
    expect((await fs.readdir(dir)).length).toBe(1);
    await w.abort();
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('close with a missing tile throws and leaves nothing', async () => {
    const w = await TiledTiffWriter.create(path.join(dir, 'm.tif'), o);
    for (let ty = 0; ty < 3; ty++) for (let tx = 0; tx < 3; tx++) if (tx !== 2 || ty !== 1) await w.writeTile(tx, ty, tileOf(o, 16, tx, ty));
    await expect(w.close()).rejects.toThrow(/tile \(2, 1\) of band 0 was never written/);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('rejects a tile written twice, of the wrong size or outside the grid', async () => {
    const w = await TiledTiffWriter.create(path.join(dir, 'd.tif'), o);
    await w.writeTile(0, 0, tileOf(o, 16, 0, 0));
    await expect(w.writeTile(0, 0, tileOf(o, 16, 0, 0))).rejects.toThrow(/twice/);
    await expect(w.writeTile(1, 0, new Uint16Array(10))).rejects.toThrow(/must be a uint16 array/);
    await expect(w.writeTile(1, 0, new Float32Array(2 * 16 * 16))).rejects.toThrow(/must be a uint16 array/);
    await expect(w.writeTile(3, 0, tileOf(o, 16, 0, 0))).rejects.toThrow(/outside/);
    await w.abort();
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('writes byte-identical files for the same calls, whatever order compression finishes in', async () => {
    const big: TiffWriterOptions = { width: 200, height: 120, bands: 3, dtype: 'uint16', tileSize: 32 };
    await writeAll(path.join(dir, '1.tif'), big);
    await writeAll(path.join(dir, '2.tif'), big);
    const [a, b] = await Promise.all([fs.readFile(path.join(dir, '1.tif')), fs.readFile(path.join(dir, '2.tif'))]);
    expect(a.equals(b)).toBe(true);
  });

  it('stores zeros outside the image whatever edge tiles hold there, without touching an array it does not own', async () => {
    const edgy: TiffWriterOptions = { width: 40, height: 37, bands: 2, dtype: 'uint16', tileSize: 16, predictor: 2 };
    // The tiles with values where the 48² tile grid passes the 40 × 37 image.
    const noisy = (tx: number, ty: number) => {
      const t = tileOf(edgy, 16, tx, ty);
      for (let b = 0; b < 2; b++)
        for (let y = 0; y < 16; y++)
          for (let x = 0; x < 16; x++) if (tx * 16 + x >= edgy.width || ty * 16 + y >= edgy.height) t[(b * 16 + y) * 16 + x] = 999 + x + y;
      return t;
    };
    const write = async (name: string, tile: (tx: number, ty: number) => Arr, owned: boolean) => {
      const w = await TiledTiffWriter.create(path.join(dir, name), edgy);
      for (let ty = 0; ty < 3; ty++) for (let tx = 0; tx < 3; tx++) await w.writeTile(tx, ty, tile(tx, ty), { owned });
      await w.close();
      return fs.readFile(path.join(dir, name));
    };
    const zeros = await write('zeros.tif', (tx, ty) => tileOf(edgy, 16, tx, ty), false);
    const kept: Arr[] = [];
    const lent = await write('lent.tif', (tx, ty) => kept[kept.push(noisy(tx, ty)) - 1], false);
    expect(kept).toEqual(Array.from({ length: 9 }, (_, i) => noisy(i % 3, Math.floor(i / 3))));
    const owned = await write('owned.tif', noisy, true);
    expect(lent.equals(zeros)).toBe(true);
    expect(owned.equals(zeros)).toBe(true);
  });

  it('flushes to disk while tiles are written, without changing a byte, and fails the file if a flush fails', async () => {
    const big: TiffWriterOptions = { width: 200, height: 120, bands: 3, dtype: 'uint16', tileSize: 32 };
    // FileHandle is not exported; its prototype is that of any open handle.
    const probe = await fs.open(path.join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    await fs.rm(path.join(dir, 'probe'));
    const datasync = vi.spyOn(proto, 'datasync');
    try {
      await writeAll(path.join(dir, 'default.tif'), big);
      expect(datasync).not.toHaveBeenCalled();
      await writeAll(path.join(dir, 'flushed.tif'), { ...big, flushBytes: 1 });
      expect(datasync.mock.calls.length).toBeGreaterThan(0);
      const [a, b] = await Promise.all([fs.readFile(path.join(dir, 'default.tif')), fs.readFile(path.join(dir, 'flushed.tif'))]);
      expect(b.equals(a)).toBe(true);

      datasync.mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      await expect(writeAll(path.join(dir, 'failed.tif'), { ...big, flushBytes: 1 })).rejects.toThrow(/EIO/);
      expect((await fs.readdir(dir)).sort()).toEqual(['default.tif', 'flushed.tif']);
    } finally {
      datasync.mockRestore();
    }
  });

  it("picks BigTIFF on 'auto' only when the image could pass 4 GiB uncompressed", async () => {
    const big = await TiledTiffWriter.create(path.join(dir, 'big.tif'), { width: 40000, height: 40000, bands: 2, dtype: 'uint16' });
    const small = await TiledTiffWriter.create(path.join(dir, 'small.tif'), { width: 10980, height: 10980, bands: 13, dtype: 'uint16' });
    expect([big.bigtiff, small.bigtiff]).toEqual([true, false]);
    await Promise.all([big.abort(), small.abort()]);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('rejects options TIFF cannot hold', async () => {
    await expect(TiledTiffWriter.create(path.join(dir, 'x.tif'), { ...o, tileSize: 100 })).rejects.toThrow(/multiple of 16/);
    await expect(TiledTiffWriter.create(path.join(dir, 'x.tif'), { ...o, dtype: 'float32', predictor: 2 })).rejects.toThrow(/integer/);
    await expect(TiledTiffWriter.create(path.join(dir, 'nope/x.tif'), o)).rejects.toThrow(/cannot create/);
  });
});
