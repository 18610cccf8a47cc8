import { usageError } from '../errors.js';
import { ConfusionAccumulator } from '../metrics/confusion.js';
import { applyLabelMap } from '../metrics/labels.js';
import { RmseAccumulator } from '../metrics/rmse.js';
import { nodataTest } from '../metrics/scaling.js';
import type { ModelManifest } from '../models/manifest.js';
import { mapBands } from '../raster/bands.js';
import { openRaster } from '../raster/tiff-reader.js';
import type { DatasetLabel, DatasetRaster } from '../sen2cor-adapter/dataset.js';
import { alignReader, evalWindows, openAligned, rasterGrid, type AlignedRaster } from './align.js';
import { acBlock, scBlock, type AcAccuracy, type AcCounts, type AcMaskSource, type NotApplicable, type ScAccuracy, type ScCounts } from './summary.js';

/** What a run's outputs are compared with: a dataset sample's L2A, SCL and labels (any may be absent). */
export interface SampleReference {
  l2a?: DatasetRaster;
  scl?: DatasetLabel;
  label?: DatasetLabel;
}

/** A finished run's output raster and the manifest of the model that wrote it. */
export interface ModelOutput {
  path: string;
  manifest: ModelManifest;
}

export interface AccuracyRequest {
  /** The L1C raster the models ran on, with its band names and scaling (reflectance = (DN + offset) × scale). */
  input: DatasetRaster;
  outputs: { sc?: ModelOutput; ac?: ModelOutput };
  reference: SampleReference;
  /** Cloud/shadow pixels left out of AC RMSE: 'auto' = labels, else SCL, else the SC output, else none. */
  acMask?: AcMaskSource | 'auto';
}

export interface SampleAccuracy {
  ac?: AcAccuracy | NotApplicable;
  sc?: ScAccuracy | NotApplicable;
  /** The raw counts, for pixel-weighted aggregation over samples. */
  counts: { ac?: AcCounts; sc?: ScCounts };
}

const synthetic = (m: ModelManifest): NotApplicable | undefined =>
  m.weights === 'synthetic' ? { notApplicable: `model ${m.id} has synthetic weights (timing only)` } : undefined;

function chooseAcMask(req: AccuracyRequest, scUsable: boolean): AcMaskSource {
  const want = req.acMask ?? 'auto';
  const available: Record<AcMaskSource, boolean> = { labels: Boolean(req.reference.label), scl: Boolean(req.reference.scl), model: scUsable, none: true };
  if (want === 'auto') return (['labels', 'scl', 'model', 'none'] as const).find((k) => available[k])!;
  if (!available[want]) {
    const what = want === 'model' ? 'no SC model with real weights ran' : `${req.input.path} has no ${want === 'labels' ? 'label raster' : 'SCL'} in the reference`;
    throw usageError(`cannot mask clouds for AC RMSE from ${want}: ${what}`, 'choose another --ac-mask (labels, scl, model, none) or auto');
  }
  return want;
}

/**
 * Accuracy of one run's outputs against a reference, streamed window by window so a full tile never sits in
 * memory. AC: per-band RMSE and bias against the L2A, and the no-correction baseline (the TOA input against
 * the same L2A) on exactly the same pixels: those with data in every input band the model reads or is
 * compared on, data in the L2A band, and clear in the cloud mask. The AC output's 0 is not treated as
 * nodata, because a valid prediction clamped to 0 is also written as 0; nodata is taken from the input
 * instead, which is where the runner's 0s come from. SC: the confusion matrix against the labels, or the
 * SCL mapped to the four classes where there are no labels; nodata and ignored codes are left out.
 */
export async function accuracyForOutputs(req: AccuracyRequest): Promise<SampleAccuracy> {
  const { input, outputs, reference } = req;
  const result: SampleAccuracy = { counts: {} };
  const ac = outputs.ac && !synthetic(outputs.ac.manifest) ? outputs.ac : undefined;
  const sc = outputs.sc && !synthetic(outputs.sc.manifest) ? outputs.sc : undefined;
  if (outputs.ac && !ac) result.ac = synthetic(outputs.ac.manifest);
  if (outputs.sc && !sc) result.sc = synthetic(outputs.sc.manifest);
  const l2a = ac ? reference.l2a : undefined;
  if (ac && !l2a) result.ac = { notApplicable: `no L2A reference for ${input.path}` };
  const scRef = sc ? (reference.label ?? reference.scl) : undefined;
  if (sc && !scRef) result.sc = { notApplicable: `no label raster or SCL for ${input.path}` };
  const maskSource = l2a ? chooseAcMask(req, Boolean(sc)) : 'none';
  const maskRef = maskSource === 'labels' ? reference.label : maskSource === 'scl' ? reference.scl : undefined;

  // Band checks before any pixel is read, so a missing band is reported by name with its file.
  let inputIdx: number[] = [];
  if (ac && l2a) {
    const outBands = ac.manifest.outputBands ?? [];
    mapBands(l2a.bands, outBands, `L2A reference ${l2a.path}`);
    const used = [...mapBands(input.bands, ac.manifest.inputBands, `input ${input.path}`), ...mapBands(input.bands, outBands, `input ${input.path}`)];
    inputIdx = [...new Set(used)];
  }

  const inputReader = await openRaster(input.path);
  const inputGrid = rasterGrid(inputReader.info);
  const opened: AlignedRaster[] = [];
  const open = async (path: string, role: string, allowUpsample: boolean, bands: number) => {
    const r = await openAligned(path, inputGrid, { role, allowUpsample, bands });
    opened.push(r);
    return r;
  };
  try {
    const inp = alignReader(inputReader, inputGrid, { role: 'input', allowUpsample: false, bands: input.bands.length });
    const acOut = ac && l2a ? await open(ac.path, 'AC output', false, (ac.manifest.outputBands ?? []).length) : undefined;
    const l2aR = ac && l2a ? await open(l2a.path, 'L2A reference', false, l2a.bands.length) : undefined;
    const scOut = sc && (scRef || maskSource === 'model') ? await open(sc.path, 'SC output', false, 1) : undefined;
    const scRefR = sc && scRef ? await open(scRef.path, scRef === reference.label ? 'label raster' : 'SCL raster', true, 1) : undefined;
    const maskR = maskRef ? (maskRef === scRef && scRefR ? scRefR : await open(maskRef.path, maskSource === 'labels' ? 'label raster' : 'SCL raster', true, 1)) : undefined;

    const counts: SampleAccuracy['counts'] = {};
    if (ac && l2a) {
      const outBands = ac.manifest.outputBands ?? [];
      counts.ac = {
        model: ac.manifest.id,
        mask: maskSource,
        predicted: new RmseAccumulator(outBands, { bands: outBands, scaling: { scale: 1 / ac.manifest.scale, offset: 0, nodata: null } }, { bands: l2a.bands, scaling: l2a }),
        baseline: new RmseAccumulator(outBands, { bands: input.bands, scaling: input }, { bands: l2a.bands, scaling: l2a }),
      };
    }
    if (sc && scRef) counts.sc = { model: sc.manifest.id, reference: scRef === reference.label ? 'labels' : 'scl', confusion: new ConfusionAccumulator() };

    const isInputNodata = nodataTest(input.nodata);
    const classesOf = async (r: AlignedRaster, ref: DatasetLabel, x: number, y: number, w: number, h: number) =>
      applyLabelMap(await r.read(x, y, w, h), ref.map, ref.path, ref.nodata);
    const factors = opened.map((r) => r.factor);
    for (const { x, y, w, h } of evalWindows(inputGrid.width, inputGrid.height, factors)) {
      const pixels = w * h;
      const refClasses = scRefR && scRef ? await classesOf(scRefR, scRef, x, y, w, h) : undefined;
      let scClasses: ArrayLike<number> | undefined;
      if (counts.sc && scOut && refClasses) {
        scClasses = await scOut.read(x, y, w, h);
        counts.sc.confusion.add(scClasses as Uint8Array, refClasses);
      }
      if (counts.ac && acOut && l2aR) {
        const raw = await inp.read(x, y, w, h);
        const keep = new Uint8Array(pixels).fill(1);
        for (const b of inputIdx) {
          for (let i = 0; i < pixels; i++) if (isInputNodata(raw[b * pixels + i])) keep[i] = 0;
        }
        const maskClasses =
          maskSource === 'model'
            ? (scClasses ?? (await scOut!.read(x, y, w, h)))
            : maskR && maskRef
              ? maskR === scRefR
                ? refClasses!
                : await classesOf(maskR, maskRef, x, y, w, h)
              : undefined;
        if (maskClasses) for (let i = 0; i < pixels; i++) if (maskClasses[i] !== 0) keep[i] = 0;
        const ref = await l2aR.read(x, y, w, h);
        counts.ac.predicted.add(await acOut.read(x, y, w, h), ref, pixels, keep);
        counts.ac.baseline.add(raw, ref, pixels, keep);
      }
    }
    result.counts = counts;
    if (counts.ac) result.ac = acBlock(counts.ac);
    if (counts.sc) result.sc = scBlock(counts.sc);
    return result;
  } finally {
    await Promise.all([inputReader.close(), ...opened.map((r) => r.close())]);
  }
}
