import { modelError } from '../errors.js';
import type { ModelManifest } from '../models/manifest.js';
import type { BackendKind } from './backend.js';

type Format = ModelManifest['format'];

/**
 * What each runtime can read and where it can run, checked before any session is created so a wrong
 * pairing fails with a fix instead of a runtime's stack trace. `exec` runs whatever the target's tool
 * runs, so its devices are whatever the profile names.
 */
export const BACKEND_FORMATS: Record<BackendKind, readonly Format[]> = {
  onnxruntime: ['onnx'],
  openvino: ['onnx', 'openvino-ir'],
  exec: ['onnx', 'openvino-ir'],
  builtin: ['builtin'],
};

export const BACKEND_DEVICES: Record<BackendKind, readonly string[] | 'any'> = {
  /** GPU is the CUDA execution provider (gcp-vm-t4); WEBGPU is Dawn, where the platform has it. */
  onnxruntime: ['CPU', 'GPU', 'CUDA', 'WEBGPU'],
  /** MYRIAD is absent on purpose: OpenVINO dropped its plugin in 2023.0, and openvino-node is newer. */
  openvino: ['CPU', 'GPU', 'NPU', 'AUTO'],
  exec: 'any',
  builtin: ['CPU'],
};

const FORMAT_FIX: Record<Format, string> = {
  onnx: 'use the onnx build of this model',
  'openvino-ir': 'serve this device with the openvino or exec backend (target profile), or use the ONNX build of the model',
  builtin: 'builtin models run in the runner only: use --device CPU',
};

/** Refuses a model a backend cannot read, or a device it cannot drive. */
export function checkBackendServes(kind: BackendKind, manifest: ModelManifest, device: string): void {
  if (!BACKEND_FORMATS[kind].includes(manifest.format)) {
    throw modelError(`the ${kind} backend cannot read ${manifest.format} model ${manifest.id}`, FORMAT_FIX[manifest.format]);
  }
  const devices = BACKEND_DEVICES[kind];
  const name = device.toUpperCase();
  if (devices !== 'any' && !devices.includes(name)) {
    const myriad = name === 'MYRIAD' ? ' (a Myriad-X needs OpenVINO 2022.3 on the board: serve it with the exec backend and benchmark_app)' : '';
    throw modelError(`the ${kind} backend cannot run on device ${device}${myriad}`, `its devices are ${devices.join(', ')}; pick another --device or backend`);
  }
}
