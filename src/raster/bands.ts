import { inputError, usageError } from '../errors.js';

/** Sentinel-2 L1C band order (13 bands), as the DTACSNet and CloudSEN12 models expect it. */
export const L1C_BANDS = ['B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B10', 'B11', 'B12'] as const;
/** Sentinel-2 L2A band order (12 bands): L1C without the cirrus band B10. */
export const L2A_BANDS = L1C_BANDS.filter((b) => b !== 'B10');

export type Resolution = 10 | 20 | 60;
export const RESOLUTIONS: readonly Resolution[] = [10, 20, 60];

/** A --res flag: one of the Sentinel-2 resolutions. */
export function parseResolution(value: string | number): Resolution {
  const res = Number(value) as Resolution;
  if (!RESOLUTIONS.includes(res)) throw usageError(`--res ${value} is not a Sentinel-2 resolution`, `use --res ${RESOLUTIONS.join(', --res ')}`);
  return res;
}

/** Full tile side in pixels per resolution (a 109.8 km tile). */
export const TILE_SIZE_PX: Record<Resolution, number> = { 10: 10980, 20: 5490, 60: 1830 };

/** Native resolution of each band; a "10 m run" resamples every band to 10 m. */
export const NATIVE_RES: Record<string, Resolution> = {
  B01: 60, B02: 10, B03: 10, B04: 10, B05: 20, B06: 20, B07: 20, B08: 10, B8A: 20, B09: 60, B10: 60, B11: 20, B12: 20,
};

/** Band sets by name, for flags such as `--bands l1c13`. */
export const BAND_SETS: Record<string, readonly string[]> = {
  l1c13: L1C_BANDS,
  l2a12: L2A_BANDS,
  rgbn: ['B02', 'B03', 'B04', 'B08'],
};

/** Canonical band name: "B1" → "B01", "b8a" → "B8A". Returns undefined for names that are not S2 bands. */
export function canonicalBand(name: string): string | undefined {
  const m = /^B?0*(\d{1,2}|8A)$/i.exec(name.trim());
  if (!m) return undefined;
  const id = m[1].toUpperCase();
  const canon = id === '8A' ? 'B8A' : `B${id.padStart(2, '0')}`;
  return (L1C_BANDS as readonly string[]).includes(canon) ? canon : undefined;
}

/**
 * For each band a model needs, the index of that band in the input's band list. Bands are matched by
 * name, so a model on a band subset runs on any input that has those bands, in any order.
 */
export function mapBands(available: readonly string[], required: readonly string[], source: string): number[] {
  const canonAvailable = available.map((b) => canonicalBand(b) ?? b);
  const missing: string[] = [];
  const indices = required.map((band) => {
    const idx = canonAvailable.indexOf(canonicalBand(band) ?? band);
    if (idx < 0) missing.push(band);
    return idx;
  });
  if (missing.length > 0) {
    throw inputError(
      `${source} lacks band${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (it has ${available.join(' ')})`,
      'use an input with those bands, or a model built for the bands the input has',
    );
  }
  return indices;
}
