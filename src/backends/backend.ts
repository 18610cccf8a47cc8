/**
 * One interface for every runtime that can execute a model build on a device. The runner only sees this,
 * so adding a runtime (OpenVINO, an external tool for a Myriad-X) never touches the pipeline.
 */
export interface TensorF32 {
  data: Float32Array;
  /** NCHW */
  dims: [number, number, number, number];
}

export const BACKEND_KINDS = ['onnxruntime', 'openvino', 'exec', 'builtin'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export interface BackendDescription {
  backend: BackendKind;
  device: string;
  version: string;
  /** What the device computes in, where the runtime says (an FP16 device is never taken for FP32). */
  precision?: string;
}

/**
 * Latency an external tool measured on the device itself. Its process start and model load would swamp a
 * per-inference timer taken from outside, so an exec backend reports what the tool saw.
 */
export interface ToolTiming {
  iterations: number;
  latencyMs: { median: number; mean?: number; min?: number; max?: number };
  loadMs?: number;
  firstInferenceMs?: number;
  throughputFps?: number;
  /** The tool's own wall time for the measured loop. */
  durationMs?: number;
}

export interface InferenceBackend {
  describe(): BackendDescription;
  /**
   * Runs one batch. The input may be reused by the caller after the promise resolves. `into`, where the
   * caller knows the output's shape, is memory the output may be written to (and returned in); a backend
   * may ignore it and return an array of its own.
   */
  run(input: TensorF32, into?: TensorF32): Promise<TensorF32>;
  /** Only backends whose inference happens in another process: the tool's own timing of `iterations` runs. */
  measure?(input: TensorF32, iterations: number): Promise<ToolTiming>;
  release(): Promise<void>;
}

export const PERFORMANCE_HINTS = ['LATENCY', 'THROUGHPUT'] as const;
export type PerformanceHint = (typeof PERFORMANCE_HINTS)[number];

export interface BackendOptions {
  device: string;
  intraOpThreads: number;
  interOpThreads: number;
  /** OpenVINO's PERFORMANCE_HINT; other runtimes have no such switch. */
  performanceHint?: PerformanceHint;
}
