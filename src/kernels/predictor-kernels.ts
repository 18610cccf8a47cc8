import { growTo, instantiateKernels } from './load.js';

type Rows = (at: number, n: number, rows: number) => void;
/** As Rows, and whether a result equals `find`: 1 or 0. */
type RowsFinding = (at: number, n: number, rows: number, find: number) => number;

interface PredictorExports {
  memory: WebAssembly.Memory;
  difference8: Rows;
  difference16: Rows;
  accumulate8: RowsFinding;
  accumulate16: RowsFinding;
}

/**
 * TIFF horizontal differencing (Predictor 2) of 8- and 16-bit samples, applied and undone in place, row by
 * row, in WebAssembly SIMD (src/kernels/predictor.wat). Each call copies the samples into the kernels'
 * memory and back: a tile or block is small enough that both copies stay in the cache.
 */
export class PredictorKernels {
  private readonly k: PredictorExports;

  constructor() {
    this.k = instantiateKernels('predictor') as unknown as PredictorExports;
  }

  /** Each sample minus the one before it in its row of `rowLength` (the encoder's side). */
  difference(data: Uint8Array | Uint16Array, rowLength: number): void {
    this.inPlace(data, rowLength, data.BYTES_PER_ELEMENT === 1 ? this.k.difference8 : this.k.difference16);
  }

  /**
   * Each sample plus all before it in its row of `rowLength` (what undoes difference). Returns whether
   * any sample now holds `find` (a sample's bits), found on the way at almost no cost; false without one.
   */
  accumulate(data: Uint8Array | Uint16Array, rowLength: number, find?: number): boolean {
    const kernel = data.BYTES_PER_ELEMENT === 1 ? this.k.accumulate8 : this.k.accumulate16;
    const found = this.inPlace(data, rowLength, (at, n, rows) => kernel(at, n, rows, find ?? 0));
    return find !== undefined && found === 1;
  }

  private inPlace<T>(data: Uint8Array | Uint16Array, rowLength: number, kernel: (at: number, n: number, rows: number) => T): T {
    if (data.length % rowLength !== 0) throw new RangeError(`${data.length} samples are not whole rows of ${rowLength}`);
    growTo(this.k.memory, data.byteLength);
    const view = new (data.constructor as Uint8ArrayConstructor | Uint16ArrayConstructor)(this.k.memory.buffer, 0, data.length);
    view.set(data);
    const result = kernel(0, rowLength, data.length / rowLength);
    data.set(view);
    return result;
  }
}

let shared: PredictorKernels | undefined;

/** This thread's kernels, instantiated on first use. */
export function predictorKernels(): PredictorKernels {
  shared ??= new PredictorKernels();
  return shared;
}
