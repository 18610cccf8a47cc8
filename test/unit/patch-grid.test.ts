import { describe, expect, it } from 'vitest';
import { blockSource, blocks, makePatchGrid, reflectIndex } from '../../src/raster/patch-grid.js';

describe('reflectIndex', () => {
  it('mirrors without repeating the edge pixel, like numpy pad mode "reflect"', () => {
    // numpy.pad(np.arange(4), 6, mode="reflect").tolist()
    const got = Array.from({ length: 16 }, (_, i) => reflectIndex(i - 6, 4));
    expect(got).toEqual([0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2, 3]);
  });

  it('handles a one-pixel axis', () => {
    expect([-3, 0, 5].map((i) => reflectIndex(i, 1))).toEqual([0, 0, 0]);
  });
});

describe('makePatchGrid', () => {
  it('makes output tiles of patch - 2 × overlap and covers the image', () => {
    const g = makePatchGrid(1830, 1000, 576, 32);
    expect(g.tile).toBe(512);
    expect([g.across, g.down, g.count]).toEqual([4, 2, 8]);
    const all = [...blocks(g)];
    expect(all.at(-1)).toMatchObject({ index: 7, tileX: 3, tileY: 1, x: 1536, y: 512 });
  });

  it('refuses an overlap of half the patch or more, and tiles that TIFF cannot hold', () => {
    expect(() => makePatchGrid(100, 100, 64, 32)).toThrow(/less than half/);
    expect(() => makePatchGrid(100, 100, 100, 5)).toThrow(/multiple of 16/);
  });
});

describe('blockSource', () => {
  it('reads only inside the image and reflects at its borders', () => {
    const g = makePatchGrid(100, 40, 64, 8); // tile 48
    const first = blockSource(g, { index: 0, tileX: 0, tileY: 0, x: 0, y: 0 });
    expect(first.x0).toBe(0);
    expect(first.y0).toBe(0);
    // Column -8 of the padded block mirrors to image column 8.
    expect(first.cols[0] + first.x0).toBe(8);
    expect(first.cols[8] + first.x0).toBe(0);
    const last = blockSource(g, { index: 2, tileX: 2, tileY: 0, x: 96, y: 0 });
    // The last core starts at 96, 4 px before the right edge: sources reflect back inside [0, 100).
    for (const c of last.cols) expect(c + last.x0).toBeLessThan(100);
    expect(last.x0 + last.width).toBeLessThanOrEqual(100);
    expect(last.cols[8] + last.x0).toBe(96);
    expect(last.cols[12] + last.x0).toBe(98); // image column 100 mirrors to 98
  });
});
