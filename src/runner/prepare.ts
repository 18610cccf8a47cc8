import { performance } from 'node:perf_hooks';
import { createThreadedBackends, type ThreadedBackend, type ThreadedBackends } from '../backends/threaded.js';
import { inputError, modelError } from '../errors.js';
import type { ModelManifest } from '../models/manifest.js';
import { canonicalBand, mapBands } from '../raster/bands.js';
import { makePatchGrid, type PatchGrid } from '../raster/patch-grid.js';
import { openRaster, type RasterReader } from '../raster/tiff-reader.js';
import type { RunnerEvent } from './events.js';
import type { Job, JobModel } from './job.js';
import type { PostProcess } from './postprocess.js';

export type StageKey = 'sc' | 'ac';

/** One model stage of the engine: which bands it reads, what square it sees. */
export interface Stage {
  key: StageKey;
  manifest: ModelManifest;
  /** Runs on the inference thread, on inputs sent over the feed (see ThreadedBackend). */
  backend: ThreadedBackend;
  /** Indices into the union of bands read from the input. */
  bandIdx: number[];
  /** Side of the square the model sees, and where it starts inside the padded block. */
  side: number;
  from: number;
  /** Output channels: AC bands or SC classes. */
  channels: number;
  /** How its output becomes tiles. */
  post: PostProcess;
}

/** An opened job: input, patch grid and loaded models, shared by the full run and the inference floor. */
export interface PreparedJob {
  reader: RasterReader;
  fileBands: string[];
  /** File band indices read for every block: the union of what the models need. */
  union: number[];
  grid: PatchGrid;
  nodata: number | undefined;
  stages: Stage[];
  modelLoadMs: Record<string, number>;
  /** The threads that run inference (src/runner/thread-priority.ts). */
  inferenceThreadIds: number[];
  /** Connects the inference thread to the producer of its inputs (src/backends/feed.ts). */
  attachFeed: ThreadedBackends['attachFeed'];
}

export interface RunHooks {
  emit(event: RunnerEvent): void;
}

/** DN need at least 16 bits; an 8-bit file is a picture, not an L1C product. */
const DN_TYPES = new Set(['uint16', 'int16', 'uint32', 'int32', 'float32', 'float64']);

/** What reading and preparing a job's input needs, known before any model loads. */
export interface InputPlan {
  reader: RasterReader;
  union: number[];
  grid: PatchGrid;
  nodata: number | undefined;
  stages: Pick<Stage, 'bandIdx' | 'side' | 'from'>[];
}

/**
 * Opens the input, checks the plan and loads the models. `planned` is called once the plan holds and
 * before the models load, so that reading can start meanwhile.
 */
export async function prepareJob(job: Job, hooks: RunHooks, opts: { planned?: (plan: InputPlan) => void } = {}): Promise<PreparedJob> {
  const reader = await openRaster(job.input.path);
  const stages: Stage[] = [];
  try {
    const { fileBands, union, grid, planned } = planJob(job, reader.info);
    const nodata = job.input.nodata ?? reader.info.nodata;
    opts.planned?.({ reader, union, grid, nodata, stages: planned });
    const modelLoadMs: Record<string, number> = {};
    const backendOptions = { intraOpThreads: job.engine.intraOpThreads, interOpThreads: job.engine.interOpThreads };
    // The models load together on their thread; their load time is shared out evenly.
    const t = performance.now();
    const threaded = await createThreadedBackends(planned.map((s) => s.model), backendOptions);
    const loadMs = (performance.now() - t) / planned.length;
    for (const [i, { key, model, side, from, post, bandIdx }] of planned.entries()) {
      modelLoadMs[key] = loadMs;
      hooks.emit({ ev: 'stage', stage: `load-${key}`, ms: loadMs });
      stages.push({ key, manifest: model.manifest, backend: threaded.backends[i], bandIdx, side, from, channels: post.channels, post });
    }
    return { reader, fileBands, union, grid, nodata, stages, modelLoadMs, inferenceThreadIds: threaded.threadIds, attachFeed: threaded.attachFeed };
  } catch (err) {
    await releasePrepared({ reader, stages });
    throw err;
  }
}

export async function releasePrepared(p: Pick<PreparedJob, 'reader' | 'stages'>): Promise<void> {
  await Promise.all(p.stages.map((s) => s.backend.release().catch(() => undefined)));
  await p.reader.close();
}

interface PlannedStage {
  key: StageKey;
  model: JobModel;
  side: number;
  from: number;
  post: PostProcess;
  bandIdx: number[];
}

/**
 * Everything about a job that can be checked without loading a model: data type, band names and mapping,
 * the patch grid, and each model's input size against it. The coordinator runs it too (checkJob) so a
 * bad plan is refused before a target is locked or anything is deployed.
 */
function planJob(job: Job, info: RasterReader['info']): { fileBands: string[]; union: number[]; grid: PatchGrid; planned: PlannedStage[] } {
  if (!DN_TYPES.has(info.dtype)) {
    throw inputError(`${info.path} holds ${info.dtype} samples, not L1C digital numbers`, 'give a 16-bit integer or float L1C GeoTIFF (DN = reflectance × 10000)');
  }
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
  const planned = wanted.map(([key, model]): PlannedStage => {
    const side = key === 'sc' ? grid.patch : grid.tile;
    checkModelSide(model.manifest, side, grid);
    const m = model.manifest;
    const shape = { model: m.id, channels: key === 'ac' ? (m.outputBands ?? []).length : (m.classes ?? []).length, side, tile: grid.tile };
    const post: PostProcess =
      key === 'ac' ? { ...shape, kind: 'quantise', from: 0, clamp: m.clamp ?? [0, 2], scale: m.scale } : { ...shape, kind: 'argmax', from: grid.margin };
    return { key, model, side, from: key === 'sc' ? 0 : grid.margin, post, bandIdx: bandIdxFor(m) };
  });
  return { fileBands, union, grid, planned };
}

/** Opens the job's input and checks the plan (see planJob), loading no model. */
export async function checkJob(job: Job): Promise<void> {
  const reader = await openRaster(job.input.path);
  try {
    planJob(job, reader.info);
  } finally {
    await reader.close();
  }
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
    throw modelError(`model ${m.id} needs a patch side divisible by ${m.spatial.multipleOf}, got ${side}`, `use a --patch that is a multiple of ${m.spatial.multipleOf}`);
  }
}
