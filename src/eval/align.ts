import { HilError, inputError } from '../errors.js';
import { upsampleFactor, upsampleNearest, type RasterGrid } from '../metrics/grid.js';
import type { TypedNumericArray } from '../metrics/scaling.js';
import { openRaster, type RasterInfo, type RasterReader } from '../raster/tiff-reader.js';

/**
 * The grid of a raster for alignment checks. A raster without georeferencing (the ukis-csmask arrays) sits
 * on its pixel grid, so two such rasters align exactly when their sizes do, and one never aligns with a
 * georeferenced raster.
 */
export function rasterGrid(info: RasterInfo): RasterGrid {
  return {
    path: info.path,
    width: info.width,
    height: info.height,
    geoTransform: info.geo.geoTransform ?? [0, 1, 0, 0, 0, 1],
    ...(info.geo.epsg !== undefined ? { crs: `EPSG:${info.geo.epsg}` } : info.geo.geoTransform ? { crs: 'unknown' } : {}),
  };
}

/** A raster read on the grid of the model input: windows are given in input pixels. */
export interface AlignedRaster {
  info: RasterInfo;
  /** Integer factor from this raster's pixels to input pixels (1 = same grid). */
  factor: number;
  /** CHW samples of the input-grid window (x, y, w, h); x and y must be multiples of `factor`. */
  read(x: number, y: number, w: number, h: number, bands?: number[]): Promise<TypedNumericArray>;
  close(): Promise<void>;
}

export interface AlignOptions {
  /** What the raster is, for messages: "L2A reference", "label raster". */
  role: string;
  /** Whether a coarser raster may be upsampled onto the input grid (SCL, labels); reflectance may not. */
  allowUpsample: boolean;
  /** Band count the dataset declares for the file; checked against the file. */
  bands?: number;
}

/** Opens `path` and checks it lies on `input`'s grid (or an integer multiple of it, where allowed). */
export async function openAligned(path: string, input: RasterGrid, opts: AlignOptions): Promise<AlignedRaster> {
  const reader = await openRaster(path);
  try {
    return alignReader(reader, input, opts);
  } catch (err) {
    await reader.close();
    throw err;
  }
}

/** Checks an opened reader against `input`'s grid; the reader is the caller's to close on error. */
export function alignReader(reader: RasterReader, input: RasterGrid, opts: AlignOptions): AlignedRaster {
  const info = reader.info;
  if (opts.bands !== undefined && info.bands !== opts.bands) {
    throw inputError(
      `${opts.role} ${info.path} has ${info.bands} band${info.bands === 1 ? '' : 's'}, but the dataset names ${opts.bands}`,
      'list one band name per band of the file, in file order, in the dataset manifest',
    );
  }
  let factor: number;
  try {
    factor = upsampleFactor(rasterGrid(info), input);
  } catch (err) {
    if (!(err instanceof HilError)) throw err;
    throw inputError(
      `${opts.role} ${err.message}`,
      `resample it onto the grid of ${input.path} first (gdalwarp -t_srs, -tr and -te of the input${opts.allowUpsample ? ', -r near' : ''}), or use the ${opts.role} of the same tile`,
    );
  }
  if (factor !== 1 && !opts.allowUpsample) {
    throw inputError(
      `${opts.role} ${info.path} has pixels ${factor}× the size of ${input.path}'s`,
      `use a ${opts.role} at the input's resolution (or resample it with gdalwarp -tr of the input)`,
    );
  }
  return {
    info,
    factor,
    async read(x, y, w, h, bands) {
      if (factor === 1) return reader.readWindow(x, y, w, h, bands);
      const cx = x / factor;
      const cy = y / factor;
      const cw = Math.ceil((x + w) / factor) - cx;
      const ch = Math.ceil((y + h) / factor) - cy;
      const coarse = await reader.readWindow(cx, cy, cw, ch, bands);
      const count = bands?.length ?? info.bands;
      const plane = cw * ch;
      const out = new (coarse.constructor as new (n: number) => TypedNumericArray)(count * w * h);
      for (let b = 0; b < count; b++) {
        out.set(upsampleNearest(coarse.subarray(b * plane, (b + 1) * plane), cw, factor, w, h), b * w * h);
      }
      return out;
    },
    close: () => reader.close(),
  };
}

/**
 * Windows covering a width × height image, square with side a multiple of every factor so coarse rasters
 * are read on whole coarse pixels.
 */
export function* evalWindows(width: number, height: number, factors: readonly number[], target = 512): Generator<{ x: number; y: number; w: number; h: number }> {
  const lcm = factors.reduce((a, b) => (a * b) / gcd(a, b), 1);
  const side = lcm * Math.max(1, Math.round(target / lcm));
  for (let y = 0; y < height; y += side) {
    for (let x = 0; x < width; x += side) yield { x, y, w: Math.min(side, width - x), h: Math.min(side, height - y) };
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
