import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends/index.js';
import { PostKernels } from '../../src/kernels/post-kernels.js';
import { resolveModel } from '../../src/models/registry.js';
import { haveShared, sharedModelsDir } from '../helpers/shared.js';

const opts = { intraOpThreads: 1, interOpThreads: 1 };

describe.runIf(haveShared('models/dtacsnet/onnx/CNN_corrector.onnx'))('onnxruntime backend: output into given memory', () => {
  it('writes the real corrector output into the kernels memory, equal to its own output', async () => {
    const entry = resolveModel('CNN_corrector', sharedModelsDir);
    const backend = await createBackend({ manifest: entry.manifest, path: entry.filePath, backend: 'onnxruntime', device: 'CPU' }, opts);
    try {
      const side = 24;
      const data = new Float32Array(13 * side * side).map((_, i) => ((i * 7919) % 3000) / 10000);
      const own = await backend.run({ data, dims: [1, 13, side, side] });
      const area = new PostKernels().outputArea(12 * side * side).fill(Number.NaN);
      const into = await backend.run({ data, dims: [1, 13, side, side] }, { data: area, dims: [1, 12, side, side] });
      expect(into.data).toBe(area);
      expect(into.dims).toEqual([1, 12, side, side]);
      expect(Array.from(area)).toEqual(Array.from(own.data));
      // An output shape the model does not give is the manifest's fault, and says so.
      const wrong = new Float32Array(13 * side * side);
      await expect(backend.run({ data, dims: [1, 13, side, side] }, { data: wrong, dims: [1, 13, side, side] })).rejects.toThrow(
        /model CNN_corrector did not give an output of \[1,13,24,24\] for an input of \[1,13,24,24\]/,
      );
    } finally {
      await backend.release();
    }
  });
});
