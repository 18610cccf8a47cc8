import { modelError } from '../errors.js';
import type { JobModel } from '../runner/job.js';
import type { BackendOptions, InferenceBackend } from './backend.js';
import { createBuiltinBackend } from './builtin.js';
import { checkBackendServes } from './capabilities.js';
import { createOnnxruntimeBackend } from './onnxruntime.js';

export async function createBackend(model: JobModel, opts: Omit<BackendOptions, 'device'>): Promise<InferenceBackend> {
  if (model.backend === 'builtin') {
    checkBackendServes('builtin', model.manifest, model.device);
    return createBuiltinBackend(model.manifest);
  }
  if (!model.path) throw modelError(`model ${model.manifest.id} has no file path in the job`, 'give the model file in the job');
  const options: BackendOptions = { ...opts, device: model.device, performanceHint: opts.performanceHint ?? model.performanceHint };
  switch (model.backend) {
    case 'onnxruntime':
      return createOnnxruntimeBackend(model.manifest, model.path, options);
    // Loaded on use: the exec backend brings zod (about 90 ms to import), and the inference thread's
    // start is on the critical path of every run.
    case 'openvino':
      return (await import('./openvino.js')).createOpenvinoBackend(model.manifest, model.path, options);
    case 'exec':
      if (!model.exec) throw modelError(`device ${model.device} is served by the exec backend, but the job gives no command`, 'add "exec": {"command": [...]} to the device in the target profile');
      return (await import('./exec.js')).createExecBackend(model.manifest, model.path, model.exec, options);
  }
}
