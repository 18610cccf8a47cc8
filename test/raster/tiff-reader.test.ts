import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { openRaster } from '../../src/raster/tiff-reader.js';
import { shiftGeo } from '../../src/raster/geo.js';
import { TiledTiffWriter } from '../../src/raster/tiff-writer.js';
import { haveShared, haveTool, sharedDataDir } from '../helpers/shared.js';
import { bytesOf, gdalInfo, gdalWindow } from './gdal.js';
import { tempDir } from '../helpers/temp.js';

const ready = haveTool('gdal_translate') && haveShared('data/sen2r');
const sen2r = path.join(sharedDataDir, 'sen2r/S2A1C_20170703_022_Barbellino_TOA_10.tif');
const ukis = path.join(sharedDataDir, 'ukis-csmask/sentinel2_toa.tif');
const cloudsen = path.join(sharedDataDir, 'cloudsen12-figures/ROI_1746/high/low-cloudy/S2L1C.tif');

const dir = tempDir('hil-reader-');

async function expectInputError(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HilError);
  expect((err as HilError).kind).toBe('input');
  expect((err as HilError).fix).toBeTruthy();
  expect((err as HilError).oneLine()).toMatch(pattern);
  expect((err as HilError).oneLine()).not.toContain('\n');
}

describe.skipIf(!ready)('openRaster on real files vs GDAL', () => {
  // pixel-interleaved uint16 (one strip-like tile row), tiled float32 with floating-point predictor,
  // striped float32, and a big-endian copy: the layouts real inputs come in.
  const windows: [string, () => string, number, number, number, number, number[] | undefined][] = [
    ['sen2r uint16 pixel-interleaved', () => sen2r, 3, 5, 17, 30, [9, 0, 3]],
    ['sen2r whole image', () => sen2r, 0, 0, 24, 42, undefined],
    ['ukis float32 predictor 3 across tiles', () => ukis, 200, 250, 100, 30, [5, 1]],
    ['cloudsen12 float32 strips', () => cloudsen, 500, 400, 9, 109, undefined],
    ['big-endian copy', () => path.join(dir, 'be.tif'), 250, 240, 20, 33, [2]],
    ['big-endian uint16 predictor 2', () => path.join(dir, 'be-p2.tif'), 2, 3, 20, 30, [11, 4]],
    ['LZW uint16 predictor 2', () => path.join(dir, 'lzw.tif'), 0, 0, 24, 42, undefined],
    // Sums that wrap at the sample width, for each width the running sum handles.
    ['uint8 predictor 2, band-sequential', () => path.join(dir, 'u8-p2.tif'), 0, 0, 24, 42, undefined],
    ['uint32 predictor 2 near 2^32, band-sequential', () => path.join(dir, 'u32-p2.tif'), 1, 2, 23, 40, [0, 7, 11]],
  ];
  beforeAll(async () => {
    const tiled = ['-co', 'TILED=YES', '-co', 'BLOCKXSIZE=128', '-co', 'BLOCKYSIZE=128'];
    const big = ['-co', 'ENDIANNESS=BIG', '-co', 'COMPRESS=DEFLATE'];
    await execa('gdal_translate', ['-q', ...big, ...tiled, ukis, path.join(dir, 'be.tif')]);
    await execa('gdal_translate', ['-q', ...big, '-co', 'PREDICTOR=2', sen2r, path.join(dir, 'be-p2.tif')]);
    await execa('gdal_translate', ['-q', '-co', 'COMPRESS=LZW', '-co', 'PREDICTOR=2', '-co', 'INTERLEAVE=BAND', sen2r, path.join(dir, 'lzw.tif')]);
    const p2 = ['-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=2', '-co', 'INTERLEAVE=BAND'];
    await execa('gdal_translate', ['-q', ...p2, '-ot', 'Byte', '-scale', '0', '4000', '0', '255', sen2r, path.join(dir, 'u8-p2.tif')]);
    await execa('gdal_translate', ['-q', ...p2, '-ot', 'UInt32', '-scale', '0', '4000', '0', '4294967295', sen2r, path.join(dir, 'u32-p2.tif')]);
  });

  // Both ways of decoding: on libuv's pool, and blocking the calling thread (OpenRasterOptions.sync).
  it.each(windows)('%s', async (_name, file, x, y, w, h, bands) => {
    const gdal = await gdalWindow(file(), x, y, w, h, bands);
    for (const sync of [false, true]) {
      const reader = await openRaster(file(), { sync });
      try {
        const ours = await reader.readWindow(x, y, w, h, bands);
        expect(ours.length).toBe((bands?.length ?? reader.info.bands) * w * h);
        expect(bytesOf(ours).equals(gdal), `sync: ${sync}`).toBe(true);
      } finally {
        await reader.close();
      }
    }
  });

  it('reports metadata as GDAL does', async () => {
    const reader = await openRaster(sen2r);
    const info = await gdalInfo(sen2r);
    await reader.close();
    expect(reader.info).toMatchObject({ width: 24, height: 42, bands: 12, dtype: 'uint16', nodata: 65535, planar: 'pixel' });
    expect(reader.info.geo.epsg).toBe(32632);
    expect(reader.info.geo.geoTransform).toEqual(info.geoTransform);
    const named = await openRaster(ukis);
    await named.close();
    expect(named.info.bandNames).toEqual(['B02', 'B03', 'B04', 'B08', 'B11', 'B12']);
    expect(named.info.dtype).toBe('float32');
  });

  it('shiftGeo gives the georeferencing GDAL gives a cropped copy', async () => {
    const crop = path.join(dir, 'crop.tif');
    await execa('gdal_translate', ['-q', '-srcwin', '5', '7', '10', '10', sen2r, crop]);
    const reader = await openRaster(sen2r);
    await reader.close();
    expect(shiftGeo(reader.info.geo, 5, 7).geoTransform).toEqual((await gdalInfo(crop)).geoTransform);
  });

  it('rejects windows outside the image and unknown bands', async () => {
    const reader = await openRaster(sen2r);
    await expect(reader.readWindow(20, 0, 5, 5)).rejects.toThrow(RangeError);
    await expect(reader.readWindow(0, 0, 5, 5, [12])).rejects.toThrow(RangeError);
    await reader.close();
  });
});

describe('the block cache in scan order', () => {
  // 512 × 256 px, two bands, 32² px blocks: 16 × 8 blocks per band. Windows of 64 px step by 48 (overlap
  // 16), top to bottom as the engine reads them, so rows of blocks are shared between rows of windows, and
  // a row of windows touches three rows of blocks: more than two rows' cache, so plain LRU would drop the
  // shared row's first blocks before the next row of windows comes back to them.
  async function scanReads(cacheBytes: number): Promise<{ decoded: number; exact: boolean }> {
    const file = path.join(dir, 'scan.tif');
    const o = { width: 512, height: 256, bands: 2, dtype: 'uint16' as const, tileSize: 32 };
    const value = (b: number, y: number, x: number) => (b * 7 + y * 512 + x) % 65536;
    const w = await TiledTiffWriter.create(file, o);
    for (let ty = 0; ty < 8; ty++) {
      for (let tx = 0; tx < 16; tx++) {
        const tile = new Uint16Array(2 * 32 * 32);
        for (let b = 0; b < 2; b++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) tile[b * 1024 + y * 32 + x] = value(b, ty * 32 + y, tx * 32 + x);
        await w.writeTile(tx, ty, tile);
      }
    }
    await w.close();
    const reader = await openRaster(file, { cacheBytes });
    let exact = true;
    // Every other window goes into the same array, as the engine reuses its windows.
    const reused = new Uint16Array(2 * 64 * 64);
    let n = 0;
    try {
      for (let y = 0; y + 64 <= 256; y += 48) {
        for (let x = 0; x + 64 <= 512; x += 48) {
          const win = n++ % 2 ? await reader.readWindow(x, y, 64, 64, undefined, reused) : await reader.readWindow(x, y, 64, 64);
          if (n % 2 === 0 && win !== reused) exact = false;
          for (let b = 0; b < 2; b++) for (let r = 0; r < 64; r++) for (let c = 0; c < 64; c++) if (win[b * 4096 + r * 64 + c] !== value(b, y + r, x + c)) exact = false;
        }
      }
      return { decoded: reader.decodedBlocks, exact };
    } finally {
      await reader.close();
    }
  }

  it('decodes each block once with two rows of blocks cached, dropping the topmost row first', async () => {
    const block = 32 * 32 * 2;
    // Two block rows across both bands, plus one window's blocks (3 × 3 per band).
    const r = await scanReads(block * 2 * (2 * 16 + 9));
    expect(r.exact).toBe(true);
    expect(r.decoded).toBe(2 * 16 * 8);
  });

  it('refuses to read into an array of the wrong type or length', async () => {
    const file = path.join(dir, 'into.tif');
    const w = await TiledTiffWriter.create(file, { width: 32, height: 32, bands: 1, dtype: 'uint16', tileSize: 32 });
    await w.writeTile(0, 0, new Uint16Array(32 * 32));
    await w.close();
    const reader = await openRaster(file);
    try {
      await expect(reader.readWindow(0, 0, 8, 8, undefined, new Uint16Array(63))).rejects.toThrow(/Uint16Array of 63 samples; the window needs uint16 × 64/);
      await expect(reader.readWindow(0, 0, 8, 8, undefined, new Float32Array(64))).rejects.toThrow(RangeError);
    } finally {
      await reader.close();
    }
  });

  it('counts repeats when the cache holds less than a row of blocks', async () => {
    const r = await scanReads(32 * 32 * 2 * 2 * 9);
    expect(r.exact).toBe(true);
    expect(r.decoded).toBeGreaterThan(2 * 16 * 8);
  });
});

describe('mayHoldNodata', () => {
  // 64 × 64 px, two bands, 32² px blocks; nodata 0 only in band 1 of block (1, 1), every other sample ≥ 1.
  async function writeWith(name: string, opts: { dtype: 'uint8' | 'uint16' | 'float32'; predictor?: 1 | 2; nodata?: number }): Promise<string> {
    const file = path.join(dir, name);
    const w = await TiledTiffWriter.create(file, { width: 64, height: 64, bands: 2, tileSize: 32, ...opts });
    for (let ty = 0; ty < 2; ty++) {
      for (let tx = 0; tx < 2; tx++) {
        const tile = (opts.dtype === 'uint8' ? new Uint8Array(2048) : opts.dtype === 'uint16' ? new Uint16Array(2048) : new Float32Array(2048)).map((_, i) => 1 + ((i * 7 + tx * 3) % 200));
        if (tx === 1 && ty === 1) tile[1024 + 5 * 32 + 17] = 0;
        await w.writeTile(tx, ty, tile);
      }
    }
    await w.close();
    return file;
  }

  // Predictor 2 on 8 and 16 bits looks on the way (WebAssembly); without a predictor, a search per block.
  it.each([
    ['uint16, predictor 2', 'uint16', 2],
    ['uint8, predictor 2', 'uint8', 2],
    ['uint16, no predictor', 'uint16', 1],
  ] as const)('%s: false only for windows whose blocks, in the bands read, were decoded without nodata', async (name, dtype, predictor) => {
    const reader = await openRaster(await writeWith(`nd-${dtype}-${predictor}.tif`, { dtype, predictor, nodata: 0 }));
    try {
      expect(reader.mayHoldNodata(0, 0, 32, 32), 'nothing read yet').toBe(true);
      await reader.readWindow(0, 0, 64, 64);
      expect(reader.mayHoldNodata(0, 0, 32, 32)).toBe(false);
      expect(reader.mayHoldNodata(0, 0, 40, 20, [1])).toBe(false);
      expect(reader.mayHoldNodata(16, 16, 32, 32)).toBe(true);
      expect(reader.mayHoldNodata(32, 32, 32, 32, [0])).toBe(false);
      expect(reader.mayHoldNodata(32, 32, 32, 32, [1])).toBe(true);
    } finally {
      await reader.close();
    }
  });

  it('is false without a nodata value and true for float rasters', async () => {
    for (const [file, expected] of [
      [await writeWith('nd-none.tif', { dtype: 'uint16', predictor: 2 }), false],
      [await writeWith('nd-float.tif', { dtype: 'float32', nodata: 0 }), true],
    ] as const) {
      const reader = await openRaster(file);
      await reader.readWindow(0, 0, 64, 64);
      expect(reader.mayHoldNodata(0, 0, 32, 32), file).toBe(expected);
      await reader.close();
    }
  });
});

describe('openRaster errors', () => {
  it('names a missing file and how to fix it', async () => {
    await expectInputError(openRaster(path.join(dir, 'nope.tif')), /cannot open raster .*nope\.tif \(ENOENT\) — check the path/);
  });

  it('refuses a file that is not a TIFF', async () => {
    const file = path.join(dir, 'text.tif');
    await fs.writeFile(file, 'this is not an image\n'.repeat(10));
    await expectInputError(openRaster(file), /not a readable TIFF\/GeoTIFF/);
  });

  it.skipIf(!ready)('refuses a real file cut in half, when opening', async () => {
    const file = path.join(dir, 'half-real.tif');
    const bytes = await fs.readFile(sen2r);
    await fs.writeFile(file, bytes.subarray(0, bytes.length >> 1));
    await expectInputError(openRaster(file), /truncated or corrupt/);
  });

  it('refuses one of our own files cut in half (IFD at the end)', async () => {
    const full = path.join(dir, 'ours.tif');
    const o = { width: 64, height: 64, bands: 2, dtype: 'uint16' as const, tileSize: 32 };
    const w = await TiledTiffWriter.create(full, o);
    for (let ty = 0; ty < 2; ty++) for (let tx = 0; tx < 2; tx++) await w.writeTile(tx, ty, new Uint16Array(2 * 32 * 32).map((_, i) => (i * 31) % 4000));
    await w.close();
    const bytes = await fs.readFile(full);
    const cut = path.join(dir, 'ours-half.tif');
    await fs.writeFile(cut, bytes.subarray(0, bytes.length >> 1));
    await expectInputError(openRaster(cut), /is truncated: its image directory starts at byte \d+ but the file has \d+ bytes/);
  });

  it('refuses a block whose compressed bytes are damaged, when reading it', async () => {
    const file = path.join(dir, 'damaged.tif');
    const o = { width: 64, height: 32, bands: 1, dtype: 'uint16' as const, tileSize: 32 };
    const w = await TiledTiffWriter.create(file, o);
    const tile = new Uint16Array(32 * 32).map((_, i) => (i * 7919) % 9000);
    await w.writeTile(0, 0, tile);
    await w.writeTile(1, 0, tile);
    await w.close();
    const bytes = await fs.readFile(file);
    // The first tile's deflate stream starts right after the 8-byte header; garble its middle.
    bytes.fill(0xff, 20, 60);
    await fs.writeFile(file, bytes);
    for (const sync of [false, true]) {
      const reader = await openRaster(file, { sync });
      try {
        expect((await reader.readWindow(32, 0, 32, 32)).every((v, i) => v === tile[i])).toBe(true);
        await expectInputError(reader.readWindow(0, 0, 64, 32), /block 0 does not decode/);
      } finally {
        await reader.close();
      }
    }
  });

  it.skipIf(!ready)('refuses an unsupported sample format', async () => {
    const file = path.join(dir, 'complex.tif');
    await execa('gdal_translate', ['-q', '-ot', 'CFloat32', sen2r, file]);
    await expectInputError(openRaster(file), /unsupported sample format .* — convert it/);
  });
});
