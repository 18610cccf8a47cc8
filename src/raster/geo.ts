/**
 * Georeferencing as raw GeoTIFF tag values. Outputs copy the input's tags verbatim rather than
 * re-deriving them from a CRS, so a CRS we do not understand still survives the round trip.
 */

export type GeoTransform = [originX: number, pixelW: number, rotX: number, originY: number, rotY: number, pixelH: number];

export interface GeoInfo {
  /** ModelPixelScaleTag (33550). */
  modelPixelScale?: number[];
  /** ModelTiepointTag (33922): groups of (i, j, k, x, y, z). */
  modelTiepoint?: number[];
  /** ModelTransformationTag (34264): 4×4 row-major matrix. */
  modelTransformation?: number[];
  /** GeoKeyDirectoryTag (34735). */
  geoKeyDirectory?: number[];
  /** GeoDoubleParamsTag (34736). */
  geoDoubleParams?: number[];
  /** GeoAsciiParamsTag (34737), '|'-separated. */
  geoAsciiParams?: string;
  /** ProjectedCSTypeGeoKey or GeographicTypeGeoKey, where it is an EPSG code. */
  epsg?: number;
  /** GDAL-style affine transform: x = originX + col*pixelW + row*rotX, y = originY + col*rotY + row*pixelH. */
  geoTransform?: GeoTransform;
}

const GT_PROJECTED_CS = 3072;
const GT_GEOGRAPHIC = 2048;
/** GeoKey value meaning "user-defined" rather than an EPSG code. */
const USER_DEFINED = 32767;

/** Fills the derived fields (epsg, geoTransform) from the raw tags. */
export function deriveGeo(raw: Omit<GeoInfo, 'epsg' | 'geoTransform'>): GeoInfo {
  const geo: GeoInfo = { ...raw };
  const epsg = geoKeyValue(raw.geoKeyDirectory, GT_PROJECTED_CS) ?? geoKeyValue(raw.geoKeyDirectory, GT_GEOGRAPHIC);
  if (epsg !== undefined && epsg > 0 && epsg !== USER_DEFINED) geo.epsg = epsg;
  const gt = geoTransformOf(raw);
  if (gt) geo.geoTransform = gt;
  return geo;
}

/** A short-valued key stored inline in the GeoKeyDirectory (TIFFTagLocation 0). */
function geoKeyValue(dir: number[] | undefined, key: number): number | undefined {
  if (!dir || dir.length < 4) return undefined;
  const count = dir[3];
  for (let i = 0; i < count; i++) {
    const at = 4 + i * 4;
    if (dir[at] === key && dir[at + 1] === 0 && dir[at + 2] === 1) return dir[at + 3];
  }
  return undefined;
}

function geoTransformOf(raw: GeoInfo): GeoTransform | undefined {
  const m = raw.modelTransformation;
  if (m && m.length >= 8) return [m[3], m[0], m[1], m[7], m[4], m[5]];
  const s = raw.modelPixelScale;
  const t = raw.modelTiepoint;
  if (s && s.length >= 2 && t && t.length >= 6) {
    return [t[3] - t[0] * s[0], s[0], 0, t[4] + t[1] * s[1], 0, -s[1]];
  }
  return undefined;
}

/**
 * Georeferencing of a north-up WGS 84 / UTM image (EPSG:326zz north, 327zz south) whose upper-left
 * corner is (originX, originY) metres, pixels `pixelSize` metres square, pixel-is-area — the way
 * Sentinel-2 L1C tiles are referenced.
 */
export function utmGeo(epsg: number, originX: number, originY: number, pixelSize: number): GeoInfo {
  return deriveGeo({
    modelPixelScale: [pixelSize, pixelSize, 0],
    modelTiepoint: [0, 0, 0, originX, originY, 0],
    geoKeyDirectory: [
      1, 1, 0, 4,
      1024, 0, 1, 1, // GTModelTypeGeoKey: projected
      1025, 0, 1, 1, // GTRasterTypeGeoKey: pixel is area
      3072, 0, 1, epsg, // ProjectedCSTypeGeoKey
      3076, 0, 1, 9001, // ProjLinearUnitsGeoKey: metre
    ],
  });
}

/**
 * The georeferencing of the window starting at pixel (x, y) of an image with `geo`, for outputs that
 * cover a crop of their input.
 */
export function shiftGeo(geo: GeoInfo, x: number, y: number): GeoInfo {
  if (x === 0 && y === 0) return geo;
  const raw: GeoInfo = { ...geo };
  delete raw.epsg;
  delete raw.geoTransform;
  if (geo.modelTransformation && geo.modelTransformation.length >= 8) {
    const m = [...geo.modelTransformation];
    m[3] += m[0] * x + m[1] * y;
    m[7] += m[4] * x + m[5] * y;
    raw.modelTransformation = m;
  } else if (geo.modelTiepoint?.length === 6 && geo.modelPixelScale && geo.modelPixelScale.length >= 2) {
    const [i, j, k, X, Y, Z] = geo.modelTiepoint;
    const [sx, sy] = geo.modelPixelScale;
    raw.modelTiepoint = [0, 0, k, X + (x - i) * sx, Y - (y - j) * sy, Z];
  } else if (geo.modelTiepoint && geo.modelTiepoint.length >= 6) {
    // Tiepoints are in raster space, so moving the raster origin moves every tiepoint's (i, j).
    const t = [...geo.modelTiepoint];
    for (let k = 0; k + 5 < t.length; k += 6) {
      t[k] -= x;
      t[k + 1] -= y;
    }
    raw.modelTiepoint = t;
  }
  return deriveGeo(raw);
}
