import path from 'node:path';
import { inputError } from '../errors.js';
import { ensureWritableDir } from '../util/atomic.js';
import { BAND_SETS, canonicalBand, RESOLUTIONS, TILE_SIZE_PX, type Resolution } from './bands.js';
import { utmGeo } from './geo.js';
import { addNoise, hash01, smoothstep, type Grid, type Octave } from './noise.js';
import { TiledTiffWriter } from './tiff-writer.js';

/**
 * Synthetic Sentinel-2 L1C tiles: deterministic, georeferenced like a real tile, with the structure that
 * matters to compression and to the models (land cover with field parcels, water, texture, bright clouds
 * with soft edges, their shadows, thin cirrus that shows mostly in B10). Not a radiative-transfer
 * simulation: the spectra are typical TOA reflectances ×10000, mixed per pixel.
 */

export interface SynthOptions {
  out: string;
  res: Resolution;
  /** Square side in pixels; default the full tile at `res` (TILE_SIZE_PX). */
  size?: number;
  /** Band names (any spelling canonicalBand accepts); default BAND_SETS.l1c13. */
  bands?: readonly string[];
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SynthResult {
  path: string;
  width: number;
  height: number;
  bands: string[];
}

const TILE = 256;
/** Enough tiles in flight to keep libuv's default 4 threads compressing while the next tiles are made. */
const IN_FLIGHT = 8;
/** Fast deflate: the file only has to be realistic, not small. */
const LEVEL = 2;
/** Upper-left corner of a UTM zone 32N tile (a multiple of 60 m, so every resolution shares the grid). */
const ORIGIN = { epsg: 32632, x: 499980, y: 5100000 };

/** Typical TOA reflectance ×10000 per band of each surface, and what thick cloud and cirrus add. */
const SPECTRA: Record<string, { water: number; veg: number; soil: number; cloud: number; cirrus: number }> = {
  B01: { water: 1350, veg: 1250, soil: 1450, cloud: 5600, cirrus: 350 },
  B02: { water: 1050, veg: 950, soil: 1300, cloud: 5400, cirrus: 300 },
  B03: { water: 800, veg: 850, soil: 1400, cloud: 5300, cirrus: 260 },
  B04: { water: 550, veg: 600, soil: 1650, cloud: 5350, cirrus: 240 },
  B05: { water: 450, veg: 1100, soil: 1950, cloud: 5500, cirrus: 220 },
  B06: { water: 350, veg: 2600, soil: 2150, cloud: 5650, cirrus: 200 },
  B07: { water: 320, veg: 3100, soil: 2300, cloud: 5750, cirrus: 190 },
  B08: { water: 250, veg: 3300, soil: 2400, cloud: 5800, cirrus: 180 },
  B8A: { water: 220, veg: 3400, soil: 2500, cloud: 5850, cirrus: 170 },
  B09: { water: 80, veg: 1000, soil: 750, cloud: 2600, cirrus: 120 },
  // Water vapour absorbs B10 near the ground: only high clouds and cirrus are bright there.
  B10: { water: 12, veg: 25, soil: 35, cloud: 450, cirrus: 900 },
  B11: { water: 80, veg: 1800, soil: 3000, cloud: 4600, cirrus: 150 },
  B12: { water: 50, veg: 850, soil: 2500, cloud: 3300, cirrus: 110 },
};

const o = (cell: number, amp: number, stretch = 1): Octave => ({ cellX: cell * stretch, cellY: cell, amp });
const LAND: Octave[] = [o(9000, 0.5), o(3000, 0.3), o(1000, 0.14), o(300, 0.06)];
const MOIST: Octave[] = [o(5000, 0.5), o(1500, 0.3), o(500, 0.2)];
const TEXTURE: Octave[] = [o(240, 0.5), o(90, 0.3), o(40, 0.2)];
const CLOUD: Octave[] = [o(7000, 0.42), o(2500, 0.28), o(900, 0.16), o(350, 0.09), o(120, 0.05)];
const CIRRUS: Octave[] = [o(4000, 0.6, 5), o(1200, 0.4, 4)];

/** Per-scene choices drawn from the seed. */
interface Scene {
  seed: number;
  cloudThreshold: number;
  shadowDx: number;
  shadowDy: number;
  cirrusStrength: number;
}

function sceneOf(seed: number): Scene {
  const r = (k: number) => hash01(seed, k, 0x5eed);
  return {
    seed,
    cloudThreshold: 0.55 + 0.08 * r(1),
    // Sun from the south-east-ish: shadows fall a few hundred metres away from their cloud.
    shadowDx: -(300 + 500 * r(2)),
    shadowDy: 300 + 500 * r(3),
    cirrusStrength: 0.5 + 0.5 * r(4),
  };
}

/** Writes a synthetic L1C GeoTIFF, one row of 256-px tiles at a time, atomically. */
export async function writeSyntheticTile(opts: SynthOptions): Promise<SynthResult> {
  if (!RESOLUTIONS.includes(opts.res)) {
    throw inputError(`${String(opts.res)} m is not a Sentinel-2 resolution`, `use one of ${RESOLUTIONS.join(', ')} m`);
  }
  const size = opts.size ?? TILE_SIZE_PX[opts.res];
  if (!Number.isInteger(size) || size <= 0) {
    throw inputError(`synthetic tile size must be a positive integer, got ${size}`, `pass --size 1..${TILE_SIZE_PX[opts.res]}`);
  }
  const bands = (opts.bands ?? BAND_SETS.l1c13).map((name) => {
    const canon = canonicalBand(name);
    if (!canon) throw inputError(`unknown Sentinel-2 band ${name}`, `use band names B01..B12 and B8A, or a set: ${Object.keys(BAND_SETS).join(', ')}`);
    return canon;
  });
  await ensureWritableDir(path.dirname(path.resolve(opts.out)));
  const scene = sceneOf(opts.seed ?? 1);
  const writer = await TiledTiffWriter.create(opts.out, {
    width: size,
    height: size,
    bands: bands.length,
    dtype: 'uint16',
    tileSize: TILE,
    compression: 'deflate',
    level: LEVEL,
    predictor: 2,
    geo: utmGeo(ORIGIN.epsg, ORIGIN.x, ORIGIN.y, opts.res),
    nodata: 0,
    bandNames: bands,
  });
  const total = writer.tilesAcross * writer.tilesDown;
  let done = 0;
  const inFlight = new Set<Promise<void>>();
  try {
    const fields = new Fields();
    for (let ty = 0; ty < writer.tilesDown; ty++) {
      for (let tx = 0; tx < writer.tilesAcross; tx++) {
        if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
        const tile = renderTile(fields, scene, bands, opts.res, size, tx, ty);
        const write = writer.writeTile(tx, ty, tile).then(() => {
          inFlight.delete(write);
          opts.onProgress?.(++done, total);
        });
        inFlight.add(write);
      }
    }
    await Promise.all(inFlight);
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return { path: opts.out, width: size, height: size, bands };
}

/** Scratch planes reused for every tile. */
class Fields {
  readonly land = new Float32Array(TILE * TILE);
  readonly moist = new Float32Array(TILE * TILE);
  readonly texture = new Float32Array(TILE * TILE);
  readonly cloud = new Float32Array(TILE * TILE);
  readonly shadow = new Float32Array(TILE * TILE);
  readonly cirrus = new Float32Array(TILE * TILE);
  /** Per-pixel results of the surface mix, reused by every band. */
  readonly water = new Float32Array(TILE * TILE);
  readonly veg = new Float32Array(TILE * TILE);
  readonly opacity = new Float32Array(TILE * TILE);
  readonly brightness = new Float32Array(TILE * TILE);
  readonly shade = new Float32Array(TILE * TILE);

  reset(): void {
    for (const a of [this.land, this.moist, this.texture, this.cloud, this.shadow, this.cirrus]) a.fill(0);
  }
}

function renderTile(f: Fields, scene: Scene, bands: string[], res: number, size: number, tx: number, ty: number): Uint16Array {
  const cols = Math.min(TILE, size - tx * TILE);
  const rows = Math.min(TILE, size - ty * TILE);
  // Pixel centres in metres from the image corner, so every resolution shows the same landscape.
  const grid: Grid = { cols, rows, stride: TILE, x0: (tx * TILE + 0.5) * res, y0: (ty * TILE + 0.5) * res, res };
  const { seed } = scene;
  f.reset();
  addNoise(f.land, grid, LAND, seed);
  addNoise(f.moist, grid, MOIST, seed + 1);
  addNoise(f.texture, grid, TEXTURE, seed + 2);
  addNoise(f.cloud, grid, CLOUD, seed + 3);
  addNoise(f.shadow, { ...grid, x0: grid.x0 + scene.shadowDx, y0: grid.y0 + scene.shadowDy }, CLOUD, seed + 3);
  addNoise(f.cirrus, grid, CIRRUS, seed + 4);
  mixSurface(f, scene, grid);

  const out = new Uint16Array(bands.length * TILE * TILE);
  bands.forEach((band, b) => {
    const s = SPECTRA[band];
    const plane = b * TILE * TILE;
    // Detector noise of a few DN, different per band and tile but fixed by the seed.
    let rng = (hash01(tx * 8191 + ty, b, seed) * 4294967296) | 1;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const i = r * TILE + c;
        const v = f.veg[i];
        const ground = (f.water[i] * s.water + (1 - f.water[i]) * (v * s.veg + (1 - v) * s.soil) * (1 + 0.25 * (f.texture[i] - 0.5))) * f.shade[i];
        const a = f.opacity[i];
        rng ^= rng << 13;
        rng ^= rng >>> 17;
        rng ^= rng << 5;
        const dn = ground * (1 - a) + s.cloud * f.brightness[i] * a + s.cirrus * f.cirrus[i] + ((rng >>> 0) / 4294967296 - 0.5) * 8;
        out[plane + i] = dn < 1 ? 1 : dn > 65535 ? 65535 : Math.round(dn);
      }
    }
  });
  return out;
}

/** Per-pixel land cover, cloud and shadow weights shared by all bands. */
function mixSurface(f: Fields, scene: Scene, grid: Grid): void {
  const t = scene.cloudThreshold;
  for (let r = 0; r < grid.rows; r++) {
    const y = grid.y0 + r * grid.res;
    // Field parcels: strips 300–500 m tall, cut into fields whose width varies per strip.
    const strip = Math.floor(y / 400);
    const fieldWidth = 200 + 400 * hash01(strip, 1, scene.seed);
    const shift = fieldWidth * hash01(strip, 2, scene.seed);
    let lastField = NaN;
    let vigour = 0;
    for (let c = 0; c < grid.cols; c++) {
      const i = r * TILE + c;
      const field = Math.floor((grid.x0 + c * grid.res + shift) / fieldWidth);
      if (field !== lastField) {
        lastField = field;
        vigour = 0.05 + 0.9 * hash01(field, strip, scene.seed + 9);
      }
      const land = f.land[i];
      const water = 1 - smoothstep(0.3, 0.33, land);
      const farmland = smoothstep(0.42, 0.47, land) * (1 - smoothstep(0.64, 0.69, land));
      const wild = Math.min(1, Math.max(0, f.moist[i] * 1.6 - 0.3));
      f.water[i] = water;
      f.veg[i] = wild + (vigour - wild) * farmland;
      const cloud = f.cloud[i];
      const opacity = smoothstep(t, t + 0.1, cloud);
      f.opacity[i] = opacity;
      // Thicker towards the core: up to ~9000 DN in the visible bands.
      f.brightness[i] = 0.8 + 0.75 * smoothstep(t, t + 0.3, cloud);
      f.shade[i] = 1 - 0.6 * smoothstep(t, t + 0.1, f.shadow[i]) * (1 - opacity);
      f.cirrus[i] = scene.cirrusStrength * smoothstep(0.6, 0.85, f.cirrus[i]);
    }
  }
}
