import type { TensorF32 } from '../backends/backend.js';
import { modelError } from '../errors.js';
import type { PostKernels } from '../kernels/post-kernels.js';

/**
 * How a stage's model output becomes output tiles, as plain data so it can travel to the inference
 * thread: there it runs right after inference, on the output the runtime wrote into the kernels' memory,
 * and the tiles it sends back are a quarter (AC, uint16) or a sixteenth (SC, uint8) of the float output.
 * AC: clamp reflectance to `clamp`, scale back to DN, round half up to uint16 (nodata is applied
 * afterwards, by applyNodata). SC: the argmax over the class logits.
 */
export type PostProcess = { model: string; channels: number; side: number; tile: number; from: number } & (
  | { kind: 'quantise'; clamp: [number, number]; scale: number }
  | { kind: 'argmax' }
);

/**
 * `reuse` hands out a written tile of this stage to fill again, if there is one: a new 12 × 448² uint16
 * tile per block is 4.8 MB of fresh, zeroed memory, and new memory is what makes V8 collect garbage.
 */
export function postProcess(spec: PostProcess, out: TensorF32, kernels: PostKernels, reuse?: () => Uint16Array | Uint8Array | undefined): (Uint16Array | Uint8Array)[] {
  const [n, channels, h, w] = out.dims;
  if (channels !== spec.channels || h !== spec.side || w !== spec.side) {
    throw modelError(
      `model ${spec.model} returned [${out.dims.join(',')}], expected [${n},${spec.channels},${spec.side},${spec.side}]`,
      'check the manifest (output bands / classes) against the model file',
    );
  }
  const slotLength = channels * spec.side * spec.side;
  const tileLength = spec.tile * spec.tile;
  return Array.from({ length: n }, (_, slot) => {
    const data = out.data.subarray(slot * slotLength, (slot + 1) * slotLength);
    if (spec.kind === 'argmax') return kernels.argmax(data, channels, spec.side, spec.tile, spec.from, (reuse?.() as Uint8Array | undefined) ?? new Uint8Array(tileLength));
    const lo = Math.max(spec.clamp[0], 0);
    const hi = Math.min(spec.clamp[1], 65535 / spec.scale);
    const into = (reuse?.() as Uint16Array | undefined) ?? new Uint16Array(channels * tileLength);
    return kernels.quantise(data, channels, spec.side, spec.tile, spec.from, lo, hi, spec.scale, into);
  });
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
