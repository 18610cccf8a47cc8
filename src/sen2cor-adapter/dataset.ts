import { existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configError, inputError } from '../errors.js';
import { labelMapByName, SCL_MAP, type LabelMap } from '../metrics/labels.js';
import type { RadiometricScaling } from '../metrics/scaling.js';
import { canonicalBand } from '../raster/bands.js';

/** Built-in manifests ship in datasets/ at the package root (two levels above src/… or dist/…). */
export const BUILTIN_DATASETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../datasets');

const bandName = z.string().refine((b) => canonicalBand(b) !== undefined, { message: 'not a Sentinel-2 band name (B01 … B12, B8A)' });

/** A multi-band raster: band names in file order; reflectance = (DN + offset) * scale. */
const rasterSchema = z.object({
  path: z.string().min(1),
  bands: z.array(bandName).min(1),
  scale: z.number().positive(),
  offset: z.number().default(0),
  nodata: z.number().nullable().default(null),
});

const labelSchema = z.object({
  path: z.string().min(1),
  /** A built-in mapping name (scl, cloudsen12, ukis-csmask) or code → class (0 clear, 1 thick, 2 thin, 3 shadow) / "ignore". */
  map: z.union([z.string(), z.record(z.string().regex(/^-?\d+$/), z.union([z.number().int().min(0).max(3), z.literal('ignore')]))]),
  nodata: z.number().nullable().default(null),
});

const sampleSchema = z.object({
  id: z.string().min(1),
  l1c: rasterSchema,
  l2a: rasterSchema.optional(),
  /** Sen2Cor scene classification, possibly on a coarser grid (it is upsampled onto the L1C grid). */
  scl: z.object({ path: z.string().min(1), nodata: z.number().nullable().default(0) }).optional(),
  label: labelSchema.optional(),
});

export const datasetManifestSchema = z.object({
  schema: z.literal('hil.dataset/1'),
  name: z.string().min(1),
  description: z.string().optional(),
  /** What relative paths resolve against: the manifest's folder, or the data dir (--data-dir / HIL_DATA_DIR). */
  root: z.enum(['manifest', 'dataDir']).default('manifest'),
  samples: z.array(sampleSchema).min(1),
});
export type DatasetManifest = z.infer<typeof datasetManifestSchema>;

export interface DatasetRaster extends RadiometricScaling {
  path: string;
  bands: string[];
}

export interface DatasetLabel {
  path: string;
  map: LabelMap;
  nodata: number | null;
}

export interface DatasetSample {
  id: string;
  l1c: DatasetRaster;
  l2a?: DatasetRaster;
  scl?: DatasetLabel;
  label?: DatasetLabel;
}

export interface Dataset {
  name: string;
  description?: string;
  manifestPath: string;
  samples: DatasetSample[];
}

export async function builtinDatasetNames(): Promise<string[]> {
  const entries = await fs.readdir(BUILTIN_DATASETS_DIR).catch(() => [] as string[]);
  return entries.filter((e) => e.endsWith('.json')).map((e) => e.slice(0, -5)).sort();
}

async function locate(nameOrFile: string): Promise<string> {
  if (existsSync(nameOrFile) && statSync(nameOrFile).isFile()) return path.resolve(nameOrFile);
  const builtin = path.join(BUILTIN_DATASETS_DIR, `${nameOrFile}.json`);
  if (/^[\w.-]+$/.test(nameOrFile) && existsSync(builtin)) return builtin;
  throw inputError(
    `dataset "${nameOrFile}" is neither a manifest file nor a built-in dataset`,
    `give the path of a dataset manifest (.json) or one of: ${(await builtinDatasetNames()).join(', ')}`,
  );
}

/**
 * Loads a dataset manifest (a built-in name or a file), resolves its paths and checks that every file
 * exists, so a run fails before it starts rather than halfway through a dataset.
 */
export async function loadDataset(nameOrFile: string, opts: { dataDir?: string } = {}): Promise<Dataset> {
  const manifestPath = await locate(nameOrFile);
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
  } catch (err) {
    throw inputError(`${manifestPath} is not valid JSON (${(err as Error).message})`, 'fix the dataset manifest');
  }
  const parsed = datasetManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw inputError(`${manifestPath}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, 'fix the dataset manifest (schema hil.dataset/1)');
  }
  const manifest = parsed.data;
  let base = path.dirname(manifestPath);
  if (manifest.root === 'dataDir') {
    const dataDir = opts.dataDir ?? process.env.HIL_DATA_DIR;
    if (!dataDir) {
      throw configError(`dataset ${manifest.name} reads its files from the data dir, which is not set`, 'pass --data-dir or set HIL_DATA_DIR to the folder holding the data');
    }
    base = path.resolve(dataDir);
  }
  const missing: string[] = [];
  const resolve = (p: string) => {
    const abs = path.resolve(base, p);
    if (!existsSync(abs)) missing.push(abs);
    return abs;
  };
  const raster = (r: z.infer<typeof rasterSchema>): DatasetRaster => ({ ...r, path: resolve(r.path), bands: r.bands.map((b) => canonicalBand(b)!) });
  const samples = manifest.samples.map((s): DatasetSample => ({
    id: s.id,
    l1c: raster(s.l1c),
    ...(s.l2a ? { l2a: raster(s.l2a) } : {}),
    ...(s.scl ? { scl: { path: resolve(s.scl.path), map: SCL_MAP, nodata: s.scl.nodata } } : {}),
    ...(s.label
      ? {
          label: {
            path: resolve(s.label.path),
            nodata: s.label.nodata,
            map: typeof s.label.map === 'string' ? labelMapByName(s.label.map) : { name: `${manifest.name}/${s.id}`, classes: Object.fromEntries(Object.entries(s.label.map).map(([k, v]) => [Number(k), v])) },
          },
        }
      : {}),
  }));
  if (missing.length > 0) {
    throw inputError(
      `dataset ${manifest.name} lacks ${missing.length} file${missing.length > 1 ? 's' : ''}: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ' …' : ''}`,
      manifest.root === 'dataDir' ? `point --data-dir (HIL_DATA_DIR) at the folder that holds them (now ${base})` : `put the files beside ${manifestPath}`,
    );
  }
  return { name: manifest.name, ...(manifest.description ? { description: manifest.description } : {}), manifestPath, samples };
}
