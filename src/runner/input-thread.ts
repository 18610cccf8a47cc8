import { Worker, type MessagePort } from 'node:worker_threads';
import type { Block, PatchGrid } from '../raster/patch-grid.js';
import { deserialiseError, type ThreadError } from '../util/thread-error.js';

export interface InputThreadConfig {
  path: string;
  /** The reader's block cache (see OpenRasterOptions.cacheBytes). */
  cacheBytes: number;
  grid: PatchGrid;
  /** File band indices read, in the order the stages' `bandIdx` refer to. */
  union: number[];
  stages: { bandIdx: number[]; from: number; side: number }[];
  scale: number;
  offset: number;
  nodata: number | undefined;
  batch: number;
  /** Batches of windows read ahead. */
  prefetch: number;
  /** Sets of model inputs in circulation between this thread and inference: the bound on memory. */
  depth: number;
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

export type InputReply = { batch: InputBatch } | { end: true; busyMs: number; decodedBlocks: number } | { error: ThreadError };

/**
 * The engine's input on a thread of its own (src/runner/input-entry.ts): reading, decoding, nodata
 * masks and the conversion to model inputs run there, beside the main thread's post-processing and
 * writing, so that neither waits for the other. The model inputs go over `feed` (src/backends/feed.ts),
 * straight to whoever runs the models, and come back that way; the engine gets each batch's blocks and
 * masks. Batches are prepared only as far as `depth` input sets allow.
 */
export class InputThread {
  /** The input thread's busy time and its reader's block decodes, once all batches are out. */
  stats: { busyMs: number; decodedBlocks: number } | undefined;
  private readonly ready: InputBatch[] = [];
  private waiting: { resolve: (b: InputBatch | undefined) => void; reject: (e: unknown) => void } | undefined;
  private failure: unknown;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: InputReply) => {
      if ('batch' in m) this.ready.push(m.batch);
      else if ('end' in m) this.stats = { busyMs: m.busyMs, decodedBlocks: m.decodedBlocks };
      else this.failure = deserialiseError(m.error);
      this.settle();
    });
    worker.on('error', (err) => {
      this.failure = err;
      this.settle();
    });
    worker.on('exit', (code) => {
      if (!this.stats && this.failure === undefined) this.failure = new Error(`the input thread exited (code ${code}) before the last batch`);
      this.settle();
    });
  }

  static start(cfg: InputThreadConfig, feed: MessagePort): InputThread {
    return new InputThread(new Worker(new URL('./input-entry.js', import.meta.url), { workerData: { cfg, feed }, transferList: [feed] }));
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
    await this.worker.terminate();
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
