import { mkdir } from 'node:fs/promises';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FedResult } from '../backends/threaded.js';
import { inputError } from '../errors.js';
import type { Block, PatchGrid } from '../raster/patch-grid.js';
import { BYTES_PER_SAMPLE, type RasterInfo } from '../raster/tiff-reader.js';
import { TiledTiffWriter } from '../raster/tiff-writer.js';
import type { RunnerSummary, Scheduling } from './events.js';
import type { Job } from './job.js';
import { prepareJob, releasePrepared, type InputPlan, type PreparedJob, type RunHooks, type Stage, type StageKey } from './prepare.js';
import { InputThread } from './input-thread.js';
import { applyNodata } from './postprocess.js';
import { backgroundAllBut } from './thread-priority.js';
import { queued } from '../util/queued.js';

export type { RunHooks } from './prepare.js';

/**
 * The engine: one pass over the input. Batches are read (inflated on the reading thread itself) and prepared
 * ahead on two input threads, the models run and their outputs are post-processed on their own worker
 * thread, and output tiles are compressed and written behind on the main thread, each through a bounded queue, so
 * they overlap and memory stays flat whatever the tile size. With `ioPriority: 'idle'` all of
 * that runs only where the inference threads leave a core free (src/runner/thread-priority.ts). It
 * changes the whole process's threads, so only the runner's own process calls this.
 */
export async function runJob(job: Job, hooks: RunHooks): Promise<RunnerSummary> {
  const t0 = performance.now();
  // The inputs go from the input threads straight to inference (src/backends/feed.ts); what they send
  // before the models have loaded waits on the channel.
  const feed = new MessageChannel();
  let input = undefined as InputThread | undefined;
  let prepared: PreparedJob | undefined;
  const writers = new Map<StageKey, TiledTiffWriter>();
  try {
    // Reading starts while the models load: at 20 m the first batch was ready 150 to 200 ms after they
    // had loaded, time in which inference had nothing to do.
    prepared = await prepareJob(job, hooks, { planned: (plan) => (input = startInput(job, plan, feed.port1)) });
    await prepared.attachFeed(feed.port2);
    // After the input threads exist, so that they are among the threads moved; the pass starts meanwhile.
    const scheduled = scheduleBehindInference(job, prepared, hooks);
    if (!job.output.discard) for (const stage of prepared.stages) writers.set(stage.key, await openWriter(job, prepared, stage));
    const summary = await pipeline(job, prepared, input!, writers, hooks, t0);
    const scheduling = await scheduled;
    return scheduling ? { ...summary, scheduling } : summary;
  } catch (err) {
    await Promise.all([...writers.values()].map((w) => w.abort()));
    throw err;
  } finally {
    await input?.close();
    if (prepared) await releasePrepared(prepared);
  }
}

/**
 * With `ioPriority: 'idle'`, moves every thread of the runner but the inference ones behind them
 * (src/runner/thread-priority.ts) and reports how; the engine and the inference floor both run so.
 */
export async function scheduleBehindInference(job: Job, p: PreparedJob, hooks: RunHooks): Promise<Scheduling | undefined> {
  if (job.engine.ioPriority !== 'idle' || !p.inferenceThreadIds.length) return undefined;
  const outcome = await backgroundAllBut(p.inferenceThreadIds);
  const scheduling = { policy: outcome.policy, threads: outcome.threads, inferenceThreads: p.inferenceThreadIds.length };
  hooks.emit({ ev: 'scheduling', ...scheduling });
  return scheduling;
}

function startInput(job: Job, p: InputPlan, feed: MessagePort): InputThread {
  const info = p.reader.info;
  return InputThread.start(
    {
      path: info.path,
      dtype: info.dtype,
      cacheBytes: scanCacheBytes(info, p.grid, p.union.length, job.engine.prefetch * job.engine.batch),
      grid: p.grid,
      union: p.union,
      stages: p.stages.map((s) => ({ bandIdx: s.bandIdx, from: s.from, side: s.side })),
      scale: job.input.scale,
      offset: job.input.offset,
      nodata: p.nodata,
      batch: job.engine.batch,
      prefetch: job.engine.prefetch,
      // Those in inference and `prefetch` more, one of them being filled: each set is 24 MB at 10 m (both),
      // and one more took the full tile past 1.0 GB of RSS.
      depth: job.engine.prefetch + job.engine.inflight,
      background: job.engine.ioPriority === 'idle',
    },
    feed,
  );
}

/**
 * Enough decoded input blocks that each is decoded once: the block rows that consecutive rows of
 * patches share (their overlap, 2 × margin pixels, spans at most this many plus one), across the whole
 * image, and the blocks of the windows read ahead. At 10 m that is about 150 MB; without it the blocks
 * on the overlap were decoded twice (measured: 1.75 decodes per block).
 */
function scanCacheBytes(info: RasterInfo, grid: PatchGrid, bands: number, windows: number): number {
  const perBlock = info.tileWidth * info.tileHeight * BYTES_PER_SAMPLE[info.dtype] * (info.planar === 'band' ? bands : info.bands);
  const sharedRows = Math.ceil((2 * grid.margin) / info.tileHeight) + 1;
  const across = Math.ceil(info.width / info.tileWidth);
  const perWindow = (Math.ceil(grid.patch / info.tileHeight) + 1) * (Math.ceil(grid.patch / info.tileWidth) + 1);
  return perBlock * (sharedRows * across + (windows + 1) * perWindow);
}

async function openWriter(job: Job, p: PreparedJob, stage: Stage): Promise<TiledTiffWriter> {
  const path = job.output[stage.key];
  if (!path) throw inputError(`the job has no output path for ${stage.key}`, `set output.${stage.key}`);
  await mkdir(dirname(path), { recursive: true });
  const info = p.reader.info;
  const ac = stage.key === 'ac';
  return TiledTiffWriter.create(path, {
    width: info.width,
    height: info.height,
    bands: ac ? stage.channels : 1,
    dtype: ac ? 'uint16' : 'uint8',
    tileSize: p.grid.tile,
    compression: 'deflate',
    level: job.engine.compressionLevel,
    strategy: job.engine.deflateStrategy,
    predictor: ac ? job.engine.predictor : 1,
    bigtiff: 'auto',
    geo: info.geo,
    nodata: ac ? 0 : 255,
    bandNames: ac ? stage.manifest.outputBands : ['class'],
  });
}

interface InFlight {
  blocks: Block[];
  masks: (Uint8Array | undefined)[];
  outs: FedResult[];
}

/**
 * Four threads at once: the input threads read and prepare batches, the inference thread runs the
 * models and post-processes their outputs, and the main thread writes. Stage times are each one's own busy time:
 * `read` and `prepare` the input threads', `sc` and `ac` the inference thread's per model and `post`
 * its post-processing, `write` the main
 * thread's; `wait` is the main thread idle for inference and `starve` idle for input. They overlap, so
 * they add up to more than `pipeline`, the wall time of the pass. `idleRequest` and `idleInput` are the
 * inference thread's idle time between runs, waiting for the main thread's request or for the input
 * threads (src/backends/run-idle.ts).
 */
async function pipeline(job: Job, p: PreparedJob, input: InputThread, writers: Map<StageKey, TiledTiffWriter>, hooks: RunHooks, t0: number): Promise<RunnerSummary> {
  const { grid, stages } = p;
  const stageTimes: Record<string, number> = { write: 0, wait: 0, starve: 0, post: 0, idleRequest: 0, idleInput: 0 };
  for (const s of stages) stageTimes[s.key] = 0;
  const firstInferenceMs: Record<string, number> = {};
  const tPipeline = performance.now();
  const pendingWrites: Promise<void>[] = [];
  const inflight: Promise<InFlight>[] = [];
  // Per stage, tiles written: they are filled again rather than allocated anew, here or (sent back with
  // the next run) on the inference thread.
  const written = stages.map(() => [] as (Uint16Array | Uint8Array)[]);

  let done = 0;
  let lastProgress = 0;
  const finish = (r: InFlight) => {
    stages.forEach((stage, i) => {
      const result = r.outs[i];
      if (firstInferenceMs[stage.key] === undefined) firstInferenceMs[stage.key] = result.ms;
      else stageTimes[stage.key] += result.ms;
      stageTimes.post += result.postMs;
      stageTimes.idleRequest += result.idle.request;
      stageTimes.idleInput += result.idle.input;
      const writer = writers.get(stage.key);
      if (!writer) return;
      r.blocks.forEach((block, slot) => {
        const tile = result.tiles[slot];
        applyNodata(tile, r.masks[slot], stage.key === 'ac' ? 0 : 255);
        const write = writer.writeTile(block.tileX, block.tileY, tile, { owned: true });
        pendingWrites.push(queued(write.then(() => void written[i].push(tile))));
      });
    });
    done += r.blocks.length;
    const now = performance.now();
    if (done === grid.count || now - lastProgress > 200) {
      lastProgress = now;
      hooks.emit({ ev: 'progress', stage: job.scenario, done, total: grid.count });
    }
  };
  // Each wait is timed on its own: the main thread's busy time is what remains.
  const timed = async <T>(key: 'wait' | 'starve', promise: Promise<T>): Promise<T> => {
    const t = performance.now();
    const value = await promise;
    stageTimes[key] += performance.now() - t;
    return value;
  };
  const settle = async () => {
    finish(await timed('wait', inflight.shift()!));
    while (pendingWrites.length > job.engine.writeQueue) await timed('wait', pendingWrites.shift()!);
  };

  for (;;) {
    const batch = await timed('starve', input.next());
    if (!batch) break;
    const n = batch.blocks.length;
    const outs = stages.map((stage, i) => {
      const fed = { batch: batch.seq, input: i };
      const dims: [number, number, number, number] = [n, stage.bandIdx.length, stage.side, stage.side];
      return stage.backend.runFed(fed, dims, stage.post, { reuse: written[i].splice(0, n) });
    });
    inflight.push(queued(Promise.all(outs).then((o) => ({ blocks: batch.blocks, masks: batch.masks, outs: o }))));
    while (inflight.length > job.engine.inflight) await settle();
  }
  while (inflight.length > 0) await settle();
  await timed('wait', Promise.all(pendingWrites));
  // Each close waits for its file to reach the disk; the two files' waits overlap.
  await Promise.all([...writers.values()].map((w) => w.close()));
  const pipelineMs = performance.now() - tPipeline;
  stageTimes.write = pipelineMs - stageTimes.wait - stageTimes.starve;
  stageTimes.read = input.stats?.readMs ?? 0;
  stageTimes.prepare = input.stats?.prepareMs ?? 0;
  for (const [stage, ms] of Object.entries(stageTimes)) hooks.emit({ ev: 'stage', stage, ms });
  return summarise(job, p, { ...stageTimes, pipeline: pipelineMs }, firstInferenceMs, performance.now() - t0, Object.fromEntries([...writers.keys()].map((k) => [k, job.output[k]!])));
}

export function summarise(
  job: Job,
  p: PreparedJob,
  stages: Record<string, number>,
  firstInferenceMs: Record<string, number>,
  totalMs: number,
  outputs: Record<string, string>,
): RunnerSummary {
  const info = p.reader.info;
  return {
    totalMs,
    stages,
    modelLoadMs: p.modelLoadMs,
    firstInferenceMs,
    patches: p.grid.count,
    pixels: info.width * info.height,
    peakRssBytes: 0,
    input: { path: info.path, width: info.width, height: info.height, bands: p.fileBands, dtype: info.dtype },
    outputs,
    grid: { tile: p.grid.tile, margin: p.grid.margin, patch: p.grid.patch, batch: job.engine.batch, blocks: p.grid.count },
    backends: Object.fromEntries(p.stages.map((s) => [s.key, s.backend.describe()])),
  };
}
