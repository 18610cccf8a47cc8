import { modelError } from '../errors.js';
import type { ModelManifest } from '../models/manifest.js';
import type { BackendOptions, InferenceBackend, TensorF32 } from './backend.js';

type Ort = typeof import('onnxruntime-node');

/** onnxruntime-node is loaded on first use so commands that run no model start fast. */
let ortModule: Promise<Ort> | undefined;
function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node');
  return ortModule;
}

const EXECUTION_PROVIDERS: Record<string, string> = { CPU: 'cpu', GPU: 'cuda', CUDA: 'cuda', WEBGPU: 'webgpu' };

export async function createOnnxruntimeBackend(
  manifest: ModelManifest,
  modelPath: string,
  opts: BackendOptions,
): Promise<InferenceBackend> {
  const ort = await loadOrt();
  const provider = EXECUTION_PROVIDERS[opts.device.toUpperCase()];
  if (!provider) {
    throw modelError(
      `onnxruntime cannot run on device ${opts.device}`,
      `use one of ${Object.keys(EXECUTION_PROVIDERS).join(', ')}, or a backend that serves ${opts.device}`,
    );
  }
  let session: import('onnxruntime-node').InferenceSession;
  try {
    const options: import('onnxruntime-node').InferenceSession.SessionOptions = { executionProviders: [provider], graphOptimizationLevel: 'all' };
    // 0 means "the runtime's default"; onnxruntime rejects an explicit undefined.
    if (opts.intraOpThreads > 0) options.intraOpNumThreads = opts.intraOpThreads;
    if (opts.interOpThreads > 0) options.interOpNumThreads = opts.interOpThreads;
    session = await ort.InferenceSession.create(modelPath, options);
  } catch (err) {
    throw modelError(
      `onnxruntime could not load ${modelPath}: ${(err as Error).message.split('\n')[0]}`,
      'check that the file is a valid ONNX model for this onnxruntime version',
    );
  }
  const inputName = manifest.inputName ?? session.inputNames[0];
  const outputName = manifest.outputName ?? session.outputNames[0];
  return {
    describe: () => ({ backend: 'onnxruntime', device: opts.device.toUpperCase(), version: ort.env.versions.node ?? 'unknown' }),
    async run(input: TensorF32): Promise<TensorF32> {
      const tensor = new ort.Tensor('float32', input.data, input.dims);
      const out = await session.run({ [inputName]: tensor });
      const result = out[outputName];
      const dims = result.dims as number[];
      if (dims.length !== 4) throw modelError(`model ${manifest.id} returned a ${dims.length}-D output`, 'use a model with NCHW output');
      const data = result.data as Float32Array;
      tensor.dispose?.();
      return { data, dims: [dims[0], dims[1], dims[2], dims[3]] };
    },
    async release() {
      await session.release();
    },
  };
}

export async function onnxruntimeVersion(): Promise<string | undefined> {
  try {
    const ort = await loadOrt();
    return ort.env.versions.node;
  } catch {
    return undefined;
  }
}
