import { performance } from 'node:perf_hooks';
import { Bench } from 'tinybench';
import type { BackendDescription, TensorF32 } from '../backends/backend.js';
import { createBackend } from '../backends/index.js';
import { modelError } from '../errors.js';
import type { ModelManifest } from '../models/manifest.js';
import type { BenchResult } from '../results/schema.js';
import type { BenchJob } from './job.js';

export interface BenchOutcome {
  result: BenchResult;
  backend: BackendDescription;
}

function checkPatch(m: ModelManifest, patch: number): void {
  if (m.spatial.kind === 'fixed' && (m.spatial.width !== patch || m.spatial.height !== patch)) {
    throw modelError(`model ${m.id} takes fixed ${m.spatial.width}×${m.spatial.height} inputs, not --patch ${patch}`, `use --patch ${m.spatial.width}, or a model with dynamic size`);
  }
  if (m.spatial.kind === 'dynamic' && patch % m.spatial.multipleOf !== 0) {
    throw modelError(`model ${m.id} needs a patch side divisible by ${m.spatial.multipleOf}, got ${patch}`, `use a --patch that is a multiple of ${m.spatial.multipleOf}`);
  }
}

/** Reflectance-like values, deterministic: runtimes can take faster paths on all-zero inputs. */
export function benchInput(bands: number, patch: number, batch: number): TensorF32 {
  const data = new Float32Array(batch * bands * patch * patch);
  let s = 0x9e3779b9;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = ((s >>> 0) / 0xffffffff) * 0.5;
  }
  return { data, dims: [batch, bands, patch, patch] };
}

/**
 * Times one model on one device: session creation and the first call apart (the cold start a tile run
 * pays once), then the steady state — tinybench around `run` in this process, or, for an external tool,
 * the latency the tool measured on the device.
 */
export async function runBench(job: BenchJob): Promise<BenchOutcome> {
  const m = job.model.manifest;
  checkPatch(m, job.patch);
  const input = benchInput(m.inputBands.length, job.patch, job.batch);
  const t0 = performance.now();
  const backend = await createBackend(job.model, { intraOpThreads: job.threads, interOpThreads: 0 });
  try {
    const setupMs = performance.now() - t0;
    const mpx = (job.batch * job.patch * job.patch) / 1e6;
    let cold: BenchResult['cold'];
    let steady: BenchResult['steady'];
    if (backend.measure) {
      // The tool loads the model in its own process: only it can tell load and first call apart.
      const t = await backend.measure(input, job.toolIterations);
      const mean = t.latencyMs.mean ?? t.latencyMs.median;
      cold = { sessionMs: t.loadMs ?? null, firstInferenceMs: t.firstInferenceMs ?? null };
      steady = { source: 'tool', iterations: t.iterations, meanMs: mean, p50Ms: t.latencyMs.median, p99Ms: null, minMs: t.latencyMs.min ?? null, maxMs: t.latencyMs.max ?? null, rmePct: null, mpxPerS: mpx / (mean / 1000) };
    } else {
      const t1 = performance.now();
      await backend.run(input);
      cold = { sessionMs: setupMs, firstInferenceMs: performance.now() - t1 };
      const bench = new Bench({ time: job.timeMs, iterations: job.minIterations, warmupIterations: 3, throws: true });
      bench.add('infer', async () => {
        await backend.run(input);
      });
      await bench.run();
      const r = bench.tasks[0].result;
      if (r.state !== 'completed') throw modelError(`the benchmark of ${m.id} ended ${r.state}`, 'run it again; check the device is not shared');
      const l = r.latency;
      steady = { source: 'tinybench', iterations: l.samplesCount, meanMs: l.mean, p50Ms: l.p50, p99Ms: l.p99, minMs: l.min, maxMs: l.max, rmePct: l.rme, mpxPerS: mpx / (l.mean / 1000) };
    }
    return { result: { patch: job.patch, batch: job.batch, cold, steady }, backend: backend.describe() };
  } finally {
    await backend.release();
  }
}
