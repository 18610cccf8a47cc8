import { modelError } from '../errors.js';
import type { PerformanceHint } from './backend.js';

/**
 * The parts of the OpenVINO backend that need no runtime: which device name to compile for, and what to
 * ask the plugin for. They are tested here, where openvino-node cannot install.
 */

/**
 * The device to compile for: an exact name the runtime lists, or the first instance of a family
 * (`GPU` → `GPU.0` on a multi-GPU host). AUTO is OpenVINO's own device choice and is always there.
 */
export function selectOpenvinoDevice(requested: string, available: string[]): string {
  const want = requested.toUpperCase();
  if (want === 'AUTO') return want;
  const found = available.find((d) => d.toUpperCase() === want) ?? available.find((d) => d.toUpperCase().startsWith(`${want}.`));
  if (!found) {
    throw modelError(`OpenVINO has no device ${requested} on this machine (it lists ${available.join(', ') || 'none'})`, 'pick a listed device, or install its driver (GPU: intel-opencl-icd; NPU: the NPU driver)');
  }
  return found;
}

/** What each plugin computes in unless told otherwise; recorded so an FP16 device is never taken for FP32. */
export function inferencePrecision(device: string): 'f32' | 'f16' {
  return device.toUpperCase().startsWith('CPU') ? 'f32' : 'f16';
}

/**
 * Properties for compileModel. The CPU plugin is pinned to f32 because on CPUs with AMX/avx512_bf16 it
 * would otherwise pick bf16, which is a different model than the one measured elsewhere.
 */
export function compileConfig(device: string, hint: PerformanceHint, threads: number): Record<string, string | number> {
  const config: Record<string, string | number> = { PERFORMANCE_HINT: hint };
  if (device.toUpperCase().startsWith('CPU')) {
    config.INFERENCE_PRECISION_HINT = 'f32';
    if (threads > 0) config.INFERENCE_NUM_THREADS = threads;
  }
  return config;
}
