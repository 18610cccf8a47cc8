import type { TensorF32 } from '../backends/backend.js';
import { modelError } from '../errors.js';
import { argmaxClasses, quantiseReflectance } from './tensors.js';

/**
 * How a stage's model output becomes output tiles, as plain data so it can travel to the inference
 * thread: there it runs right after inference, off the main thread, and the tiles it sends back are a
 * quarter (AC, uint16) or a sixteenth (SC, uint8) of the float output.
 */
export type PostProcess = { model: string; channels: number; side: number; tile: number; from: number } & (
  | { kind: 'quantise'; clamp: [number, number]; scale: number }
  | { kind: 'argmax' }
);

/**
 * `reuse` hands out a written tile of this stage to fill again, if there is one: a new 12 × 448² uint16
 * tile per block is 4.8 MB of fresh, zeroed memory, and new memory is what makes V8 collect garbage.
 */
export function postProcess(spec: PostProcess, out: TensorF32, reuse?: () => Uint16Array | Uint8Array | undefined): (Uint16Array | Uint8Array)[] {
  const [n, channels, h, w] = out.dims;
  if (channels !== spec.channels || h !== spec.side || w !== spec.side) {
    throw modelError(
      `model ${spec.model} returned [${out.dims.join(',')}], expected [${n},${spec.channels},${spec.side},${spec.side}]`,
      'check the manifest (output bands / classes) against the model file',
    );
  }
  return Array.from({ length: n }, (_, slot) =>
    spec.kind === 'quantise'
      ? quantiseReflectance(out.data, slot, channels, spec.side, spec.tile, spec.from, spec.clamp, spec.scale, reuse?.() as Uint16Array | undefined)
      : argmaxClasses(out.data, slot, channels, spec.side, spec.tile, spec.from, reuse?.() as Uint8Array | undefined),
  );
}

/** Writes the output's nodata into every band of a tile where the input had nodata. */
export function applyNodata(tile: Uint16Array | Uint8Array, mask: Uint8Array | undefined, value: number): void {
  if (!mask) return;
  const px = mask.length;
  const bands = tile.length / px;
  for (let p = 0; p < px; p++) {
    if (mask[p]) for (let b = 0; b < bands; b++) tile[b * px + p] = value;
  }
}
