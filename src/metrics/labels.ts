import { inputError } from '../errors.js';
import { nodataTest, type NumericArray } from './scaling.js';

/** Class code written for pixels that take no part in a comparison (unlabelled, nodata, defective). */
export const IGNORE = 255;

/** The CloudSEN12 classes every label source is mapped onto. */
export const CLOUDSEN12_CLASSES = ['clear', 'thick cloud', 'thin cloud', 'cloud shadow'] as const;

/** A label source's codes as data: stored code → CloudSEN12 class, or 'ignore'. */
export interface LabelMap {
  name: string;
  classes: Readonly<Record<number, number | 'ignore'>>;
}

/** Sen2Cor SCL (REFERENCE.md): 8, 9 → thick; 10 → thin; 3 → shadow; other valid → clear; 0, 1 → ignore. */
export const SCL_MAP: LabelMap = {
  name: 'scl',
  classes: { 0: 'ignore', 1: 'ignore', 2: 0, 3: 3, 4: 0, 5: 0, 6: 0, 7: 0, 8: 1, 9: 1, 10: 2, 11: 0 },
};

/** CloudSEN12 manual_hq / manual_sc: already the four classes. */
export const CLOUDSEN12_MAP: LabelMap = {
  name: 'cloudsen12',
  classes: { 0: 0, 1: 1, 2: 2, 3: 3 },
};

/** ukis-csmask reference masks: 0 shadow, 1 water, 3 land, 4 cloud (it has no thin-cloud class). */
export const UKIS_CSMASK_MAP: LabelMap = {
  name: 'ukis-csmask',
  classes: { 0: 3, 1: 0, 3: 0, 4: 1 },
};

export const LABEL_MAPS: Readonly<Record<string, LabelMap>> = {
  scl: SCL_MAP,
  cloudsen12: CLOUDSEN12_MAP,
  'ukis-csmask': UKIS_CSMASK_MAP,
};

/** A built-in map by name, with an error listing the known names. */
export function labelMapByName(name: string): LabelMap {
  const map = LABEL_MAPS[name];
  if (!map) {
    throw inputError(`unknown label mapping "${name}"`, `use one of ${Object.keys(LABEL_MAPS).join(', ')} or give the codes inline`);
  }
  return map;
}

/**
 * Maps a label raster's codes to classes (IGNORE for ignored codes and nodata). Codes the map does not
 * know are collected and reported together, naming the raster, rather than silently counted as clear.
 */
export function applyLabelMap(
  codes: NumericArray,
  map: LabelMap,
  source: string,
  nodata?: number | null,
): Uint8Array {
  const lut = new Map<number, number>();
  for (const [code, cls] of Object.entries(map.classes)) lut.set(Number(code), cls === 'ignore' ? IGNORE : cls);
  const isNodata = nodataTest(nodata);
  const out = new Uint8Array(codes.length);
  const unknown = new Set<number>();
  for (let i = 0; i < codes.length; i++) {
    const v = codes[i];
    if (isNodata(v)) {
      out[i] = IGNORE;
      continue;
    }
    const cls = lut.get(v);
    if (cls === undefined) {
      unknown.add(v);
      out[i] = IGNORE;
    } else {
      out[i] = cls;
    }
  }
  if (unknown.size > 0) {
    const list = [...unknown].sort((a, b) => a - b).slice(0, 10);
    throw inputError(
      `${source} has label code${unknown.size > 1 ? 's' : ''} ${list.join(', ')}${unknown.size > 10 ? ' …' : ''} that the "${map.name}" mapping does not know`,
      `check that the label raster is a ${map.name} mask, or declare its codes in the dataset manifest`,
    );
  }
  return out;
}
