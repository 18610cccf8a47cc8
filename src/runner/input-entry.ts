/**
 * Worker-thread side of the engine's input (src/runner/input-thread.ts): reads the input's windows in
 * scan order, and turns each batch into the models' float inputs and a nodata mask, so that none of it
 * waits for the main thread, which post-processes and writes.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { nodataTest } from '../metrics/scaling.js';
import { blockSource, blocks, type Block, type BlockSource } from '../raster/patch-grid.js';
import { openRaster } from '../raster/tiff-reader.js';
import { queued } from '../util/queued.js';
import { serialiseError } from '../util/thread-error.js';
import type { FeedBatch, FeedReturn } from '../backends/feed.js';
import type { InputReply, InputThreadConfig } from './input-thread.js';
import { fillModelInput, nodataMask, type RawSamples } from './tensors.js';

const { cfg, feed } = workerData as { cfg: InputThreadConfig; feed: MessagePort };
const port = parentPort!;

/** Per stage, its inputs back from inference: they come back one by one, as each model finishes. */
const free: Float32Array[][] = cfg.stages.map(() => []);
let made = 0;
let wake: (() => void) | undefined;
const sizes = cfg.stages.map((s) => cfg.batch * s.bandIdx.length * s.side * s.side);

feed.on('message', (m: FeedReturn) => {
  // The short last batch's inputs come back too; only full-batch ones are worth keeping.
  if (m.data.length === sizes[m.input]) free[m.input].push(m.data);
  wake?.();
});

/** A set of model inputs for a full batch: recycled, or new while fewer than `depth` are in circulation. */
async function inputSet(): Promise<Float32Array[]> {
  for (;;) {
    if (free.every((f) => f.length > 0)) return free.map((f) => f.pop()!);
    if (made < cfg.depth) {
      made++;
      return sizes.map((n) => new Float32Array(n));
    }
    await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
  }
}

async function produce(): Promise<void> {
  const reader = await openRaster(cfg.path, { cacheBytes: cfg.cacheBytes });
  try {
    const { grid, union } = cfg;
    const float = reader.info.dtype.startsWith('float');
    // Integer rasters compare exactly (and without a nodata value have no missing pixels); float ones may
    // store nodata rounded to single precision, or NaN.
    const isNodata = !float ? (cfg.nodata === undefined ? undefined : (v: number) => v === cfg.nodata) : nodataTest(cfg.nodata);
    const exactNodata = float ? undefined : cfg.nodata;
    const maskFrom = grid.margin;
    // Windows are reused once filled into the model inputs: a new one per patch (7 MB at 10 m) only adds
    // to what the garbage collector has to watch.
    const freeWindows: RawSamples[] = [];
    const pending: Promise<{ block: Block; src: BlockSource; raw: RawSamples }>[] = [];
    const iter = blocks(grid);
    const startRead = () => {
      const next = iter.next();
      if (next.done) return;
      const block = next.value;
      const src = blockSource(grid, block);
      const length = union.length * src.width * src.height;
      const reuse = freeWindows.findIndex((w) => w.length === length);
      const into = reuse >= 0 ? freeWindows.splice(reuse, 1)[0] : undefined;
      pending.push(queued(reader.readWindow(src.x0, src.y0, src.width, src.height, union, into).then((raw) => ({ block, src, raw: raw as RawSamples }))));
    };
    for (let i = 0; i < cfg.prefetch * cfg.batch; i++) startRead();
    for (let seq = 0; pending.length > 0; seq++) {
      const read: { block: Block; src: BlockSource; raw: RawSamples }[] = [];
      while (read.length < cfg.batch && pending.length > 0) {
        read.push(await pending.shift()!);
        startRead();
      }
      // A short last batch gets inputs of its own size: the models take the whole buffer.
      const inputs = read.length === cfg.batch ? await inputSet() : cfg.stages.map((s) => new Float32Array(read.length * s.bandIdx.length * s.side * s.side));
      cfg.stages.forEach((stage, i) => {
        read.forEach((r, slot) => fillModelInput(inputs[i], slot, r.raw, r.src, stage.bandIdx, stage.from, stage.side, cfg.scale, cfg.offset));
      });
      const masks = read.map((r) => nodataMask(r.raw, r.src, union.length, maskFrom, grid.tile, isNodata, exactNodata));
      for (const r of read) freeWindows.push(r.raw);
      feed.postMessage({ batch: seq, inputs } satisfies FeedBatch, inputs.map((a) => a.buffer as ArrayBuffer));
      const transfer = masks.filter((m) => m !== undefined).map((a) => a.buffer as ArrayBuffer);
      port.postMessage({ batch: { seq, blocks: read.map((r) => r.block), masks } } satisfies InputReply, transfer);
    }
    port.postMessage({ end: true, busyMs: performance.eventLoopUtilization().active, decodedBlocks: reader.decodedBlocks } satisfies InputReply);
  } finally {
    await reader.close();
  }
}

produce().catch((err) => port.postMessage({ error: serialiseError(err) } satisfies InputReply));
