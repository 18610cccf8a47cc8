import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelManifestSchema } from '../../src/models/manifest.js';
import { listModels, readManifest, resolveModel, verifyModel } from '../../src/models/registry.js';
import { canonicalBand, mapBands } from '../../src/raster/bands.js';
import { tempDir } from '../helpers/temp.js';

const base = {
  schema: 'hil.model/1',
  id: 'm',
  task: 'ac',
  format: 'onnx',
  file: 'm.onnx',
  sha256: 'a'.repeat(64),
  inputBands: ['B02'],
  outputBands: ['B02'],
  spatial: { kind: 'dynamic' },
  patchSize: 64,
  weights: 'real',
  licence: 'x',
  provenance: 'y',
};

describe('model manifests', () => {
  it('accepts a complete manifest and fills defaults', () => {
    const m = ModelManifestSchema.parse(base);
    expect(m).toMatchObject({ scale: 10000, overlap: 0, padding: 'reflect', precision: 'fp32', fileRoot: 'manifest' });
  });

  it.each([
    [{ sha256: undefined }, /needs "file" and "sha256"/],
    [{ outputBands: undefined }, /needs "outputBands"/],
    [{ task: 'sc' }, /needs "classes"/],
    [{ overlap: 32 }, /less than half/],
    [{ weights: 'pretrained' }, /weights/],
    [{ id: 'bad id' }, /ids use/],
  ])('refuses %o', (patch, message) => {
    const r = ModelManifestSchema.safeParse({ ...base, ...patch });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")).toMatch(message);
  });

  it('ships a valid manifest for every DTACSNet build and the no-correction baseline', () => {
    const ids = listModels(undefined).map((e) => e.manifest.id);
    for (const id of ['CNN_corrector', 'CNN_corrector_phisat2', 'CNN_corrector_planetscope', 'CNN_corrector_probav', 'linear', 'CNN_corrector_512', 'no-correction']) {
      expect(ids).toContain(id);
    }
    expect(resolveModel('CNN_corrector_512', undefined).manifest.spatial).toEqual({ kind: 'fixed', height: 512, width: 512 });
  });

  it('resolves a manifest file path and checks the sha256 of its model file', async () => {
    const dir = tempDir('hil-manifest-');
    writeFileSync(path.join(dir, 'm.onnx'), 'not the right bytes');
    writeFileSync(path.join(dir, 'm.json'), JSON.stringify(base));
    const entry = resolveModel(path.join(dir, 'm.onnx'), undefined);
    expect(entry.filePath).toBe(path.join(dir, 'm.onnx'));
    await expect(verifyModel(entry, undefined)).rejects.toThrow(/has sha256 [0-9a-f]{64}, but manifest .* says a{64}/);
    expect(() => resolveModel(path.join(dir, 'other.onnx'), undefined)).toThrow(/no manifest/);
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ ...base, task: 'segment' }));
    expect(() => readManifest(path.join(dir, 'bad.json'), undefined)).toThrow(/invalid at task/);
  });

  it('says how to find models that live in the models directory', async () => {
    await expect(verifyModel(resolveModel('CNN_corrector', undefined), undefined)).rejects.toMatchObject({
      message: expect.stringMatching(/lives in the models directory/),
      fix: expect.stringMatching(/--models-dir/),
    });
  });
});

describe('band mapping', () => {
  it('canonicalises band names', () => {
    expect(['B1', 'b02', 'B8a', '8A', 'B10', 'B13', 'red'].map(canonicalBand)).toEqual(['B01', 'B02', 'B8A', 'B8A', 'B10', undefined, undefined]);
  });

  it('matches model bands by name in any order', () => {
    expect(mapBands(['B04', 'B03', 'B02', 'B08'], ['B02', 'B03', 'B04', 'B08'], 'x')).toEqual([2, 1, 0, 3]);
  });

  it('names every missing band', () => {
    expect(() => mapBands(['B02', 'B03'], ['B02', 'B8A', 'B11'], 'input t.tif')).toThrow(/input t.tif lacks bands B8A, B11 \(it has B02 B03\)/);
  });
});
