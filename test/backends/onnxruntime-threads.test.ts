import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends/index.js';
import { resolveModel } from '../../src/models/registry.js';
import { usableCpus } from '../../src/util/usable-cpus.js';
import { haveShared, sharedModelsDir } from '../helpers/shared.js';

const threadCount = () => readdirSync('/proc/self/task').length;

describe.runIf(process.platform === 'linux' && haveShared('models/dtacsnet/onnx/CNN_corrector.onnx'))('onnxruntime backend: intra-op threads', () => {
  // onnxruntime's pool of n threads is the calling thread and n - 1 of its own, started with the session.
  it.each([
    ['3 when asked for 3', 3, 3],
    ['one per usable CPU when asked for 0', 0, usableCpus().cpus],
  ])('gives the runtime %s, and says so', async (_, requested, expected) => {
    const entry = resolveModel('CNN_corrector', sharedModelsDir);
    const before = threadCount();
    const backend = await createBackend({ manifest: entry.manifest, path: entry.filePath, backend: 'onnxruntime', device: 'CPU' }, { intraOpThreads: requested, interOpThreads: 1 });
    try {
      expect(threadCount() - before).toBe(expected - 1);
      expect(backend.describe().threads).toBe(expected);
    } finally {
      await backend.release();
    }
  });
});
