import { modelError } from '../errors.js';
import type { JobModel } from '../runner/job.js';
import type { BackendOptions, InferenceBackend } from './backend.js';
import { createBuiltinBackend } from './builtin.js';
import { createOnnxruntimeBackend } from './onnxruntime.js';

export async function createBackend(model: JobModel, opts: Omit<BackendOptions, 'device'>): Promise<InferenceBackend> {
  if (model.backend === 'builtin') return createBuiltinBackend(model.manifest);
  if (!model.path) throw modelError(`model ${model.manifest.id} has no file path in the job`, 'give the model file in the job');
  return createOnnxruntimeBackend(model.manifest, model.path, { ...opts, device: model.device });
}
