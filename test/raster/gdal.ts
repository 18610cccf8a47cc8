import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { tempDir } from '../helpers/temp.js';

/** `gdalinfo -json` of a file, parsed. */
export async function gdalInfo(file: string, ...flags: string[]): Promise<GdalInfo> {
  const { stdout } = await execa('gdalinfo', ['-json', ...flags, file]);
  return JSON.parse(stdout) as GdalInfo;
}

export interface GdalInfo {
  size: [number, number];
  geoTransform?: number[];
  coordinateSystem?: { wkt: string };
  metadata?: Record<string, Record<string, string>>;
  bands: { band: number; block: [number, number]; type: string; description?: string; noDataValue?: number; checksum?: number }[];
}

/**
 * The raw little-endian samples GDAL reads for a window (band-sequential), via gdal_translate to ENVI.
 * Raw binary avoids text formats that reorder rows (AAIGrid flips images without a north-up transform).
 */
export async function gdalWindow(file: string, x: number, y: number, w: number, h: number, bands?: number[]): Promise<Buffer> {
  const dir = tempDir('hil-gdal-');
  try {
    const out = path.join(dir, 'w.bin');
    const bandFlags = (bands ?? []).flatMap((b) => ['-b', String(b + 1)]);
    await execa('gdal_translate', ['-q', '-of', 'ENVI', '-co', 'INTERLEAVE=BSQ', '-srcwin', `${x}`, `${y}`, `${w}`, `${h}`, ...bandFlags, file, out]);
    return await fs.readFile(out);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Bytes of a typed array, for exact comparison with GDAL's output. */
export function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
