/**
 * The preparing half of the engine's input (src/runner/input-thread.ts): takes the windows the reading
 * thread (src/runner/read-entry.ts) sends, a batch at a time, turns each batch into the models' float
 * inputs and nodata masks, sends the inputs over the feed and the masks to the main thread, and gives
 * the windows back to be read into again. None of it waits for the main thread, which applies nodata
 * and writes.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { nodataTest } from '../metrics/scaling.js';
import { serialiseError } from '../util/thread-error.js';
import type { FeedBatch, FeedReturn } from '../backends/feed.js';
import type { InputReply, InputThreadConfig, ReaderMessage, WindowsBack } from './input-thread.js';
import { copyModelInput, fillModelInput, inputSources, nodataMask } from './tensors.js';
import { lowerOwnPriority } from './thread-priority.js';

const { cfg, feed, reader } = workerData as { cfg: InputThreadConfig; feed: MessagePort; reader: MessagePort };
if (cfg.background) lowerOwnPriority();
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

const float = cfg.dtype.startsWith('float');
// Integer rasters compare exactly (and without a nodata value have no missing pixels); float ones may
// store nodata rounded to single precision, or NaN.
const isNodata = !float ? (cfg.nodata === undefined ? undefined : (v: number) => v === cfg.nodata) : nodataTest(cfg.nodata);
const exactNodata = float ? undefined : cfg.nodata;
const cuts = inputSources(cfg.stages);

async function prepare(m: ReaderMessage): Promise<void> {
  if ('error' in m) {
    port.postMessage(m satisfies InputReply);
    return;
  }
  if ('end' in m) {
    port.postMessage({ end: true, readMs: m.busyMs, prepareMs: performance.eventLoopUtilization().active, decodedBlocks: m.decodedBlocks } satisfies InputReply);
    return;
  }
  const { seq, windows } = m;
  // A short last batch gets inputs of its own size: the models take the whole buffer.
  const inputs = windows.length === cfg.batch ? await inputSet() : cfg.stages.map((s) => new Float32Array(windows.length * s.bandIdx.length * s.side * s.side));
  cfg.stages.forEach((stage, i) => {
    const cut = cuts[i];
    windows.forEach((w, slot) => {
      if (cut) copyModelInput(inputs[i], inputs[cut.of], slot, cut, cfg.stages[cut.of], stage.side);
      else fillModelInput(inputs[i], slot, w.raw, w.src, stage.bandIdx, stage.from, stage.side, cfg.scale, cfg.offset);
    });
  });
  const masks = windows.map((w) => (w.mayHoldNodata ? nodataMask(w.raw, w.src, cfg.union.length, cfg.grid.margin, cfg.grid.tile, isNodata, exactNodata) : undefined));
  reader.postMessage({ windows: windows.map((w) => w.raw) } satisfies WindowsBack, windows.map((w) => w.raw.buffer as ArrayBuffer));
  feed.postMessage({ batch: seq, inputs } satisfies FeedBatch, inputs.map((a) => a.buffer as ArrayBuffer));
  const transfer = masks.filter((x) => x !== undefined).map((a) => a.buffer as ArrayBuffer);
  port.postMessage({ batch: { seq, blocks: windows.map((w) => w.block), masks } } satisfies InputReply, transfer);
}

// Batches are prepared one at a time, in the order they were read.
let queue = Promise.resolve();
let failed = false;
reader.on('message', (m: ReaderMessage) => {
  queue = queue
    .then(() => (failed ? undefined : prepare(m)))
    .catch((err) => {
      failed = true;
      port.postMessage({ error: serialiseError(err) } satisfies InputReply);
    });
});
