import { readFileSync, statSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { float32ToHalf } from '../../src/models/fp16.js';
import { ModelManifestSchema } from '../../src/models/manifest.js';
import { OnnxDataType } from '../../src/models/onnx-proto.js';
import { decodeModel, halfToFloat32 } from '../../src/models/onnx-writer.js';
import { resolveModel } from '../../src/models/registry.js';
import { buildVariant } from '../../src/models/variants.js';
import { haveShared, sharedModelsDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

describe('float32 → float16 rounding', () => {
  it('matches IEEE 754 half bit patterns, including ties, subnormals and overflow', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65520, 0x7c00], // halfway to the next power: rounds to infinity
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // tie to even: zero
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal ulps: even (2)
      [1 + 2 ** -11, 0x3c00], // tie: stays on the even mantissa
      [1 + 3 * 2 ** -11, 0x3c02], // tie: rounds up to the even mantissa
      [6.1e-5, 0x03ff], // largest subnormal region
      [Infinity, 0x7c00],
    ];
    const bits = float32ToHalf(Float32Array.from(cases.map(([v]) => v)));
    expect(Array.from(bits)).toEqual(cases.map(([, b]) => b));
    expect(Number.isNaN(halfToFloat32(float32ToHalf(Float32Array.of(NaN)))[0])).toBe(true);
  });
  it('round-trips every finite half exactly', () => {
    const all = Uint16Array.from({ length: 0x7c00 }, (_v, i) => i);
    expect(float32ToHalf(halfToFloat32(all))).toEqual(all);
  });
});

describe('model variants', () => {
  const outDir = tempDir('hil-variants-');

  it('stores the weights as FP16 and changes outputs by no more than FP16 rounding allows', async () => {
    if (!haveShared()) return;
    const src = resolveModel('CNN_corrector_phisat2', sharedModelsDir);
    const r = await buildVariant(src, { precision: 'fp16', outDir });
    expect(r.manifest).toMatchObject({ id: 'CNN_corrector_phisat2-fp16', precision: 'fp16', fileRoot: 'manifest', weights: 'real' });
    const model = decodeModel(readFileSync(r.modelPath));
    const inits = model.graph!.initializer!;
    expect(inits.every((t) => t.dataType !== OnnxDataType.float)).toBe(true);
    expect(inits.some((t) => t.dataType === OnnxDataType.float16)).toBe(true);
    expect(statSync(r.modelPath).size).toBeLessThan(statSync(src.filePath!).size);

    const data = Float32Array.from({ length: 7 * 64 * 64 }, (_v, i) => 0.02 + ((i * 2654435761) % 1000) / 1700);
    const run = async (file: string) => {
      const s = await ort.InferenceSession.create(file);
      const out = (await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', data, [1, 7, 64, 64]) }))[s.outputNames[0]];
      await s.release();
      return out.data as Float32Array;
    };
    const [a, b] = [await run(src.filePath!), await run(r.modelPath)];
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
    // Not identical (the weights did change) and within a few DN (×10⁴) of the FP32 model.
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThan(5e-4);
  });

  it('fixes the spatial size as the authors exported it, keeping the batch dynamic', async () => {
    if (!haveShared()) return;
    const r = await buildVariant(resolveModel('CNN_corrector', sharedModelsDir), { size: 512, outDir });
    expect(r.manifest).toMatchObject({ id: 'CNN_corrector-512', precision: 'fp32', spatial: { kind: 'fixed', width: 512, height: 512 }, patchSize: 512 });
    const s = await ort.InferenceSession.create(r.modelPath);
    const small = new ort.Tensor('float32', new Float32Array(13 * 64 * 64), [1, 13, 64, 64]);
    await expect(s.run({ input: small })).rejects.toThrow(/dimension|Got invalid dimensions/i);
    const two = await s.run({ input: new ort.Tensor('float32', new Float32Array(2 * 13 * 512 * 512), [2, 13, 512, 512]) });
    expect(two.output.dims).toEqual([2, 12, 512, 512]);
    await s.release();
  });

  it('refuses formats that cannot hold an FP16 build here, and builds that already are FP16', async () => {
    const refusal = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(HilError);
      return e as HilError;
    };
    const ir = { manifestPath: 'x.json', filePath: 'x.xml', manifest: ModelManifestSchema.parse({ schema: 'hil.model/1', id: 'ir', task: 'ac', format: 'openvino-ir', file: 'x.xml', sha256: '0'.repeat(64), inputBands: ['B02'], outputBands: ['B02'], spatial: { kind: 'dynamic' }, patchSize: 512, weights: 'real', licence: 'x', provenance: 'x' }) };
    expect((await refusal(buildVariant(ir, { precision: 'fp16', outDir }))).fix).toMatch(/compress_to_fp16/);
    expect((await refusal(buildVariant(resolveModel('no-correction', undefined), { precision: 'fp16', outDir }))).message).toMatch(/builtin/);
    const fp16 = { ...ir, manifest: { ...ir.manifest, format: 'onnx' as const, precision: 'fp16' as const } };
    expect((await refusal(buildVariant(fp16, { precision: 'fp16', outDir }))).message).toMatch(/already FP16/);
  });
});
