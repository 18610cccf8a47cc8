import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { inputError, outputError } from '../errors.js';
import type { Resolution } from '../raster/bands.js';
import { commitTemp, discardTemp, ensureWritableDir, tempPathFor } from '../util/atomic.js';
import { readSafe, type SafeProduct } from './safe.js';

export interface SafeToGeoTiffOptions {
  /** An L1C or L2A .SAFE folder. */
  safe: string;
  resolution: Resolution;
  output: string;
}

async function gdal(tool: string, args: string[]): Promise<void> {
  try {
    await execa(tool, args);
  } catch (err) {
    const e = err as { code?: string; stderr?: string; shortMessage?: string };
    if (e.code === 'ENOENT') {
      throw inputError(`GDAL's ${tool} is required for SAFE input and was not found`, 'install GDAL (apt-get install gdal-bin)');
    }
    throw outputError(`${tool} failed: ${(e.stderr || e.shortMessage || String(err)).trim().split('\n').pop()}`, 'check the input product and free disk space');
  }
}

/** gdalbuildvrt cannot name bands, so the descriptions go into the VRT's band elements in order. */
function describeBands(vrt: string, names: readonly string[]): string {
  let i = 0;
  return vrt.replace(/(<VRTRasterBand\b[^>]*>)/g, (tag) => `${tag}\n    <Description>${names[i++]}</Description>`);
}

/**
 * Converts a SAFE product's JPEG2000 bands to one tiled, deflate-compressed multi-band GeoTIFF at
 * `resolution`, bands in the product's band order and named (B01 …). Bands at another native resolution
 * are resampled with "average": downsampling averages, upsampling repeats the source pixel. DN stay as
 * stored; the returned product carries each band's scale and offset. Written atomically.
 */
export async function safeToGeoTiff(opts: SafeToGeoTiffOptions): Promise<SafeProduct> {
  const product = await readSafe(opts.safe, opts.resolution);
  await ensureWritableDir(path.dirname(path.resolve(opts.output)));
  const work = await mkdtemp(path.join(os.tmpdir(), 'hil-safe-vrt-'));
  const tmp = tempPathFor(path.resolve(opts.output));
  try {
    const vrt = path.join(work, 'bands.vrt');
    const r = String(opts.resolution);
    await gdal('gdalbuildvrt', ['-q', '-separate', '-tr', r, r, '-r', 'average', '-srcnodata', '0', '-vrtnodata', '0', vrt, ...product.bands.map((b) => b.path)]);
    await writeFile(vrt, describeBands(await readFile(vrt, 'utf8'), product.bands.map((b) => b.band)));
    await gdal('gdal_translate', ['-q', '-of', 'GTiff', '-co', 'TILED=YES', '-co', 'COMPRESS=DEFLATE', '-co', 'BIGTIFF=IF_SAFER', vrt, tmp]);
    await commitTemp(tmp, path.resolve(opts.output));
  } catch (err) {
    await discardTemp(tmp);
    throw err;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return product;
}
