import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { gdal } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

/**
 * A whole (small) raster read through GDAL, independent of hil's reader: band-sequential values as
 * float64, with the size GDAL reports.
 */
export function gdalRead(file: string): { width: number; height: number; bands: number; data: Float64Array } {
  const info = JSON.parse(gdal('gdalinfo', ['-json', file]));
  const [width, height] = info.size as [number, number];
  const dir = tempDir('hil-gdal-');
  try {
    const out = path.join(dir, 'r.bin');
    gdal('gdal_translate', ['-q', '-of', 'ENVI', '-ot', 'Float64', '-co', 'INTERLEAVE=BSQ', file, out]);
    const buf = readFileSync(out);
    const data = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    return { width, height, bands: data.length / (width * height), data };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** F-beta with β = 2 from binary counts, as the papers define it; null when the class is absent from both. */
export function f2(tp: number, fp: number, fn: number): number | null {
  const den = 5 * tp + 4 * fn + fp;
  return den > 0 ? (5 * tp) / den : null;
}
