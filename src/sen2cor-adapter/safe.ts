import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { inputError } from '../errors.js';
import { L1C_BANDS, L2A_BANDS, NATIVE_RES, type Resolution } from '../raster/bands.js';

/** One band file of a SAFE product and how its DN become reflectance: (DN + offset) * scale. */
export interface SafeBand {
  band: string;
  path: string;
  /** Pixel size of the file in metres. */
  resolution: Resolution;
  scale: number;
  offset: number;
  nodata: number;
}

export interface SafeProduct {
  product: string;
  level: 'L1C' | 'L2A';
  bands: SafeBand[];
  /** L2A only: the scene classification raster used at the chosen resolution. */
  scl?: { path: string; resolution: Resolution };
}

/** JPEG2000 DN 0 marks pixels outside the swath in both levels. */
const NODATA = 0;

async function readMetadata(product: string, file: string): Promise<string> {
  const mtd = path.join(product, file);
  try {
    return await fs.readFile(mtd, 'utf8');
  } catch {
    throw inputError(`${product} has no ${file}`, `give the unzipped ${file === 'MTD_MSIL1C.xml' ? 'S2X_MSIL1C' : 'S2X_MSIL2A'}_*.SAFE folder`);
  }
}

/**
 * Quantification value and per-band additive offsets from the product metadata. band_id counts the 13
 * physical bands in L1C order (B10 included, also in L2A); a product without the list (baseline < 04.00)
 * has offset 0.
 */
function radiometry(xml: string, file: string, quantTag: string, offsetTag: string): { quantification: number; offsets: Map<string, number> } {
  const q = new RegExp(`<${quantTag}[^>]*>\\s*([\\d.]+)\\s*</${quantTag}>`).exec(xml);
  if (!q) throw inputError(`${file} has no ${quantTag}`, 'the product metadata is incomplete; download the product again');
  const offsets = new Map<string, number>();
  for (const m of xml.matchAll(new RegExp(`<${offsetTag}\\s+band_id="(\\d+)"\\s*>\\s*(-?[\\d.]+)\\s*</${offsetTag}>`, 'g'))) {
    const band = L1C_BANDS[Number(m[1])];
    if (band) offsets.set(band, Number(m[2]));
  }
  return { quantification: Number(q[1]), offsets };
}

/** The IMG_DATA folder of the product's single granule. */
async function imgData(product: string): Promise<string> {
  const granuleDir = path.join(product, 'GRANULE');
  const granules = await fs.readdir(granuleDir).catch(() => [] as string[]);
  if (granules.length !== 1) {
    throw inputError(`${granuleDir} holds ${granules.length} granules, expected 1`, 'give a single-tile SAFE product');
  }
  return path.join(granuleDir, granules[0], 'IMG_DATA');
}

/** L1C: IMG_DATA/<tile>_<time>_B01.jp2 … at native resolution, with RADIO_ADD_OFFSET. */
export async function readL1CSafe(product: string): Promise<SafeProduct> {
  const xml = await readMetadata(product, 'MTD_MSIL1C.xml');
  const { quantification, offsets } = radiometry(xml, path.join(product, 'MTD_MSIL1C.xml'), 'QUANTIFICATION_VALUE', 'RADIO_ADD_OFFSET');
  const dir = await imgData(product);
  const files = await fs.readdir(dir);
  const missing: string[] = [];
  const bands: SafeBand[] = [];
  for (const band of L1C_BANDS) {
    const file = files.find((f) => f.endsWith(`_${band}.jp2`));
    if (!file) {
      missing.push(band);
      continue;
    }
    bands.push({ band, path: path.join(dir, file), resolution: NATIVE_RES[band], scale: 1 / quantification, offset: offsets.get(band) ?? 0, nodata: NODATA });
  }
  if (missing.length > 0) {
    throw inputError(`${dir} lacks band${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, 'use a complete L1C product');
  }
  return { product, level: 'L1C', bands };
}

/**
 * L2A at one resolution: the BOA bands of IMG_DATA/R<res>m, and each band that folder lacks from the next
 * coarser folder (Sen2Cor keeps B01, B05–B07, B8A, B11, B12 at 20 m and B09 at 60 m only), with
 * BOA_ADD_OFFSET; plus the SCL (produced at 20 and 60 m; a 10 m run uses the 20 m one).
 */
export async function readL2ASafe(product: string, res: Resolution): Promise<SafeProduct> {
  const xml = await readMetadata(product, 'MTD_MSIL2A.xml');
  const { quantification, offsets } = radiometry(xml, path.join(product, 'MTD_MSIL2A.xml'), 'BOA_QUANTIFICATION_VALUE', 'BOA_ADD_OFFSET');
  const dir = await imgData(product);
  const wanted = path.join(dir, `R${res}m`);
  if (!existsSync(wanted)) {
    throw inputError(`${product} has no ${res} m output (${wanted} is missing)`, `run Sen2Cor with --resolution ${res}, or choose a resolution the product has`);
  }
  const folders: Resolution[] = ([10, 20, 60] as const).filter((r) => r >= res);
  const listing = new Map<Resolution, string[]>();
  for (const r of folders) listing.set(r, await fs.readdir(path.join(dir, `R${r}m`)).catch(() => [] as string[]));
  const find = (name: string): { path: string; resolution: Resolution } | undefined => {
    for (const r of folders) {
      const file = listing.get(r)!.find((f) => f.endsWith(`_${name}_${r}m.jp2`));
      if (file) return { path: path.join(dir, `R${r}m`, file), resolution: r };
    }
    return undefined;
  };
  const bands: SafeBand[] = [];
  for (const band of L2A_BANDS) {
    const hit = find(band);
    if (hit) bands.push({ band, ...hit, scale: 1 / quantification, offset: offsets.get(band) ?? 0, nodata: NODATA });
  }
  if (bands.length === 0) throw inputError(`${wanted} holds no BOA bands`, 'check that Sen2Cor finished writing the product');
  return { product, level: 'L2A', bands, scl: find('SCL') };
}

/** Reads either level, by which metadata file the product has. */
export async function readSafe(product: string, res: Resolution): Promise<SafeProduct> {
  return existsSync(path.join(product, 'MTD_MSIL2A.xml')) ? readL2ASafe(product, res) : readL1CSafe(product);
}
