import { modelError } from '../errors.js';
import type { ModelManifest } from '../models/manifest.js';
import { readOpenVinoIr } from '../models/openvino-ir.js';
import { cpuThreads, type BackendOptions, type InferenceBackend, type TensorF32 } from './backend.js';
import { checkBackendServes } from './capabilities.js';
import { checkIrPrecision, modelFiles } from './model-files.js';
import { compileConfig, inferencePrecision, selectOpenvinoDevice } from './openvino-config.js';

/** The slice of openvino-node's `addon` (docs.openvino.ai, Node.js API) this backend uses. */
interface OvTensor {
  data: Float32Array;
  getShape(): number[];
}
interface OvAddon {
  Core: new () => {
    getAvailableDevices(): string[];
    getVersions(device: string): Record<string, { buildNumber: string }>;
    readModel(model: string, weights?: string): Promise<unknown>;
    compileModel(model: unknown, device: string, config?: Record<string, string | number>): Promise<{
      createInferRequest(): { inferAsync(inputs: Record<string, OvTensor>): Promise<Record<string, OvTensor>> };
      inputs: { anyName: string }[];
      outputs: { anyName: string }[];
    }>;
  };
  Tensor: new (type: string, shape: number[], data: Float32Array) => OvTensor;
}

/**
 * openvino-node is optional and loaded on first use: its postinstall downloads the runtime from outside
 * the npm registry, and from 2024.4 it needs Node ≥ 21, so most hil installs do not have it.
 */
async function loadOpenvino(): Promise<OvAddon> {
  try {
    const mod = (await import(/* optional dependency */ 'openvino-node' as string)) as { addon: OvAddon };
    return mod.addon;
  } catch (err) {
    throw modelError(
      `the openvino backend needs openvino-node, which is not installed here (${(err as Error).message.split('\n')[0]})`,
      'on the target, with network access to storage.openvinotoolkit.org, run `npm install openvino-node` in the hil install (Node ≥ 21 for openvino-node ≥ 2024.4; 2024.3 on Node 20); for a Myriad-X use the exec backend with OpenVINO 2022.3',
    );
  }
}

export async function createOpenvinoBackend(manifest: ModelManifest, modelPath: string, opts: BackendOptions): Promise<InferenceBackend> {
  checkBackendServes('openvino', manifest, opts.device);
  const files = modelFiles(manifest, modelPath);
  if (manifest.format === 'openvino-ir') checkIrPrecision(manifest, await readOpenVinoIr(files.model), files.model);
  const ov = await loadOpenvino();
  const core = new ov.Core();
  const device = selectOpenvinoDevice(opts.device, core.getAvailableDevices());
  const config = compileConfig(device, opts.performanceHint ?? 'LATENCY', cpuThreads(opts.intraOpThreads));
  let compiled: Awaited<ReturnType<InstanceType<OvAddon['Core']>['compileModel']>>;
  try {
    const model = await core.readModel(files.model, files.weights);
    compiled = await core.compileModel(model, device, config);
  } catch (err) {
    throw modelError(`OpenVINO could not compile ${files.model} for ${device}: ${(err as Error).message.split('\n')[0]}`, 'check the model loads in benchmark_app on this device');
  }
  const request = compiled.createInferRequest();
  const inputName = manifest.inputName ?? compiled.inputs[0].anyName;
  const outputName = manifest.outputName ?? compiled.outputs[0].anyName;
  const version = Object.values(core.getVersions(device))[0]?.buildNumber ?? 'unknown';
  return {
    describe: () => ({ backend: 'openvino', device, version, precision: inferencePrecision(device), ...(typeof config.INFERENCE_NUM_THREADS === 'number' ? { threads: config.INFERENCE_NUM_THREADS } : {}) }),
    async run(input: TensorF32): Promise<TensorF32> {
      const out = (await request.inferAsync({ [inputName]: new ov.Tensor('f32', input.dims, input.data) }))[outputName];
      const dims = out.getShape();
      if (dims.length !== 4) throw modelError(`model ${manifest.id} returned a ${dims.length}-D output`, 'use a model with NCHW output');
      // The tensor's memory belongs to the request and is overwritten by the next inference.
      return { data: Float32Array.from(out.data), dims: [dims[0], dims[1], dims[2], dims[3]] };
    },
    release: async () => undefined,
  };
}
