import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TensorF32 } from '../backends/backend.js';
import { inputError } from '../errors.js';
import { nodataTest } from '../metrics/scaling.js';
import { blockSource, blocks, type Block, type BlockSource, type PatchGrid } from '../raster/patch-grid.js';
import { BYTES_PER_SAMPLE, type RasterInfo } from '../raster/tiff-reader.js';
import { TiledTiffWriter } from '../raster/tiff-writer.js';
import type { RunnerSummary } from './events.js';
import type { Job } from './job.js';
import { prepareJob, releasePrepared, type PreparedJob, type RunHooks, type Stage, type StageKey } from './prepare.js';
import { applyNodata, postProcess } from './postprocess.js';
import { fillModelInput, nodataMask, type RawSamples } from './tensors.js';
import { backgroundAllBut } from './thread-priority.js';

export type { RunHooks } from './prepare.js';

interface ReadBlock {
  block: Block;
  src: BlockSource;
  raw: RawSamples;
}

/**
 * The engine: one pass over the input. Reads run ahead (their inflate runs on libuv's threadpool), the
 * models run on their own worker thread, and output tiles are post-processed, compressed and written
 * behind, each through a bounded queue, so the main thread's reading and writing overlap inference and
 * memory stays flat whatever the tile size. With `ioPriority: 'idle'` all of that runs only where the
 * inference threads leave a core free (src/runner/thread-priority.ts). It changes the whole process's
 * threads, so only the runner's own process calls this.
 */
export async function runJob(job: Job, hooks: RunHooks): Promise<RunnerSummary> {
  const t0 = performance.now();
  const prepared = await prepareJob(job, hooks, { threaded: true });
  prepared.reader.setCacheBytes(scanCacheBytes(prepared.reader.info, prepared.grid, prepared.union.length, job.engine.prefetch * job.engine.batch));
  if (job.engine.ioPriority === 'idle' && prepared.inferenceThreadIds?.length) {
    const outcome = backgroundAllBut(prepared.inferenceThreadIds);
    hooks.emit({ ev: 'scheduling', policy: outcome.policy, threads: outcome.threads, inferenceThreads: prepared.inferenceThreadIds.length });
  }
  const writers = new Map<StageKey, TiledTiffWriter>();
  try {
    if (!job.output.discard) for (const stage of prepared.stages) writers.set(stage.key, await openWriter(job, prepared, stage));
    return await pipeline(job, prepared, writers, hooks, t0);
  } catch (err) {
    await Promise.all([...writers.values()].map((w) => w.abort()));
    throw err;
  } finally {
    await releasePrepared(prepared);
  }
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
  batch: ReadBlock[];
  masks: (Uint8Array | undefined)[];
  outs: ({ out: TensorF32 & { ms?: number } } | { tiles: (Uint16Array | Uint8Array)[]; ms: number })[];
}

/**
 * Stage times are each stage's own busy time: `read` and `write` on the main thread, `sc` and `ac` in
 * their inference threads, `wait` the main thread idle for inference. Stages overlap, so they add up to
 * more than `pipeline`, the wall time of the pass.
 */
async function pipeline(job: Job, p: PreparedJob, writers: Map<StageKey, TiledTiffWriter>, hooks: RunHooks, t0: number): Promise<RunnerSummary> {
  const { grid, reader, union, stages } = p;
  const info = reader.info;
  const stageTimes: Record<string, number> = { read: 0, write: 0, wait: 0 };
  for (const s of stages) stageTimes[s.key] = 0;
  const firstInferenceMs: Record<string, number> = {};
  const tPipeline = performance.now();
  // Input buffers travel to the inference thread and back; two per stage cover one batch in inference
  // and one being filled.
  const freeInputs: Float32Array[][] = stages.map(() => []);
  // Post-processing goes where there is time for it: with the UNet (sc, both) inference is the critical
  // path and the main thread does it; with only the per-pixel corrector the inference thread is mostly
  // idle and the main thread, reading and writing, is the bottleneck (measured at 10 m: 41.5 s with it
  // on the main thread, 35.8 s on the inference thread).
  const postOnInferenceThread = job.scenario === 'ac';
  const pendingReads: Promise<ReadBlock>[] = [];
  const pendingWrites: Promise<void>[] = [];
  const inflight: Promise<InFlight>[] = [];
  const iter = blocks(grid);
  const startRead = () => {
    const next = iter.next();
    if (next.done) return;
    const block = next.value;
    const src = blockSource(grid, block);
    pendingReads.push(reader.readWindow(src.x0, src.y0, src.width, src.height, union).then((raw) => ({ block, src, raw: raw as RawSamples })));
  };
  for (let i = 0; i < job.engine.prefetch * job.engine.batch; i++) startRead();
  // Integer rasters compare exactly (and without a nodata value have no missing pixels); float ones may
  // store nodata rounded to single precision, or NaN.
  const float = info.dtype.startsWith('float');
  const nd = p.nodata;
  const isNodata = !float ? (nd === undefined ? undefined : (v: number) => v === nd) : nodataTest(nd);

  let done = 0;
  let lastProgress = 0;
  const finish = async (r: InFlight) => {
    const t = performance.now();
    stages.forEach((stage, i) => {
      const result = r.outs[i];
      const ms = ('out' in result ? result.out.ms : result.ms) ?? 0;
      if (firstInferenceMs[stage.key] === undefined) firstInferenceMs[stage.key] = ms;
      else stageTimes[stage.key] += ms;
      const writer = writers.get(stage.key);
      if (!writer) return;
      const tiles = 'out' in result ? postProcess(stage.post, result.out) : result.tiles;
      r.batch.forEach((rb, slot) => {
        const tile = tiles[slot];
        applyNodata(tile, r.masks[slot], stage.key === 'ac' ? 0 : 255);
        pendingWrites.push(writer.writeTile(rb.block.tileX, rb.block.tileY, tile, { owned: true }));
      });
    });
    while (pendingWrites.length > job.engine.writeQueue) await pendingWrites.shift();
    stageTimes.write += performance.now() - t;
    done += r.batch.length;
    const now = performance.now();
    if (done === grid.count || now - lastProgress > 200) {
      lastProgress = now;
      hooks.emit({ ev: 'progress', stage: job.scenario, done, total: grid.count });
    }
  };
  const settle = async () => {
    const t = performance.now();
    const r = await inflight.shift()!;
    stageTimes.wait += performance.now() - t;
    await finish(r);
  };

  while (pendingReads.length > 0) {
    const t = performance.now();
    const batch: ReadBlock[] = [];
    while (batch.length < job.engine.batch && pendingReads.length > 0) {
      batch.push(await pendingReads.shift()!);
      startRead();
    }
    const masks = batch.map((rb) => nodataMask(rb.raw, rb.src, union.length, grid.margin, grid.tile, isNodata, float ? undefined : nd));
    // Each stage gets its batch as soon as it is filled.
    const outs = stages.map(async (stage, i) => {
      const size = batch.length * stage.bandIdx.length * stage.side * stage.side;
      const free = freeInputs[i];
      const input = free.length > 0 && free[free.length - 1].length === size ? free.pop()! : new Float32Array(size);
      batch.forEach((rb, slot) => fillModelInput(input, slot, rb.raw, rb.src, stage.bandIdx, stage.from, stage.side, job.input.scale, job.input.offset));
      if (!stage.runOwned) throw new Error('the engine needs threaded backends');
      const r = await stage.runOwned({ data: input, dims: [batch.length, stage.bandIdx.length, stage.side, stage.side] }, postOnInferenceThread ? stage.post : undefined);
      free.push(r.input);
      return r;
    });
    inflight.push(Promise.all(outs).then((o) => ({ batch, masks, outs: o })));
    stageTimes.read += performance.now() - t;
    while (inflight.length > job.engine.inflight) await settle();
  }
  while (inflight.length > 0) await settle();

  const t = performance.now();
  await Promise.all(pendingWrites);
  for (const w of writers.values()) await w.close();
  stageTimes.write += performance.now() - t;
  const pipelineMs = performance.now() - tPipeline;
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
