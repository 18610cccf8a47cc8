/**
 * The reading half of the engine's input (src/runner/input-thread.ts), on a thread of its own: reads
 * and decodes the input's windows in scan order and hands them, a batch at a time, to the input
 * thread (src/runner/input-entry.ts), which turns them into model inputs and gives them back to be
 * reused. Two threads instead of one, so that when inference waits for its next input, reading the
 * batch after it and preparing this one go on at once, on both cores.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { blockSource, blocks } from '../raster/patch-grid.js';
import { openRaster } from '../raster/tiff-reader.js';
import { queued } from '../util/queued.js';
import { serialiseError } from '../util/thread-error.js';
import { lowerOwnPriority } from './thread-priority.js';
import type { InputThreadConfig, ReadWindow, ReaderMessage, WindowsBack } from './input-thread.js';
import type { RawSamples } from './tensors.js';

const { cfg, input } = workerData as { cfg: InputThreadConfig; input: MessagePort };
if (cfg.background) lowerOwnPriority();

/** Windows back from the input thread, and how many are out (being read, or with the input thread). */
const free: RawSamples[] = [];
let out = 0;
let wake: (() => void) | undefined;
// Read ahead, one batch with the input thread and one it has not taken up yet: beyond that, reading waits.
const limit = (cfg.prefetch + 2) * cfg.batch;

input.on('message', (m: WindowsBack) => {
  out -= m.windows.length;
  // Windows differ in size only at the image's edges; keep no more than could be in use at once.
  free.push(...m.windows);
  free.splice(0, Math.max(0, free.length - limit));
  wake?.();
});

/** A window of `length` samples: one given back, or new while fewer than `limit` are out. */
async function windowOf(length: number): Promise<RawSamples | undefined> {
  while (out >= limit) {
    await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
  }
  out++;
  const reuse = free.findIndex((w) => w.length === length);
  return reuse >= 0 ? free.splice(reuse, 1)[0] : undefined;
}

async function read(): Promise<void> {
  // This thread only reads, so it may block on each block (OpenRasterOptions.sync).
  const reader = await openRaster(cfg.path, { cacheBytes: cfg.cacheBytes, sync: true });
  try {
    const { grid, union } = cfg;
    const pending: Promise<ReadWindow>[] = [];
    const iter = blocks(grid);
    // Reads start in scan order and each waits for a window, so windows are taken in that order too.
    let started = Promise.resolve();
    const startRead = () => {
      const next = iter.next();
      if (next.done) return;
      const block = next.value;
      const src = blockSource(grid, block);
      const turn = started.then(() => windowOf(union.length * src.width * src.height));
      started = turn.then(() => undefined);
      pending.push(
        queued(
          turn.then(async (into) => {
            const raw = (await reader.readWindow(src.x0, src.y0, src.width, src.height, union, into)) as RawSamples;
            return { block, src, raw, mayHoldNodata: reader.mayHoldNodata(src.x0, src.y0, src.width, src.height, union) };
          }),
        ),
      );
    };
    for (let i = 0; i < cfg.prefetch * cfg.batch; i++) startRead();
    for (let seq = 0; pending.length > 0; seq++) {
      const windows: ReadWindow[] = [];
      while (windows.length < cfg.batch && pending.length > 0) {
        windows.push(await pending.shift()!);
        startRead();
      }
      input.postMessage({ seq, windows } satisfies ReaderMessage, windows.map((w) => w.raw.buffer as ArrayBuffer));
    }
    input.postMessage({ end: true, busyMs: performance.eventLoopUtilization().active, decodedBlocks: reader.decodedBlocks } satisfies ReaderMessage);
  } finally {
    await reader.close();
  }
}

read().catch((err) => input.postMessage({ error: serialiseError(err) } satisfies ReaderMessage));
