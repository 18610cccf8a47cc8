import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { accuracyForOutputs } from '../../src/eval/accuracy.js';
import { resolveReference } from '../../src/eval/reference.js';
import type { AcAccuracy, ScAccuracy } from '../../src/eval/summary.js';
import { CLOUDSEN12_MAP } from '../../src/metrics/labels.js';
import { resolveModel } from '../../src/models/registry.js';
import { loadDataset, type DatasetSample } from '../../src/sen2cor-adapter/dataset.js';
import { gdal, hil } from '../helpers/cli.js';
import { haveShared, haveTool, sharedDataDir, sharedModelsDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

const ready = haveShared('data/sen2r') && haveShared('data/ukis-csmask') && haveTool('gdal_translate');
const phisat2 = resolveModel('CNN_corrector_phisat2', undefined).manifest;

describe.runIf(ready)('accuracyForOutputs on real rasters', () => {
  const dir = tempDir('hil-acc-');
  let sample: DatasetSample;
  /** Stand-in AC output: the TOA bands B02–B08 themselves, as uint16 ×10⁴ like the runner writes. */
  let toaAsOutput: string;
  const translated = (name: string, args: string[], src = sample.l2a!.path) => {
    const out = path.join(dir, name);
    gdal('gdal_translate', ['-q', ...args, src, out]);
    return out;
  };

  beforeAll(async () => {
    sample = (await loadDataset('sen2r', { dataDir: sharedDataDir })).samples[1];
    toaAsOutput = translated('toa-b2-b8.tif', ['-b', '2', '-b', '3', '-b', '4', '-b', '5', '-b', '6', '-b', '7', '-b', '8'], sample.l1c.path);
  });

  it('scores an output equal to the TOA input exactly as the no-correction baseline, on the same pixels', async () => {
    const r = await accuracyForOutputs({ input: sample.l1c, outputs: { ac: { path: toaAsOutput, manifest: phisat2 } }, reference: sample });
    const ac = r.ac as AcAccuracy;
    expect(ac.mask).toBe('scl');
    for (const band of phisat2.outputBands!) {
      expect(ac.pixels[band]).toBeGreaterThan(500);
      expect(ac.rmse[band]).toBe(ac.baselineRmse[band]);
      expect(ac.bias[band]).toBe(ac.baselineBias[band]);
    }
    // Without a cloud mask every pixel of the 24 × 42 chip with data counts.
    const all = await accuracyForOutputs({ input: sample.l1c, outputs: { ac: { path: toaAsOutput, manifest: phisat2 } }, reference: sample, acMask: 'none' });
    expect((all.ac as AcAccuracy).pixels.B02).toBe(24 * 42);
  });

  it('refuses an L2A reference shifted by a pixel, naming the file and the fix', async () => {
    const shifted = translated('shifted.tif', ['-a_ullr', '580570', '5102120', '580810', '5101700']);
    await expect(accuracyForOutputs({ input: sample.l1c, outputs: { ac: { path: toaAsOutput, manifest: phisat2 } }, reference: { l2a: { ...sample.l2a!, path: shifted } } })).rejects.toThrow(
      new RegExp(`L2A reference ${shifted} cannot be aligned.*origin`),
    );
  });

  it('refuses an L2A reference in another CRS', async () => {
    const utm33 = translated('utm33.tif', ['-a_srs', 'EPSG:32633']);
    await expect(accuracyForOutputs({ input: sample.l1c, outputs: { ac: { path: toaAsOutput, manifest: phisat2 } }, reference: { l2a: { ...sample.l2a!, path: utm33 } } })).rejects.toThrow(
      /CRS EPSG:32633 differs from EPSG:32632/,
    );
  });

  it('refuses an L2A reference at 20 m for a 10 m input rather than upsampling reflectance', async () => {
    const coarse = translated('coarse.tif', ['-outsize', '50%', '50%', '-r', 'average']);
    await expect(accuracyForOutputs({ input: sample.l1c, outputs: { ac: { path: toaAsOutput, manifest: phisat2 } }, reference: { l2a: { ...sample.l2a!, path: coarse } } })).rejects.toThrow(
      /pixels 2× the size/,
    );
  });

  it('refuses an L2A reference without a band the model outputs, naming it', async () => {
    const noB05 = translated('no-b05.tif', ['-b', '1', '-b', '2', '-b', '3', '-b', '4', '-b', '6', '-b', '7', '-b', '8', '-b', '9', '-b', '10', '-b', '11']);
    const bands = sample.l2a!.bands.filter((b) => b !== 'B05');
    await expect(accuracyForOutputs({ input: sample.l1c, outputs: { ac: { path: toaAsOutput, manifest: phisat2 } }, reference: { l2a: { ...sample.l2a!, path: noB05, bands } } })).rejects.toThrow(
      new RegExp(`L2A reference ${noB05} lacks band B05`),
    );
  });

  it('refuses a label raster with codes its mapping does not know, naming the file', async () => {
    const ukis = (await loadDataset('ukis-csmask', { dataDir: sharedDataDir })).samples[0];
    const sc = { path: ukis.label!.path, manifest: resolveModel('baseline-cloud-6b', undefined).manifest };
    const wrongMap = { ...ukis.label!, map: CLOUDSEN12_MAP };
    await expect(accuracyForOutputs({ input: ukis.l1c, outputs: { sc }, reference: { label: wrongMap } })).rejects.toThrow(
      new RegExp(`${ukis.label!.path} has label code 4 that the "cloudsen12" mapping does not know`),
    );
  });

  it('masks AC pixels with the SC output when asked, keeping only its clear class', async () => {
    const baselineSc = resolveModel('baseline-cloud-6b', undefined).manifest;
    const allClass = (cls: number) => translated(`sc-${cls}.tif`, ['-b', '1', '-ot', 'Byte', '-scale', '0', '65535', `${cls}`, `${cls}`], sample.l1c.path);
    const score = async (cls: number) =>
      (await accuracyForOutputs({ input: sample.l1c, outputs: { ac: { path: toaAsOutput, manifest: phisat2 }, sc: { path: allClass(cls), manifest: baselineSc } }, reference: { l2a: sample.l2a }, acMask: 'model' })).ac as AcAccuracy;
    const clear = await score(0);
    expect(clear.mask).toBe('model');
    expect(clear.pixels.B02).toBe(24 * 42);
    const shadow = await score(3);
    expect(shadow.pixels.B02).toBe(0);
    expect(shadow.rmse.B02).toBeNull();
  });

  it('refuses a mask source the sample lacks', async () => {
    await expect(accuracyForOutputs({ input: sample.l1c, outputs: { ac: { path: toaAsOutput, manifest: phisat2 } }, reference: sample, acMask: 'labels' })).rejects.toThrow(/cannot mask clouds for AC RMSE from labels/);
  });

  it('reports synthetic weights as not applicable, never as a number', async () => {
    const r = await accuracyForOutputs({ input: sample.l1c, outputs: { ac: { path: toaAsOutput, manifest: { ...phisat2, weights: 'synthetic' } } }, reference: sample });
    expect(r.ac).toEqual({ notApplicable: 'model CNN_corrector_phisat2 has synthetic weights (timing only)' });
    expect(r.counts.ac).toBeUndefined();
  });

  it('resolves hil run --reference from a dataset sample or an L2A GeoTIFF', async () => {
    const run = { path: sample.l1c.path, bands: sample.l1c.bands, scale: 1e-4, offset: 0 };
    const fromDataset = await resolveReference('sen2r', run, { dataDir: sharedDataDir });
    expect(fromDataset.reference.scl?.path).toBe(sample.scl!.path);
    await expect(resolveReference('sen2r', { ...run, path: toaAsOutput }, { dataDir: sharedDataDir })).rejects.toThrow(/is not a sample of dataset sen2r/);
    const named = translated('named.tif', ['-b', '2', '-b', '3', '-b', '4', '-b', '5', '-b', '6', '-b', '7', '-b', '8']);
    await expect(resolveReference(named, run)).rejects.toThrow(/does not name its bands/);
  });
});

describe.runIf(ready)('hil eval refusals', () => {
  it('refuses a model that needs a band the dataset lacks, naming the band and the file, before running anything', () => {
    const r = hil(['eval', '--dataset', 'sen2r', '--ac-model', 'CNN_corrector', '--models-dir', sharedModelsDir, '--data-dir', sharedDataDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sample 20170703 \(.*S2A1C_20170703_022_Barbellino_TOA_10\.tif\), needed by model CNN_corrector, lacks band B8A/);
  });

  it('does not run a synthetic-weight model and reports its accuracy as not applicable', () => {
    const dir = tempDir('hil-synth-');
    const manifest = { ...resolveModel('baseline-cloud-rgb', undefined).manifest, id: 'synthetic-sc', weights: 'synthetic', file: 'absent.onnx' };
    writeFileSync(path.join(dir, 'synthetic-sc.json'), JSON.stringify(manifest));
    const r = hil(['eval', '--dataset', 'cloudsen12-roi1746', '--sc-model', path.join(dir, 'synthetic-sc.json'), '--data-dir', sharedDataDir, '--json']);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report.sc).toEqual({ notApplicable: 'model synthetic-sc has synthetic weights (timing only)' });
    expect(report.samples).toHaveLength(5);
    expect(report.median).toEqual({});
    expect((report.samples as { sc: ScAccuracy }[]).every((s) => 'notApplicable' in s.sc)).toBe(true);
  });
});
