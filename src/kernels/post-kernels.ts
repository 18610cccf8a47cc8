import { growTo, instantiateKernels } from './load.js';

interface PostExports {
  memory: WebAssembly.Memory;
  quantise(src: number, dst: number, n: number, lo: number, hi: number, scale: number): void;
  argmax(src: number, dst: number, width: number, rows: number, stride: number, plane: number, classes: number): void;
}

/**
 * The post-processing kernels (src/kernels/post.wat: WebAssembly SIMD) and their memory. The memory holds
 * an output area, where the runtime writes a model's output (`outputArea`), and behind it the scratch
 * tile the kernels write; each call copies its tile out. Quantising a 12 × 448² output took 3.4 ms here
 * against 15–23 ms in JavaScript, and the argmax of 4 × 448² classes 0.3 against 6.2 ms.
 */
export class PostKernels {
  private readonly k: PostExports;
  private area = 0;

  constructor() {
    this.k = instantiateKernels('post') as unknown as PostExports;
  }

  /**
   * A float32 array of `elements` in the kernels' memory, for a model's output. Valid until the next
   * outputArea call: a larger area grows the memory, which detaches every view on it. The memory behind
   * it is reserved now for the scratch tiles, so post-processing one batch slot after another never
   * grows it under the caller's view of the whole batch (a slot's tile is never larger than its output).
   */
  outputArea(elements: number): Float32Array {
    this.reserve(elements * 4, elements * 4);
    return new Float32Array(this.k.memory.buffer, 0, elements);
  }

  /**
   * Per sample of `channels` planes of `side`², the `tile`² square at (`from`, `from`): clamp to
   * [lo, hi], scale, round half up to uint16 (NaN gives lo); lo ≥ 0 and hi × scale ≤ 65535. `out` is
   * one batch slot; where it is not the output area it is copied there first.
   */
  quantise(out: Float32Array, channels: number, side: number, tile: number, from: number, lo: number, hi: number, scale: number, into: Uint16Array): Uint16Array {
    const src = this.place(out);
    const dst = this.scratch(into.byteLength);
    const plane = side * side;
    if (side === tile && from === 0) this.k.quantise(src, dst, channels * plane, lo, hi, scale);
    else {
      for (let ch = 0; ch < channels; ch++) {
        for (let r = 0; r < tile; r++) {
          const at = (ch * plane + (from + r) * side + from) * 4;
          this.k.quantise(src + at, dst + (ch * tile + r) * tile * 2, tile, lo, hi, scale);
        }
      }
    }
    into.set(new Uint16Array(this.k.memory.buffer, dst, into.length));
    return into;
  }

  /** Per pixel of the `tile`² square at (`from`, `from`) of `classes` planes of `side`²: the first class with the largest logit. */
  argmax(out: Float32Array, classes: number, side: number, tile: number, from: number, into: Uint8Array): Uint8Array {
    const src = this.place(out);
    const dst = this.scratch(into.byteLength);
    this.k.argmax(src + (from * side + from) * 4, dst, tile, tile, side, side * side, classes);
    into.set(new Uint8Array(this.k.memory.buffer, dst, into.length));
    return into;
  }

  /** Where `out` starts in the kernels' memory; copied to the output area if it is elsewhere. */
  private place(out: Float32Array): number {
    if (out.buffer === this.k.memory.buffer) return out.byteOffset;
    this.outputArea(out.length).set(out);
    return 0;
  }

  /** The scratch tile's offset, behind the output area, with room for `bytes`. */
  private scratch(bytes: number): number {
    this.reserve(this.area, bytes);
    return this.area;
  }

  private reserve(area: number, scratch: number): void {
    // The output area only grows, so a scratch tile behind it never overlaps an output in use.
    this.area = Math.max(this.area, Math.ceil(area / 16) * 16);
    growTo(this.k.memory, this.area + scratch);
  }
}
