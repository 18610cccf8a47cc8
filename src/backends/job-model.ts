import type { ModelManifest } from '../models/manifest.js';
import type { JobModel } from '../runner/job.js';
import type { BackendKind } from './backend.js';
import { ExecToolSchema, type ExecToolInput } from './exec-tool.js';

/** A device as a target profile lists it: its name, the backend serving it, and for exec the tool. */
export interface ServedDevice {
  name: string;
  backend: BackendKind;
  exec?: ExecToolInput;
}

/** What the runner needs to run one stage's model on a device of the target. */
export function jobModelFor(manifest: ModelManifest, filePath: string | undefined, device: ServedDevice): JobModel {
  // The runner implements builtin models itself, whichever backend serves the device; createBackend
  // refuses them on anything but the CPU.
  const backend = manifest.format === 'builtin' ? 'builtin' : device.backend;
  return {
    manifest,
    path: filePath,
    backend,
    device: device.name,
    exec: backend === 'exec' && device.exec ? ExecToolSchema.parse(device.exec) : undefined,
  };
}
