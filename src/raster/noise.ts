/**
 * Seeded value noise evaluated on a pixel grid. Values live on a coarse lattice in metres and are
 * interpolated per pixel, so a pixel costs a few lookups and lerps per octave however fine the grid,
 * and the same seed gives the same landscape at 10, 20 or 60 m.
 */

/** Deterministic hash of (a, b, seed) to [0, 1). */
export function hash01(a: number, b: number, seed: number): number {
  let h = Math.imul(a | 0, 0x27d4eb2d) ^ Math.imul(b | 0, 0x165667b1) ^ Math.imul(seed | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** A pixel grid: `cols`×`rows` pixels of `res` metres whose first pixel centre sits at (x0, y0) metres. */
export interface Grid {
  cols: number;
  rows: number;
  /** Row length of the output arrays (≥ cols). */
  stride: number;
  x0: number;
  y0: number;
  res: number;
}

export interface Octave {
  /** Lattice spacing in metres along x and y; unequal spacing gives streaks. */
  cellX: number;
  cellY: number;
  amp: number;
}

/**
 * Adds the octaves of value noise (each in [0, amp)) to `out`. Octaves finer than two pixels are
 * skipped: sampled below their lattice spacing they would only add aliasing, i.e. white noise.
 */
export function addNoise(out: Float32Array, grid: Grid, octaves: readonly Octave[], seed: number): void {
  octaves.forEach((o, k) => {
    if (Math.min(o.cellX, o.cellY) < 2 * grid.res) return;
    addOctave(out, grid, o, seed * 31 + k * 7919 + 1);
  });
}

function axis(n: number, start: number, res: number, cell: number): { base: number; span: number; idx: Int32Array; w: Float32Array } {
  const base = Math.floor(start / cell);
  const idx = new Int32Array(n);
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = (start + i * res) / cell;
    const c = Math.floor(t);
    const f = t - c;
    idx[i] = c - base;
    w[i] = f * f * (3 - 2 * f); // smoothstep: no visible lattice creases
  }
  return { base, span: (n > 0 ? idx[n - 1] : 0) + 2, idx, w };
}

function addOctave(out: Float32Array, grid: Grid, o: Octave, seed: number): void {
  const ax = axis(grid.cols, grid.x0, grid.res, o.cellX);
  const ay = axis(grid.rows, grid.y0, grid.res, o.cellY);
  const lattice = new Float32Array(ax.span * ay.span);
  for (let j = 0; j < ay.span; j++) {
    for (let i = 0; i < ax.span; i++) lattice[j * ax.span + i] = o.amp * hash01(ax.base + i, ay.base + j, seed);
  }
  for (let r = 0; r < grid.rows; r++) {
    const top = ay.idx[r] * ax.span;
    const bottom = top + ax.span;
    const wy = ay.w[r];
    const row = r * grid.stride;
    for (let c = 0; c < grid.cols; c++) {
      const i = ax.idx[c];
      const wx = ax.w[c];
      const a = lattice[top + i];
      const b = lattice[bottom + i];
      const upper = a + (lattice[top + i + 1] - a) * wx;
      const lower = b + (lattice[bottom + i + 1] - b) * wx;
      out[row + c] += upper + (lower - upper) * wy;
    }
  }
}

export function smoothstep(e0: number, e1: number, x: number): number {
  const t = x <= e0 ? 0 : x >= e1 ? 1 : (x - e0) / (e1 - e0);
  return t * t * (3 - 2 * t);
}
