import { modelError } from '../errors.js';
import { mapBands } from '../raster/bands.js';
import type { ModelManifest } from '../models/manifest.js';
import type { InferenceBackend, TensorF32 } from './backend.js';

/** Models the runner implements itself, so the tool runs with no downloaded model. */
export const BUILTIN_MODELS: Record<string, (m: ModelManifest) => InferenceBackend> = {
  /** The paper's "no atmospheric correction" row: the output is the TOA input, band for band. */
  'no-correction': (manifest) => {
    const pick = mapBands(manifest.inputBands, manifest.outputBands ?? [], `model ${manifest.id}`);
    return {
      describe: () => ({ backend: 'builtin', device: 'CPU', version: '1' }),
      async run(input: TensorF32): Promise<TensorF32> {
        const [n, c, h, w] = input.dims;
        const plane = h * w;
        const out = new Float32Array(n * pick.length * plane);
        for (let b = 0; b < n; b++) {
          for (let o = 0; o < pick.length; o++) {
            const src = (b * c + pick[o]) * plane;
            out.set(input.data.subarray(src, src + plane), (b * pick.length + o) * plane);
          }
        }
        return { data: out, dims: [n, pick.length, h, w] };
      },
      release: async () => undefined,
    };
  },
};

export function createBuiltinBackend(manifest: ModelManifest): InferenceBackend {
  const factory = BUILTIN_MODELS[manifest.id];
  if (!factory) {
    throw modelError(`no builtin model named ${manifest.id}`, `builtin models are: ${Object.keys(BUILTIN_MODELS).join(', ')}`);
  }
  return factory(manifest);
}
