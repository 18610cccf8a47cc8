import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createBackend } from '../backends/index.js';
import type { InferenceBackend, TensorF32 } from '../backends/backend.js';
import { inputError, modelError } from '../errors.js';
import type { ModelManifest } from '../models/manifest.js';
import { canonicalBand, mapBands } from '../raster/bands.js';
import { blockSource, blocks, makePatchGrid, type Block, type BlockSource, type PatchGrid } from '../raster/patch-grid.js';
import { openRaster, type RasterReader } from '../raster/tiff-reader.js';
import { TiledTiffWriter } from '../raster/tiff-writer.js';
import type { RunnerEvent, RunnerSummary } from './events.js';
import type { Job, JobModel } from './job.js';
import { argmaxClasses, fillModelInput, nodataMask, quantiseReflectance, type RawSamples } from './tensors.js';

type StageKey = 'sc' | 'ac';

/** One model stage of the engine: which bands it reads, what square it sees, and its output file. */
interface Stage {
  key: StageKey;
  model: JobModel;
  manifest: ModelManifest;
  backend: InferenceBackend;
  /** Indices into the union of bands read from the input. */
  bandIdx: number[];
  /** Side of the square the model sees, and where inside the padded block it starts. */
  side: number;
  from: number;
  writer?: TiledTiffWriter;
}

interface ReadBlock {
  block: Block;
  src: BlockSource;
  raw: RawSamples;
}

export interface RunHooks {
  emit(event: RunnerEvent): void;
}

export async function runJob(job: Job, hooks: RunHooks): Promise<RunnerSummary> {
  const t0 = performance.now();
  const reader = await openRaster(job.input.path);
  const stages: Stage[] = [];
  try {
    return await runOpened(job, hooks, reader, stages, t0);
  } catch (err) {
    await Promise.all(stages.map((s) => s.writer?.abort()));
    throw err;
  } finally {
    await Promise.all(stages.map((s) => s.backend.release().catch(() => undefined)));
    await reader.close();
  }
}

async function runOpened(job: Job, hooks: RunHooks, reader: RasterReader, stages: Stage[], t0: number): Promise<RunnerSummary> {
  const info = reader.info;
  const fileBands = inputBandNames(job, info.bandNames, info.bands, info.path);
  const wanted = stageModels(job);

  // Read each band once, even when both models need it.
  const union: number[] = [];
  const bandIdxFor = (m: ModelManifest) =>
    mapBands(fileBands, m.inputBands, `input ${info.path}`).map((fileIdx) => {
      let u = union.indexOf(fileIdx);
      if (u < 0) u = union.push(fileIdx) - 1;
      return u;
    });

  const grid = chooseGrid(job, info.width, info.height, wanted);
  const nodata = job.input.nodata ?? info.nodata;
  const stageTimes: Record<string, number> = { read: 0, write: 0 };
  const modelLoadMs: Record<string, number> = {};
  const firstInferenceMs: Record<string, number> = {};

  for (const [key, model] of wanted) {
    const bandIdx = bandIdxFor(model.manifest);
    const side = key === 'sc' ? grid.patch : grid.tile;
    checkModelSide(model.manifest, side, grid);
    const tLoad = performance.now();
    const backend = await createBackend(model, { intraOpThreads: job.engine.intraOpThreads, interOpThreads: job.engine.interOpThreads });
    modelLoadMs[key] = performance.now() - tLoad;
    hooks.emit({ ev: 'stage', stage: `load-${key}`, ms: modelLoadMs[key] });
    stages.push({ key, model, manifest: model.manifest, backend, bandIdx, side, from: key === 'sc' ? 0 : grid.margin });
    stageTimes[key] = 0;
  }

  if (!job.output.discard) {
    for (const stage of stages) {
      const path = job.output[stage.key];
      if (!path) throw inputError(`the job has no output path for ${stage.key}`, 'set output.' + stage.key);
      await mkdir(dirname(path), { recursive: true });
      stage.writer = await TiledTiffWriter.create(path, {
        width: info.width,
        height: info.height,
        bands: stage.key === 'ac' ? (stage.manifest.outputBands ?? []).length : 1,
        dtype: stage.key === 'ac' ? 'uint16' : 'uint8',
        tileSize: grid.tile,
        compression: 'deflate',
        level: job.engine.compressionLevel,
        predictor: stage.key === 'ac' ? job.engine.predictor : 1,
        bigtiff: 'auto',
        geo: info.geo,
        nodata: stage.key === 'ac' ? 0 : 255,
        bandNames: stage.key === 'ac' ? stage.manifest.outputBands : ['class'],
      });
    }
  }

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
  for (let i = 0; i < job.engine.prefetch; i++) startRead();

  let done = 0;
  let lastProgress = 0;
  const first = new Set<StageKey>();
  while (pendingReads.length > 0) {
    let t = performance.now();
    const batch: ReadBlock[] = [];
    while (batch.length < job.engine.batch && pendingReads.length > 0) {
      batch.push(await pendingReads.shift()!);
      startRead();
    }
    const masks = batch.map((rb) => nodataMask(rb.raw, rb.src, union.length, grid.margin, grid.tile, nodata));
    for (const stage of stages) {
      const size = batch.length * stage.bandIdx.length * stage.side * stage.side;
      let buf = inputs.get(stage.key);
      if (!buf || buf.length !== size) inputs.set(stage.key, (buf = new Float32Array(size)));
      batch.forEach((rb, slot) =>
        fillModelInput(buf!, slot, rb.raw, rb.src, stage.bandIdx, stage.from, stage.side, job.input.scale, job.input.offset),
      );
    }
    stageTimes.read += performance.now() - t;

    for (const stage of stages) {
      t = performance.now();
      const input: TensorF32 = { data: inputs.get(stage.key)!, dims: [batch.length, stage.bandIdx.length, stage.side, stage.side] };
      const out = await stage.backend.run(input);
      const ms = performance.now() - t;
      if (!first.has(stage.key)) {
        first.add(stage.key);
        firstInferenceMs[stage.key] = ms;
      } else {
        stageTimes[stage.key] += ms;
      }
      checkOutput(stage, out, batch.length);

      t = performance.now();
      if (stage.writer) {
        const writer = stage.writer;
        batch.forEach((rb, slot) => {
          const tile =
            stage.key === 'ac'
              ? quantiseReflectance(out.data, slot, out.dims[1], stage.side, grid.tile, 0, stage.manifest.clamp ?? [0, 2], stage.manifest.scale, masks[slot])
              : argmaxClasses(out.data, slot, out.dims[1], stage.side, grid.tile, grid.margin, masks[slot]);
          pendingWrites.push(writer.writeTile(rb.block.tileX, rb.block.tileY, tile));
        });
        while (pendingWrites.length > job.engine.writeQueue) await pendingWrites.shift();
      }
      stageTimes.write += performance.now() - t;
    }

    done += batch.length;
    const now = performance.now();
    if (done === grid.count || now - lastProgress > 200) {
      lastProgress = now;
      hooks.emit({ ev: 'progress', stage: job.scenario, done, total: grid.count });
    }
  }

  let t = performance.now();
  await Promise.all(pendingWrites);
  for (const stage of stages) await stage.writer?.close();
  stageTimes.write += performance.now() - t;
  const pipelineMs = performance.now() - tPipeline;
  for (const [stage, ms] of Object.entries(stageTimes)) hooks.emit({ ev: 'stage', stage, ms });

  const outputs: Record<string, string> = {};
  for (const stage of stages) if (stage.writer) outputs[stage.key] = job.output[stage.key]!;
  return {
    totalMs: performance.now() - t0,
    stages: { ...stageTimes, pipeline: pipelineMs },
    modelLoadMs,
    firstInferenceMs,
    patches: grid.count,
    pixels: info.width * info.height,
    peakRssBytes: 0,
    input: { path: info.path, width: info.width, height: info.height, bands: fileBands, dtype: info.dtype },
    outputs,
    grid: { tile: grid.tile, margin: grid.margin, patch: grid.patch, batch: job.engine.batch, blocks: grid.count },
    backends: Object.fromEntries(stages.map((s) => [s.key, s.backend.describe()])),
  };
}

function stageModels(job: Job): [StageKey, JobModel][] {
  const keys: StageKey[] = job.scenario === 'both' ? ['sc', 'ac'] : [job.scenario];
  return keys.map((key) => {
    const model = job.models[key];
    if (!model) throw modelError(`scenario ${job.scenario} needs an ${key} model`, `give one with --${key}-model`);
    if (model.manifest.task !== key) {
      throw modelError(`model ${model.manifest.id} is an ${model.manifest.task} model, used for ${key}`, `give an ${key} model`);
    }
    return [key, model];
  });
}

function inputBandNames(job: Job, described: string[] | undefined, count: number, path: string): string[] {
  const names = job.input.bands ?? described;
  if (!names || names.some((n) => !canonicalBand(n))) {
    throw inputError(
      `${path} does not name its bands${described ? ` (its band descriptions are ${described.join(' ')})` : ''}`,
      'pass the band names in file order, e.g. --bands B01,B02,...,B12, or set band descriptions with gdal_edit.py',
    );
  }
  if (names.length !== count) {
    throw inputError(`${path} has ${count} bands but ${names.length} band names were given`, 'give one name per band, in file order');
  }
  return names;
}

/** The grid comes from the SC model when there is one (it needs context around each tile); AC is per pixel. */
function chooseGrid(job: Job, width: number, height: number, wanted: [StageKey, JobModel][]): PatchGrid {
  const lead = (wanted.find(([k]) => k === 'sc') ?? wanted[0])[1].manifest;
  const fixed = lead.spatial.kind === 'fixed' ? lead.spatial.width : undefined;
  const patch = job.engine.patchSize ?? fixed ?? lead.patchSize;
  const overlap = job.engine.overlap ?? (lead.task === 'sc' ? lead.overlap : 0);
  return makePatchGrid(width, height, patch, overlap);
}

function checkModelSide(m: ModelManifest, side: number, grid: PatchGrid): void {
  if (m.spatial.kind === 'fixed') {
    if (m.spatial.width !== side || m.spatial.height !== side) {
      const want = m.task === 'sc' ? m.spatial.width : m.spatial.width + 2 * grid.margin;
      throw modelError(
        `model ${m.id} takes fixed ${m.spatial.width}×${m.spatial.height} inputs but the patch grid gives it ${side}×${side}`,
        `use --patch ${want}${m.task === 'ac' && grid.margin > 0 ? ` (with --overlap ${grid.margin})` : ''}, or a model with dynamic size`,
      );
    }
  } else if (side % m.spatial.multipleOf !== 0) {
    throw modelError(
      `model ${m.id} needs a patch side divisible by ${m.spatial.multipleOf}, got ${side}`,
      `use a --patch that is a multiple of ${m.spatial.multipleOf}`,
    );
  }
}

function checkOutput(stage: Stage, out: TensorF32, n: number): void {
  const want = stage.key === 'ac' ? (stage.manifest.outputBands ?? []).length : (stage.manifest.classes ?? []).length;
  const [on, oc, oh, ow] = out.dims;
  if (on !== n || oc !== want || oh !== stage.side || ow !== stage.side) {
    throw modelError(
      `model ${stage.manifest.id} returned [${out.dims.join(',')}], expected [${n},${want},${stage.side},${stage.side}]`,
      'check the manifest (output bands / classes) against the model file',
    );
  }
}
