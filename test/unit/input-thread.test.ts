import { promises as fs } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { blockSource, blocks, makePatchGrid } from '../../src/raster/patch-grid.js';
import { openRaster } from '../../src/raster/tiff-reader.js';
import { TiledTiffWriter } from '../../src/raster/tiff-writer.js';
import { fillModelInput, nodataMask, type RawSamples } from '../../src/runner/tensors.js';
import { FeedReceiver } from '../../src/backends/feed.js';
import type { InputThreadConfig } from '../../src/runner/input-thread.js';
import { tempDir } from '../helpers/temp.js';

// The input thread loads its entry as built JavaScript; `npm test` builds dist/ first. Typed as its source.
const { InputThread } = (await import('../../dist/runner/input-thread.js' as string)) as typeof import('../../src/runner/input-thread.js');

const W = 200;
const H = 150;
const BANDS = 3;
/** Sample values from their position; nodata (0) in a square of band 1 and a whole row of band 2. */
const value = (b: number, x: number, y: number) => ((b === 1 && x >= 40 && x < 60 && y >= 20 && y < 30) || (b === 2 && y === 100) ? 0 : 1 + ((x * 7 + y * 13 + b * 101) % 9000));

let dir: string;
let file: string;
beforeAll(async () => {
  dir = tempDir('hil-input-');
  file = path.join(dir, 'in.tif');
  const tile = 64;
  const w = await TiledTiffWriter.create(file, { width: W, height: H, bands: BANDS, dtype: 'uint16', tileSize: tile, compression: 'deflate', predictor: 2, nodata: 0 });
  for (let ty = 0; ty < w.tilesDown; ty++) {
    for (let tx = 0; tx < w.tilesAcross; tx++) {
      const t = new Uint16Array(BANDS * tile * tile);
      for (let b = 0; b < BANDS; b++) for (let r = 0; r < tile; r++) for (let c = 0; c < tile; c++) t[b * tile * tile + r * tile + c] = value(b, tx * tile + c, ty * tile + r);
      await w.writeTile(tx, ty, t);
    }
  }
  await w.close();
});

const grid = makePatchGrid(W, H, 64, 8);
const config = (over: Partial<InputThreadConfig> = {}): InputThreadConfig => ({
  path: file,
  dtype: 'uint16',
  cacheBytes: 1 << 20,
  grid,
  union: [2, 0, 1],
  // A UNet-like stage on the padded patch and a per-pixel one on the core, on different bands.
  stages: [
    { bandIdx: [1, 2, 0], from: 0, side: grid.patch },
    { bandIdx: [2], from: grid.margin, side: grid.tile },
  ],
  scale: 1e-4,
  offset: -10,
  nodata: 0,
  batch: 2,
  prefetch: 2,
  depth: 3,
  background: false,
  ...over,
});

/** The input thread, and the test in the place of the inference thread at the other end of its feed. */
function start(cfg: InputThreadConfig) {
  const { port1, port2 } = new MessageChannel();
  const input = InputThread.start(cfg, port1);
  const feed = new FeedReceiver(port2);
  return {
    input,
    feed,
    /** Takes a batch's inputs off the feed, one model after the other, as inference does. */
    take: async (seq: number) => {
      const inputs: Float32Array[] = [];
      for (const i of cfg.stages.keys()) inputs.push(await feed.take({ batch: seq, input: i }));
      return inputs;
    },
    giveBack: (inputs: Float32Array[]) => inputs.forEach((data, i) => feed.giveBack(i, data)),
    close: async () => {
      await input.close();
      port2.close();
    },
  };
}

/** Resolves to 'pending' if the promise has not settled after `ms`. */
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

describe('the engine input thread', () => {
  it('delivers every block in scan order, as model inputs and nodata masks equal to those made on the main thread', async () => {
    const cfg = config();
    const { input, take, giveBack, close } = start(cfg);
    const reader = await openRaster(file);
    try {
      const expected = [...blocks(grid)];
      let seen = 0;
      let masked = 0;
      for (;;) {
        const batch = await input.next();
        if (!batch) break;
        expect(batch.blocks).toEqual(expected.slice(seen, seen + batch.blocks.length));
        const n = batch.blocks.length;
        const inputs = await take(batch.seq);
        for (const [i, stage] of cfg.stages.entries()) {
          const want = new Float32Array(n * stage.bandIdx.length * stage.side * stage.side);
          for (const [slot, block] of batch.blocks.entries()) {
            const src = blockSource(grid, block);
            const raw = (await reader.readWindow(src.x0, src.y0, src.width, src.height, cfg.union)) as RawSamples;
            fillModelInput(want, slot, raw, src, stage.bandIdx, stage.from, stage.side, cfg.scale, cfg.offset);
            if (i === 0) {
              const mask = nodataMask(raw, src, cfg.union.length, grid.margin, grid.tile, (v) => v === 0, 0);
              expect(batch.masks[slot]).toEqual(mask);
              if (mask) masked++;
            }
          }
          expect(inputs[i]).toEqual(want);
        }
        seen += n;
        giveBack(inputs);
      }
      expect(seen).toBe(grid.count);
      // The nodata square and row fall into a few blocks, not all.
      expect(masked).toBeGreaterThan(0);
      expect(masked).toBeLessThan(grid.count);
      expect(input.stats!.readMs).toBeGreaterThan(0);
      expect(input.stats!.prepareMs).toBeGreaterThan(0);
      // Each block of the file decoded once: 4 × 3 tiles of 3 bands.
      expect(input.stats!.decodedBlocks).toBe(36);
    } finally {
      await reader.close();
      await close();
    }
  });

  it('holds no more than `depth` batches until inference gives their inputs back, each model its own', async () => {
    const { input, feed, take, close } = start(config({ batch: 1, prefetch: 1, depth: 2 }));
    try {
      const first = (await input.next())!;
      await input.next();
      const third = input.next();
      expect(await within(third, 500)).toBe('pending');
      await expect(input.next()).rejects.toThrow(/still waiting/);
      const [a, b] = await take(first.seq);
      // One model done is not a set: the batch needs both stages' inputs.
      feed.giveBack(0, a);
      expect(await within(third, 500)).toBe('pending');
      feed.giveBack(1, b);
      expect(await within(third, 5000)).toMatchObject({ seq: 2, blocks: [expect.objectContaining({ index: 2 })] });
    } finally {
      await close();
    }
  });

  it('passes on a corrupt block as the reader reports it', async () => {
    const bad = path.join(dir, 'bad.tif');
    const bytes = await fs.readFile(file);
    bytes.fill(0xff, 2000, 6000);
    await fs.writeFile(bad, bytes);
    const { input, close } = start(config({ path: bad }));
    try {
      const err = await (async () => {
        for (;;) if (!(await input.next())) return undefined;
      })().catch((e: unknown) => e);
      // Built code's HilError, a class apart from the sources' one the test could import.
      expect(err).toMatchObject({ name: 'HilError', kind: 'input', fix: expect.any(String) });
      expect((err as Error).message).toMatch(/bad\.tif is truncated or corrupt: block \d+ does not decode/);
    } finally {
      await close();
    }
  });
});
