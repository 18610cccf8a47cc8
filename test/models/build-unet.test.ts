import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildUnetModelFile } from '../../src/models/build-unet.js';
import { ModelManifestSchema } from '../../src/models/manifest.js';
import { decodeModel } from '../../src/models/onnx-writer.js';
import { haveShared, sharedModelsDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('hil-build-unet-');

describe('buildUnetModelFile', () => {
  it('writes the ONNX file and a valid manifest that points at it', async () => {
    const res = await buildUnetModelFile({ preset: 'dtacsnet', weights: { kind: 'synthetic', seed: 3 }, outDir: dir, id: 'dtacsnet-sc-synth' });
    expect(res.onnxPath).toBe(path.join(dir, 'dtacsnet-sc-synth.onnx'));
    expect(res.manifestPath).toBe(path.join(dir, 'dtacsnet-sc-synth.json'));
    expect((await readdir(dir)).sort()).toEqual(['dtacsnet-sc-synth.json', 'dtacsnet-sc-synth.onnx']);

    const onDisk = ModelManifestSchema.parse(JSON.parse(await readFile(res.manifestPath, 'utf8')));
    expect(onDisk).toEqual(res.manifest);
    const bytes = await readFile(path.join(dir, onDisk.file!));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(onDisk.sha256);
    expect(onDisk).toMatchObject({
      task: 'sc',
      format: 'onnx',
      inputBands: ['B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B10', 'B11', 'B12'],
      classes: ['clear', 'thick', 'thin', 'shadow'],
      scale: 10000,
      spatial: { kind: 'dynamic', multipleOf: 32 },
      patchSize: 512,
      overlap: 32,
      padding: 'reflect',
      weights: 'synthetic',
    });
    expect(onDisk.provenance).toMatch(/seed 3/);
    const input = decodeModel(bytes).graph!.input![0];
    expect(input.name).toBe(onDisk.inputName);
  }, 30_000);

  it('follows a preset\'s band order, and explicit bands and classes override it', async () => {
    const four = await buildUnetModelFile({ preset: 'dtacs4bands', weights: { kind: 'synthetic', seed: 1 }, outDir: dir, id: 'four' });
    expect(four.manifest.inputBands).toEqual(['B08', 'B04', 'B03', 'B02']);
    const custom = await buildUnetModelFile({ inBands: ['B02', 'B03'], classes: 2, weights: { kind: 'synthetic', seed: 1 }, outDir: dir, id: 'custom' });
    expect(custom.manifest.inputBands).toEqual(['B02', 'B03']);
    expect(custom.manifest.classes).toEqual(['class0', 'class1']);
    const dims = decodeModel(await readFile(custom.onnxPath)).graph!.output![0].type!.tensorType!.shape!.dim!;
    expect(dims[1].dimValue).toBe(2);
  }, 30_000);

  it('refuses an unknown preset, a bad id and repeated bands before writing anything', async () => {
    const before = (await readdir(dir)).sort();
    const synth = { kind: 'synthetic' as const, seed: 1 };
    await expect(buildUnetModelFile({ preset: 'nope', weights: synth, outDir: dir, id: 'x' })).rejects.toThrow(/unknown model preset "nope"/);
    await expect(buildUnetModelFile({ weights: synth, outDir: dir, id: 'a/b' })).rejects.toThrow(/model id "a\/b" is not valid/);
    await expect(buildUnetModelFile({ inBands: ['B02', 'B02'], weights: synth, outDir: dir, id: 'x' })).rejects.toThrow(/without repeats/);
    expect((await readdir(dir)).sort()).toEqual(before);
  });

  it.runIf(haveShared('models/dtacsnet/pytorch'))('refuses a .pt that is not a UNet state dict, naming the missing key', async () => {
    const file = path.join(sharedModelsDir, 'dtacsnet', 'pytorch', 'CNN_corrector.pt');
    await expect(buildUnetModelFile({ weights: { kind: 'pt', file }, outDir: dir, id: 'bad' })).rejects.toThrow(
      /no encoder\.features\.0\.0\.weight/,
    );
  });
});
