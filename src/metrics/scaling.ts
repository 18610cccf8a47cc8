/**
 * How stored numbers become reflectance: `reflectance = (DN + offset) * scale`.
 *
 * The order (add, then multiply) follows the Sentinel-2 metadata: `RADIO_ADD_OFFSET` / `BOA_ADD_OFFSET`
 * is added to the DN and the sum is divided by the quantification value, so an L1C band of a baseline
 * 04.00 product is `{ scale: 1e-4, offset: -1000 }`, an older one `{ scale: 1e-4, offset: 0 }`, and a
 * raster that already holds reflectance `{ scale: 1, offset: 0 }`.
 */
export interface RadiometricScaling {
  scale: number;
  offset: number;
  /** Stored value that marks a pixel as missing; NaN is always treated as missing. */
  nodata?: number | null;
}

export type TypedNumericArray =
  | Float32Array
  | Float64Array
  | Uint8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array;

export type NumericArray = TypedNumericArray | number[];

/**
 * A predicate for "this stored value is nodata". Float rasters store nodata such as -3.4e38 in float32,
 * which is not the double written in metadata, so both spellings count.
 */
export function nodataTest(nodata: number | null | undefined): (v: number) => boolean {
  if (nodata === undefined || nodata === null || Number.isNaN(nodata)) return (v) => Number.isNaN(v);
  const single = Math.fround(nodata);
  return (v) => v === nodata || v === single || Number.isNaN(v);
}
