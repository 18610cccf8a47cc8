import { modelError } from '../errors.js';
import type { ModelManifest } from '../models/manifest.js';
import { cpuThreads, type BackendOptions, type InferenceBackend, type TensorF32 } from './backend.js';
import { checkBackendServes } from './capabilities.js';

type Ort = typeof import('onnxruntime-node');

/** onnxruntime-node is loaded on first use so commands that run no model start fast. */
let ortModule: Promise<Ort> | undefined;
function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node');
  return ortModule;
}

const EXECUTION_PROVIDERS: Record<string, string> = { CPU: 'cpu', GPU: 'cuda', CUDA: 'cuda', WEBGPU: 'webgpu' };

/**
 * The CUDA provider is not in the npm package: onnxruntime-node's postinstall fetches it from NuGet on
 * linux-x64, which machines limited to the npm registry cannot reach (REFERENCE.md).
 */
export const CUDA_INSTALL_STEP =
  'on the GPU target, with access to api.nuget.org and CUDA 12 + cuDNN 9 installed, run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` in the hil install';

function providerFix(provider: string): string {
  if (provider === 'cuda') return CUDA_INSTALL_STEP;
  if (provider === 'webgpu') return 'WebGPU needs a GPU with Vulkan/Metal/D3D12 drivers; use --device CPU or GPU where it has none';
  return 'check that the file is a valid ONNX model for this onnxruntime version';
}

export async function createOnnxruntimeBackend(manifest: ModelManifest, modelPath: string, opts: BackendOptions): Promise<InferenceBackend> {
  checkBackendServes('onnxruntime', manifest, opts.device);
  const ort = await loadOrt();
  const provider = EXECUTION_PROVIDERS[opts.device.toUpperCase()];
  const listed = ort.listSupportedBackends().find((b) => b.name === provider);
  if (!listed) {
    throw modelError(`this onnxruntime-node build has no ${provider} execution provider for device ${opts.device}`, providerFix(provider));
  }
  const threads = cpuThreads(opts.intraOpThreads);
  let session: import('onnxruntime-node').InferenceSession;
  try {
    const options: import('onnxruntime-node').InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      // The memory pattern plans one block for all of a run's intermediate tensors and keeps it per input
      // shape; without it they come from the arena one by one. Measured on the UNet and the corrector
      // (session 5, two runs each): peak RSS of a full 10 m `both` 919–947 MB against 1022 MB both times,
      // of the 20 m `both` floor 437–440 MB against 504–511 MB, and the same times (10 m `both` 82–88 s
      // either way, that floor 16.3–17.0 s). The arena itself stays: without it 20 m `both` took 23 %
      // longer.
      enableMemPattern: false,
      // Idle intra-op threads sleep instead of spinning: the engine's reading, encoding and other model
      // share the cores, and spinning threads would take their time.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    };
    options.intraOpNumThreads = threads;
    if (opts.interOpThreads > 0) options.interOpNumThreads = opts.interOpThreads;
    session = await ort.InferenceSession.create(modelPath, options);
  } catch (err) {
    throw modelError(`onnxruntime could not load ${modelPath} on ${opts.device} (${provider}): ${(err as Error).message.split('\n')[0]}`, providerFix(provider));
  }
  const inputName = manifest.inputName ?? session.inputNames[0];
  const outputName = manifest.outputName ?? session.outputNames[0];
  return {
    describe: () => ({ backend: 'onnxruntime', device: opts.device.toUpperCase(), version: ort.env.versions.node ?? 'unknown', threads }),
    async run(input: TensorF32, into?: TensorF32): Promise<TensorF32> {
      const tensor = new ort.Tensor('float32', input.data, input.dims);
      // With `into`, the runtime writes the output there. onnxruntime-node (1.30, 1.31) still returns a
      // fresh copy of it, which is left to the garbage collector here.
      const fetch = into && new ort.Tensor('float32', into.data, into.dims);
      let out: import('onnxruntime-node').InferenceSession.OnnxValueMapType;
      try {
        out = await (fetch ? session.run({ [inputName]: tensor }, { [outputName]: fetch }) : session.run({ [inputName]: tensor }));
      } catch (err) {
        if (!fetch) throw err;
        throw modelError(
          `model ${manifest.id} did not give an output of [${fetch.dims.join(',')}] for an input of [${input.dims.join(',')}]: ${(err as Error).message.split('\n')[0]}`,
          'check the manifest (output bands / classes) against the model file',
        );
      }
      const result = out[outputName];
      const dims = result.dims as number[];
      if (dims.length !== 4) throw modelError(`model ${manifest.id} returned a ${dims.length}-D output`, 'use a model with NCHW output');
      if (result.type !== 'float32') throw modelError(`model ${manifest.id} returns ${result.type}, not float32`, 'give the model float32 outputs (hil FP16 builds keep float32 inputs and outputs)');
      tensor.dispose?.();
      return { data: into ? into.data : (result.data as Float32Array), dims: [dims[0], dims[1], dims[2], dims[3]] };
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
