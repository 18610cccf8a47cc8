import { usageError } from '../errors.js';

/**
 * The grid the engine walks. Each block is one output tile ("core", `tile` px square) plus a margin of
 * `margin` px on every side that the model sees but whose predictions are discarded, so patches overlap by
 * 2 × margin and seams between tiles come only from pixels a model saw far from any patch edge.
 * Output tiles equal cores, so every block becomes exactly one tile of the output GeoTIFF.
 */
export interface PatchGrid {
  width: number;
  height: number;
  tile: number;
  margin: number;
  /** Side of the padded block a model sees: tile + 2 × margin. */
  patch: number;
  across: number;
  down: number;
  count: number;
}

export interface Block {
  index: number;
  tileX: number;
  tileY: number;
  /** Top-left of the core in image pixels. */
  x: number;
  y: number;
}

export function makePatchGrid(width: number, height: number, patch: number, overlap: number): PatchGrid {
  if (!Number.isInteger(patch) || patch <= 0) throw usageError(`patch size ${patch} is not a positive integer`, 'use e.g. --patch 512');
  if (overlap * 2 >= patch) {
    throw usageError(`overlap ${overlap} is not less than half the patch size ${patch}`, `use an overlap below ${patch / 2}`);
  }
  const tile = patch - 2 * overlap;
  // TIFF requires tile sides that are multiples of 16.
  if (tile % 16 !== 0) {
    throw usageError(
      `patch ${patch} minus twice the overlap ${overlap} is ${tile}, not a multiple of 16 (output tiles must be)`,
      `choose patch and overlap so that patch - 2*overlap is a multiple of 16, e.g. --patch ${patch} --overlap ${overlap - ((tile % 16) / 2)}`,
    );
  }
  const across = Math.ceil(width / tile);
  const down = Math.ceil(height / tile);
  return { width, height, tile, margin: overlap, patch, across, down, count: across * down };
}

export function* blocks(grid: PatchGrid): Generator<Block> {
  for (let ty = 0; ty < grid.down; ty++) {
    for (let tx = 0; tx < grid.across; tx++) {
      yield { index: ty * grid.across + tx, tileX: tx, tileY: ty, x: tx * grid.tile, y: ty * grid.tile };
    }
  }
}

/**
 * Index into [0, n) for a coordinate that may lie outside it, mirrored at the edges without repeating the
 * edge pixel (numpy's "reflect" mode, as the reference implementation pads).
 */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const k = ((i % period) + period) % period;
  return k < n ? k : period - k;
}

/**
 * For one block, where each padded-block row and column comes from: a read window inside the image and,
 * per block row/column, the row/column of that window (reflected at image borders). Reflection can reach
 * pixels outside the block's own footprint, so the window is the span of all sources, not the footprint.
 */
export interface BlockSource {
  x0: number;
  y0: number;
  width: number;
  height: number;
  rows: Int32Array;
  cols: Int32Array;
}

export function blockSource(grid: PatchGrid, block: Block): BlockSource {
  const cols = sourceIndices(block.x - grid.margin, grid.patch, grid.width);
  const rows = sourceIndices(block.y - grid.margin, grid.patch, grid.height);
  return { x0: cols.start, y0: rows.start, width: cols.span, height: rows.span, rows: rows.idx, cols: cols.idx };
}

function sourceIndices(first: number, count: number, size: number): { start: number; span: number; idx: Int32Array } {
  const idx = new Int32Array(count);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < count; i++) {
    const s = reflectIndex(first + i, size);
    idx[i] = s;
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  for (let i = 0; i < count; i++) idx[i] -= lo;
  return { start: lo, span: hi - lo + 1, idx };
}
