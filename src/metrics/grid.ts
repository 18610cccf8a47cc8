import { inputError } from '../errors.js';
import type { TypedNumericArray } from './scaling.js';

/** A north-up raster grid: GDAL geotransform [originX, pixelW, rotX, originY, rotY, pixelH]. */
export interface RasterGrid {
  /** The file the grid belongs to, for error messages. */
  path: string;
  width: number;
  height: number;
  geoTransform: readonly number[];
  /** CRS as any comparable string (e.g. "EPSG:32632"); undefined when the raster has none. */
  crs?: string;
}

/**
 * The integer factor that takes `coarse` onto `fine` by nearest-neighbour upsampling (1 for the same
 * grid). Allowed only when both share a CRS, have no rotation, the pixel sizes divide exactly and the
 * origins agree to within `tolerance` of a fine pixel, and the fine grid lies inside the coarse one;
 * anything else would need real resampling and is refused with an error naming both files.
 */
export function upsampleFactor(coarse: RasterGrid, fine: RasterGrid, tolerance = 0.01): number {
  const refuse = (why: string) =>
    inputError(
      `${coarse.path} cannot be aligned to ${fine.path}: ${why}`,
      'resample the label raster onto the image grid with gdalwarp first (-tr and -te of the image, -r near)',
    );
  if ((coarse.crs ?? '') !== (fine.crs ?? '')) {
    throw refuse(`CRS ${coarse.crs ?? 'none'} differs from ${fine.crs ?? 'none'}`);
  }
  const [cx, cw, crx, cy, cry, ch] = coarse.geoTransform;
  const [fx, fw, frx, fy, fry, fh] = fine.geoTransform;
  if (crx !== 0 || cry !== 0 || frx !== 0 || fry !== 0) throw refuse('rotated grids are not supported');
  const fx2 = cw / fw;
  const fy2 = ch / fh;
  const factor = Math.round(fx2);
  if (factor < 1 || Math.abs(fx2 - factor) > tolerance || Math.abs(fy2 - factor) > tolerance) {
    throw refuse(`pixel size ${cw}×${Math.abs(ch)} is not the same integer multiple of ${fw}×${Math.abs(fh)}`);
  }
  if (Math.abs(cx - fx) > tolerance * Math.abs(fw) || Math.abs(cy - fy) > tolerance * Math.abs(fh)) {
    throw refuse(`origin (${cx}, ${cy}) differs from (${fx}, ${fy})`);
  }
  if (fine.width > coarse.width * factor || fine.height > coarse.height * factor) {
    throw refuse(
      `${fine.width}×${fine.height} px extends past ${coarse.width}×${coarse.height} px at factor ${factor}`,
    );
  }
  return factor;
}

/** Nearest-neighbour upsampling of one band by an integer factor, cropped to outWidth × outHeight. */
export function upsampleNearest<T extends TypedNumericArray>(
  data: T,
  width: number,
  factor: number,
  outWidth: number,
  outHeight: number,
): T {
  const Ctor = data.constructor as new (n: number) => T;
  const out = new Ctor(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const srcRow = Math.floor(y / factor) * width;
    const dstRow = y * outWidth;
    for (let x = 0; x < outWidth; x++) out[dstRow + x] = data[srcRow + Math.floor(x / factor)];
  }
  return out;
}
