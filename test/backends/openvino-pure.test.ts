import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBackendServes } from '../../src/backends/capabilities.js';
import { createBackend } from '../../src/backends/index.js';
import { checkIrPrecision, irWeightPrecision, modelFiles } from '../../src/backends/model-files.js';
import { compileConfig, inferencePrecision, selectOpenvinoDevice } from '../../src/backends/openvino-config.js';
import { HilError } from '../../src/errors.js';
import { ModelManifestSchema, type ModelManifestInput } from '../../src/models/manifest.js';
import { readOpenVinoIr } from '../../src/models/openvino-ir.js';
import { haveShared, sharedModelsDir } from '../helpers/shared.js';
import { hilErrorOf } from '../helpers/errors.js';
import { tempDir } from '../helpers/temp.js';

const base: ModelManifestInput = {
  schema: 'hil.model/1',
  id: 'ac-ir',
  task: 'ac',
  format: 'openvino-ir',
  file: 'CNN_corrector_512.xml',
  sha256: '0'.repeat(64),
  inputBands: ['B02'],
  outputBands: ['B02'],
  spatial: { kind: 'fixed', width: 512, height: 512 },
  patchSize: 512,
  weights: 'real',
  licence: 'x',
  provenance: 'x',
};
const manifest = (over: Partial<ModelManifestInput> = {}) => ModelManifestSchema.parse({ ...base, ...over });


describe('backend capabilities', () => {
  it('refuses an IR model on onnxruntime and names the backends that read it', () => {
    const err = hilErrorOf(() => checkBackendServes('onnxruntime', manifest(), 'CPU'));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('cannot read openvino-ir');
    expect(err.fix).toMatch(/openvino or exec/);
  });
  it('sends MYRIAD on openvino-node to the exec backend', () => {
    const err = hilErrorOf(() => checkBackendServes('openvino', manifest(), 'MYRIAD'));
    expect(err.message).toMatch(/2022\.3/);
  });
  it('lets exec run any device the profile names, and onnxruntime its execution providers', () => {
    expect(() => checkBackendServes('exec', manifest(), 'MYRIAD')).not.toThrow();
    expect(() => checkBackendServes('onnxruntime', manifest({ format: 'onnx', file: 'm.onnx' }), 'gpu')).not.toThrow();
    expect(() => checkBackendServes('onnxruntime', manifest({ format: 'onnx', file: 'm.onnx' }), 'NPU')).toThrow(/cannot run on device NPU/);
  });
  it('fails with an install hint when openvino-node is absent, before any session', async () => {
    if (!haveShared()) return;
    const xml = path.join(sharedModelsDir, 'dtacsnet/original/CNN_corrector_512.xml');
    const model = { manifest: manifest({ precision: 'fp16' }), path: xml, backend: 'openvino' as const, device: 'CPU' };
    const err = await createBackend(model, { intraOpThreads: 0, interOpThreads: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HilError);
    expect((err as HilError).message).toContain('needs openvino-node');
    expect((err as HilError).fix).toMatch(/npm install openvino-node.*Node ≥ 21/);
  });
});

describe('OpenVINO IR manifests', () => {
  it('pairs the .xml with its .bin, and says which file is missing', () => {
    const dir = tempDir('hil-ir-');
    const xml = path.join(dir, 'm.xml');
    writeFileSync(xml, '<net/>');
    expect(() => modelFiles(manifest(), xml)).toThrow(/no weights file .*m\.bin/);
    writeFileSync(path.join(dir, 'm.bin'), '');
    expect(modelFiles(manifest(), xml)).toEqual({ model: xml, weights: path.join(dir, 'm.bin') });
    expect(() => modelFiles(manifest(), path.join(dir, 'm.onnx'))).toThrow(/not an \.xml/);
    expect(modelFiles(manifest({ format: 'onnx', file: 'm.onnx' }), 'm.onnx')).toEqual({ model: 'm.onnx' });
  });
  it("reads the authors' IR as FP16 and refuses a manifest that calls it FP32", async () => {
    if (!haveShared()) return;
    const xml = path.join(sharedModelsDir, 'dtacsnet/original/CNN_corrector_512.xml');
    const ir = await readOpenVinoIr(xml);
    expect(irWeightPrecision(ir)).toBe('fp16');
    expect(() => checkIrPrecision(manifest({ precision: 'fp16' }), ir, xml)).not.toThrow();
    const err = hilErrorOf(() => checkIrPrecision(manifest(), ir, xml));
    expect(err.message).toContain('holds fp16 weights');
    expect(err.fix).toContain('"precision": "fp16"');
  });
});

describe('OpenVINO device selection and compile properties', () => {
  it('matches exact names and the first instance of a family', () => {
    expect(selectOpenvinoDevice('gpu', ['CPU', 'GPU.0', 'GPU.1'])).toBe('GPU.0');
    expect(selectOpenvinoDevice('GPU.1', ['CPU', 'GPU.0', 'GPU.1'])).toBe('GPU.1');
    expect(selectOpenvinoDevice('AUTO', [])).toBe('AUTO');
    expect(() => selectOpenvinoDevice('NPU', ['CPU'])).toThrow(/no device NPU .*lists CPU/);
  });
  it('pins CPU to f32 and passes the hint and threads; accelerators compute in f16', () => {
    expect(compileConfig('CPU', 'LATENCY', 4)).toEqual({ PERFORMANCE_HINT: 'LATENCY', INFERENCE_PRECISION_HINT: 'f32', INFERENCE_NUM_THREADS: 4 });
    expect(compileConfig('GPU.0', 'THROUGHPUT', 4)).toEqual({ PERFORMANCE_HINT: 'THROUGHPUT' });
    expect(inferencePrecision('CPU')).toBe('f32');
    expect(inferencePrecision('NPU')).toBe('f16');
  });
});
