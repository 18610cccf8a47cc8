import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Block, BlockSource, PatchGrid } from '../raster/patch-grid.js';
import type { DType } from '../raster/tiff-reader.js';
import { deserialiseError, type ThreadError } from '../util/thread-error.js';
import type { RawSamples, StageInput } from './tensors.js';

export interface InputThreadConfig {
  path: string;
  dtype: DType;
  /** The reader's block cache (see OpenRasterOptions.cacheBytes). */
  cacheBytes: number;
  grid: PatchGrid;
  /** File band indices read, in the order the stages' `bandIdx` refer to. */
  union: number[];
  stages: StageInput[];
  scale: number;
  offset: number;
  nodata: number | undefined;
  batch: number;
  /** Batches of windows read ahead. */
  prefetch: number;
  /** Sets of model inputs in circulation between this thread and inference: the bound on memory. */
  depth: number;
  /** Whether the threads start at low priority (lowerOwnPriority), as `ioPriority: 'idle'` has them. */
  background: boolean;
}

/**
 * One batch, ready for the models: its number on the feed, where its inputs went (per stage,
 * batch × C × side × side), and per block its nodata mask.
 */
export interface InputBatch {
  seq: number;
  blocks: Block[];
  masks: (Uint8Array | undefined)[];
}

/** A window read for a block: its samples (band-sequential, the bands of `union`) and where they came from. */
export interface ReadWindow {
  block: Block;
  src: BlockSource;
  raw: RawSamples;
  /** Whether the window may hold nodata (RasterReader.mayHoldNodata); where not, there is no mask to make. */
  mayHoldNodata: boolean;
}

/** Reading thread → input thread: a batch of windows, the end, or what went wrong. */
export type ReaderMessage = { seq: number; windows: ReadWindow[] } | { end: true; busyMs: number; decodedBlocks: number } | { error: ThreadError };

/** Input thread → reading thread: windows done with, to be read into again. */
export interface WindowsBack {
  windows: RawSamples[];
}

export type InputReply = { batch: InputBatch } | { end: true; readMs: number; prepareMs: number; decodedBlocks: number } | { error: ThreadError };

/**
 * The engine's input on two threads of its own: one reads and decodes windows (src/runner/read-entry.ts),
 * the other turns them into model inputs and nodata masks (src/runner/input-entry.ts), beside the main
 * thread's writing, so that none waits for another. Two rather than one because
 * inference, which has both cores while it runs, waits for its next input between runs; then reading
 * ahead and preparing the batch it waits for run at once. The model inputs go over `feed`
 * (src/backends/feed.ts), straight to whoever runs the models, and come back that way; the engine gets
 * each batch's blocks and masks. Batches are prepared only as far as `depth` input sets allow.
 */
export class InputThread {
  /** Each input thread's busy time (reading, preparing) and the reader's block decodes, once all batches are out. */
  stats: { readMs: number; prepareMs: number; decodedBlocks: number } | undefined;
  private readonly ready: InputBatch[] = [];
  private waiting: { resolve: (b: InputBatch | undefined) => void; reject: (e: unknown) => void } | undefined;
  private failure: unknown;

  private readonly workers: Worker[];

  private constructor(prepare: Worker, read: Worker) {
    this.workers = [prepare, read];
    // The preparing thread reports batches, the end and the reading thread's errors; either may die.
    prepare.on('message', (m: InputReply) => {
      if ('batch' in m) this.ready.push(m.batch);
      else if ('end' in m) this.stats = { readMs: m.readMs, prepareMs: m.prepareMs, decodedBlocks: m.decodedBlocks };
      else this.fail(deserialiseError(m.error));
      this.settle();
    });
    for (const [name, worker] of [
      ['input', prepare],
      ['reading', read],
    ] as const) {
      worker.on('error', (err) => {
        this.fail(err);
        this.settle();
      });
      worker.on('exit', (code) => {
        if (!this.stats) this.fail(new Error(`the ${name} thread exited (code ${code}) before the last batch`));
        this.settle();
      });
    }
  }

  static start(cfg: InputThreadConfig, feed: MessagePort): InputThread {
    const link = new MessageChannel();
    const prepare = new Worker(new URL('./input-entry.js', import.meta.url), { workerData: { cfg, feed, reader: link.port1 }, transferList: [feed, link.port1] });
    const read = new Worker(new URL('./read-entry.js', import.meta.url), { workerData: { cfg, input: link.port2 }, transferList: [link.port2] });
    return new InputThread(prepare, read);
  }

  /** The next batch in scan order, or undefined after the last. Rejects with the input thread's error. */
  next(): Promise<InputBatch | undefined> {
    // One waiter at a time: a second would silently replace the first, which would then never settle.
    if (this.waiting) return Promise.reject(new Error('InputThread.next() called while an earlier call is still waiting'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.settle();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** The first failure is the cause; what follows from it (the other thread's exit) is not. */
  private fail(err: unknown): void {
    if (this.failure === undefined) this.failure = err;
  }

  private settle(): void {
    const w = this.waiting;
    if (!w) return;
    const batch = this.ready.shift();
    if (batch) w.resolve(batch);
    else if (this.failure !== undefined) w.reject(this.failure);
    else if (this.stats) w.resolve(undefined);
    else return;
    this.waiting = undefined;
  }
}
