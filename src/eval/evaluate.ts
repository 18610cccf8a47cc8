import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { usageError } from '../errors.js';
import { ConfusionAccumulator } from '../metrics/confusion.js';
import { mapBands } from '../raster/bands.js';
import type { RunnerEvent } from '../runner/events.js';
import { loadDataset, type Dataset } from '../sen2cor-adapter/dataset.js';
import type { TargetSession } from '../targets/transport.js';
import { accuracyForOutputs, type SampleAccuracy } from './accuracy.js';
import { runModels, type EvalModels } from './run-models.js';
import {
  acBlock,
  acMedian,
  scBlock,
  scMedian,
  type AcAccuracy,
  type AcCounts,
  type AcMaskSource,
  type AcMedian,
  type NotApplicable,
  type ScAccuracy,
  type ScCounts,
  type ScMedian,
} from './summary.js';

export const EVAL_SCHEMA = 'hil.eval/1';

export interface SampleReport {
  id: string;
  ac?: AcAccuracy | NotApplicable;
  sc?: ScAccuracy | NotApplicable;
}

/**
 * `ac` and `sc` at the top are pixel-weighted over all samples (every compared pixel counts once);
 * `median` is the median over samples of the per-sample values, the statistic the papers quote.
 */
export interface EvalReport {
  schema: typeof EVAL_SCHEMA;
  dataset: string;
  models: { sc?: string; ac?: string };
  ac?: AcAccuracy | NotApplicable;
  sc?: ScAccuracy | NotApplicable;
  median: { ac?: AcMedian; sc?: ScMedian };
  samples: SampleReport[];
}

export interface EvalOptions {
  dataset: string;
  dataDir?: string;
  models: EvalModels;
  acMask?: AcMaskSource | 'auto';
  session: TargetSession;
  onSample?(id: string, index: number, total: number): void;
  onEvent?(ev: RunnerEvent): void;
}

/** Refuses, before anything runs, a model that needs a band some sample lacks, naming the bands and file. */
function checkBands(dataset: Dataset, models: EvalModels): void {
  for (const s of dataset.samples) {
    for (const entry of [models.sc, models.ac]) {
      if (entry) mapBands(s.l1c.bands, entry.manifest.inputBands, `dataset ${dataset.name} sample ${s.id} (${s.l1c.path}), needed by model ${entry.manifest.id},`);
    }
  }
}

const applicable = <T extends object>(b: T | NotApplicable | undefined): T | undefined => (b && !('notApplicable' in b) ? b : undefined);

/** Runs the models on every sample of a dataset through the runner and scores the outputs. */
export async function evaluateDataset(opts: EvalOptions): Promise<EvalReport> {
  const { models } = opts;
  if (!models.sc && !models.ac) throw usageError('nothing to evaluate: no model given', 'pass --sc-model ID and/or --ac-model ID');
  for (const [k, e] of Object.entries(models)) {
    if (e && e.manifest.task !== k) throw usageError(`model ${e.manifest.id} is an ${e.manifest.task} model, given as the ${k} model`, `pass it with --${e.manifest.task}-model`);
  }
  const dataset = await loadDataset(opts.dataset, { dataDir: opts.dataDir });
  checkBands(dataset, models);
  // Synthetic weights give no accuracy, so such a model is not even run.
  const runnable: EvalModels = {
    ...(models.sc && models.sc.manifest.weights !== 'synthetic' ? { sc: models.sc } : {}),
    ...(models.ac && models.ac.manifest.weights !== 'synthetic' ? { ac: models.ac } : {}),
  };
  const skipped = (k: 'sc' | 'ac') => (models[k] && !runnable[k] ? { path: '', manifest: models[k]!.manifest } : undefined);

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'hil-eval-'));
  const perSample: (SampleAccuracy & { id: string })[] = [];
  try {
    for (const [i, sample] of dataset.samples.entries()) {
      opts.onSample?.(sample.id, i, dataset.samples.length);
      const outDir = path.join(tmp, String(i));
      const ran = runnable.sc || runnable.ac ? await runModels(opts.session, sample.l1c, runnable, outDir, opts.onEvent) : {};
      const outputs = { sc: ran.sc ?? skipped('sc'), ac: ran.ac ?? skipped('ac') };
      const acc = await accuracyForOutputs({ input: sample.l1c, outputs, reference: sample, acMask: opts.acMask });
      perSample.push({ id: sample.id, ...acc });
      await rm(outDir, { recursive: true, force: true });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return summarise(dataset.name, models, perSample);
}

function summarise(name: string, models: EvalModels, perSample: (SampleAccuracy & { id: string })[]): EvalReport {
  const acCounts = perSample.map((s) => s.counts.ac).filter((c): c is AcCounts => Boolean(c));
  const scCounts = perSample.map((s) => s.counts.sc).filter((c): c is ScCounts => Boolean(c));
  const first = perSample[0];
  const pooledAc = (): AcAccuracy | NotApplicable | undefined => {
    if (!models.ac) return undefined;
    if (acCounts.length === 0) return first.ac;
    const [head, ...rest] = acCounts;
    const masks = new Set(acCounts.map((c) => c.mask));
    // Merging into the first sample's accumulators is safe: its own block was materialised already.
    const merged: AcCounts = {
      model: head.model,
      mask: masks.size === 1 ? head.mask : 'mixed',
      predicted: rest.reduce((acc, c) => acc.merge(c.predicted), head.predicted),
      baseline: rest.reduce((acc, c) => acc.merge(c.baseline), head.baseline),
    };
    return acBlock(merged);
  };
  const pooledSc = (): ScAccuracy | NotApplicable | undefined => {
    if (!models.sc) return undefined;
    if (scCounts.length === 0) return first.sc;
    const refs = new Set(scCounts.map((c) => c.reference));
    const confusion = scCounts.reduce((acc, c) => acc.merge(c.confusion), new ConfusionAccumulator());
    return scBlock({ model: scCounts[0].model, reference: refs.size === 1 ? scCounts[0].reference : 'mixed', confusion });
  };
  const acBlocks = perSample.map((s) => applicable(s.ac)).filter((b): b is AcAccuracy => Boolean(b));
  const scBlocks = perSample.map((s) => applicable(s.sc)).filter((b): b is ScAccuracy => Boolean(b));
  return {
    schema: EVAL_SCHEMA,
    dataset: name,
    models: { ...(models.sc ? { sc: models.sc.manifest.id } : {}), ...(models.ac ? { ac: models.ac.manifest.id } : {}) },
    ...(models.ac ? { ac: pooledAc() } : {}),
    ...(models.sc ? { sc: pooledSc() } : {}),
    median: { ...(acBlocks.length ? { ac: acMedian(acBlocks) } : {}), ...(scBlocks.length ? { sc: scMedian(scBlocks) } : {}) },
    samples: perSample.map(({ id, ac, sc }) => ({ id, ...(ac ? { ac } : {}), ...(sc ? { sc } : {}) })),
  };
}
