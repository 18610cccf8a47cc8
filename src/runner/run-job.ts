import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TensorF32 } from '../backends/backend.js';
import { inputError, modelError } from '../errors.js';
import { nodataTest } from '../metrics/scaling.js';
import { blockSource, blocks, type Block, type BlockSource } from '../raster/patch-grid.js';
import { TiledTiffWriter } from '../raster/tiff-writer.js';
import type { RunnerSummary } from './events.js';
import type { Job } from './job.js';
import { prepareJob, releasePrepared, type PreparedJob, type RunHooks, type Stage, type StageKey } from './prepare.js';
import { argmaxClasses, fillModelInput, nodataMask, quantiseReflectance, type RawSamples } from './tensors.js';

export type { RunHooks } from './prepare.js';

interface ReadBlock {
  block: Block;
  src: BlockSource;
  raw: RawSamples;
}

/**
 * The engine: one pass over the input. Reads run ahead of inference (their inflate runs on libuv's
 * threadpool) and output tiles are compressed and written behind it, each through a bounded queue, so
 * memory stays flat whatever the tile size.
 */
export async function runJob(job: Job, hooks: RunHooks): Promise<RunnerSummary> {
  const t0 = performance.now();
  const prepared = await prepareJob(job, hooks);
  const writers = new Map<StageKey, TiledTiffWriter>();
  try {
    if (!job.output.discard) for (const stage of prepared.stages) writers.set(stage.key, await openWriter(job, prepared, stage));
    const summary = await pipeline(job, prepared, writers, hooks, t0);
    return summary;
  } catch (err) {
    await Promise.all([...writers.values()].map((w) => w.abort()));
    throw err;
  } finally {
    await releasePrepared(prepared);
  }
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

async function pipeline(job: Job, p: PreparedJob, writers: Map<StageKey, TiledTiffWriter>, hooks: RunHooks, t0: number): Promise<RunnerSummary> {
  const { grid, reader, union, stages } = p;
  const info = reader.info;
  const stageTimes: Record<string, number> = { read: 0, write: 0 };
  for (const s of stages) stageTimes[s.key] = 0;
  const firstInferenceMs: Record<string, number> = {};
  const tPipeline = performance.now();
  const inputs = new Map<StageKey, Float32Array>();
  const pendingReads: Promise<ReadBlock>[] = [];
  const pendingWrites: Promise<void>[] = [];
  const iter = blocks(grid);
  const startRead = () => {
    const next = iter.next();
    if (next.done) return;
    const block = next.value;
    const src = blockSource(grid, block);
    pendingReads.push(reader.readWindow(src.x0, src.y0, src.width, src.height, union).then((raw) => ({ block, src, raw: raw as RawSamples })));
  };
  for (let i = 0; i < job.engine.prefetch * job.engine.batch; i++) startRead();

  // Integer rasters without a nodata value have no missing pixels; float ones may hold NaN.
  const isNodata = p.nodata !== undefined || info.dtype.startsWith('float') ? nodataTest(p.nodata) : undefined;
  let done = 0;
  let lastProgress = 0;
  while (pendingReads.length > 0) {
    let t = performance.now();
    const batch: ReadBlock[] = [];
    while (batch.length < job.engine.batch && pendingReads.length > 0) {
      batch.push(await pendingReads.shift()!);
      startRead();
    }
    const masks = batch.map((rb) => nodataMask(rb.raw, rb.src, union.length, grid.margin, grid.tile, isNodata));
    for (const stage of stages) {
      const size = batch.length * stage.bandIdx.length * stage.side * stage.side;
      let buf = inputs.get(stage.key);
      if (!buf || buf.length !== size) inputs.set(stage.key, (buf = new Float32Array(size)));
      batch.forEach((rb, slot) => fillModelInput(buf!, slot, rb.raw, rb.src, stage.bandIdx, stage.from, stage.side, job.input.scale, job.input.offset));
    }
    stageTimes.read += performance.now() - t;

    for (const stage of stages) {
      t = performance.now();
      const input: TensorF32 = { data: inputs.get(stage.key)!, dims: [batch.length, stage.bandIdx.length, stage.side, stage.side] };
      const out = await stage.backend.run(input);
      const ms = performance.now() - t;
      if (firstInferenceMs[stage.key] === undefined) firstInferenceMs[stage.key] = ms;
      else stageTimes[stage.key] += ms;
      checkOutput(stage, out, batch.length);

      const writer = writers.get(stage.key);
      if (!writer) continue;
      t = performance.now();
      batch.forEach((rb, slot) => {
        const tile =
          stage.key === 'ac'
            ? quantiseReflectance(out.data, slot, stage.channels, stage.side, grid.tile, 0, stage.manifest.clamp ?? [0, 2], stage.manifest.scale, masks[slot])
            : argmaxClasses(out.data, slot, stage.channels, stage.side, grid.tile, grid.margin, masks[slot]);
        pendingWrites.push(writer.writeTile(rb.block.tileX, rb.block.tileY, tile));
      });
      while (pendingWrites.length > job.engine.writeQueue) await pendingWrites.shift();
      stageTimes.write += performance.now() - t;
    }

    done += batch.length;
    const now = performance.now();
    if (done === grid.count || now - lastProgress > 200) {
      lastProgress = now;
      hooks.emit({ ev: 'progress', stage: job.scenario, done, total: grid.count });
    }
  }

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

function checkOutput(stage: Stage, out: TensorF32, n: number): void {
  const [on, oc, oh, ow] = out.dims;
  if (on !== n || oc !== stage.channels || oh !== stage.side || ow !== stage.side) {
    throw modelError(
      `model ${stage.manifest.id} returned [${out.dims.join(',')}], expected [${n},${stage.channels},${stage.side},${stage.side}]`,
      'check the manifest (output bands / classes) against the model file',
    );
  }
}
