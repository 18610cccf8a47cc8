import path from 'node:path';
import { inputError } from '../errors.js';
import { canonicalBand } from '../raster/bands.js';
import { openRaster } from '../raster/tiff-reader.js';
import { loadDataset, type DatasetRaster } from '../sen2cor-adapter/dataset.js';
import type { SampleReference } from './accuracy.js';

/** The input of a finished run as `hil run` knows it. */
export interface RunInput {
  path: string;
  bands: string[];
  scale: number;
  offset: number;
  nodata?: number | null;
}

const isRaster = (ref: string) => /\.tiff?$/i.test(ref);

/**
 * Resolves `hil run --reference DATASET|FILE` for a run's input. A dataset (built-in name or manifest) must
 * hold the input as one of its samples' L1C files, and that sample's scaling and references are used. A
 * GeoTIFF is an L2A reference on the input's grid, its bands named by its band descriptions, DN / 10000.
 */
export async function resolveReference(ref: string, run: RunInput, opts: { dataDir?: string } = {}): Promise<{ input: DatasetRaster; reference: SampleReference }> {
  if (isRaster(ref)) {
    const reader = await openRaster(ref);
    const { bandNames, nodata } = reader.info;
    await reader.close();
    const bands = bandNames?.map((b) => canonicalBand(b));
    if (!bands || bands.some((b) => b === undefined)) {
      throw inputError(
        `reference ${ref} does not name its bands${bandNames ? ` (its band descriptions are ${bandNames.join(' ')})` : ''}`,
        'set band descriptions (gdal_edit.py, or gdal_translate with -mo) or give a dataset manifest that lists them',
      );
    }
    return {
      input: { path: run.path, bands: run.bands, scale: run.scale, offset: run.offset, nodata: run.nodata ?? null },
      reference: { l2a: { path: path.resolve(ref), bands: bands as string[], scale: 1e-4, offset: 0, nodata: nodata ?? null } },
    };
  }
  const dataset = await loadDataset(ref, opts);
  const want = path.resolve(run.path);
  const sample = dataset.samples.find((s) => s.l1c.path === want);
  if (!sample) {
    throw inputError(
      `run input ${want} is not a sample of dataset ${dataset.name}`,
      `run on one of its L1C files (${dataset.samples.slice(0, 3).map((s) => s.l1c.path).join(', ')}${dataset.samples.length > 3 ? ' …' : ''}) or give the L2A GeoTIFF itself`,
    );
  }
  return { input: sample.l1c, reference: sample };
}
