/**
 * One interface for every runtime that can execute a model build on a device. The runner only sees this,
 * so adding a runtime (OpenVINO, an external tool for a Myriad-X) never touches the pipeline.
 */
import { usableCpus } from '../util/usable-cpus.js';

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
  /** The threads the runtime was given for its CPU work, where it takes a count (`intraOpThreads`, resolved). */
  threads?: number;
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
  /** 0: one per CPU this process may use (see `cpuThreads`). */
  intraOpThreads: number;
  interOpThreads: number;
  /** OpenVINO's PERFORMANCE_HINT; other runtimes have no such switch. */
  performanceHint?: PerformanceHint;
}

/**
 * The thread count a runtime is given: the one asked for, or with 0 one per CPU this process may use
 * (src/util/usable-cpus.ts). Not the runtime's own default: onnxruntime counts physical cores from what
 * the CPU reports of itself, and on a 2-vCPU VM whose hypervisor reports one core (this machine, from
 * session 13) it ran the UNet on one thread, 222 ms a patch against 127 ms on two; nor does it see a
 * cgroup's CPU quota, so a 4-CPU flatsat emulation on a large host would get a thread per host core.
 */
export function cpuThreads(requested: number): number {
  return requested > 0 ? requested : usableCpus().cpus;
}
