import { performance } from 'node:perf_hooks';
import { blockSource, blocks } from '../raster/patch-grid.js';
import type { RunnerSummary } from './events.js';
import type { Job } from './job.js';
import { prepareJob, releasePrepared, type RunHooks } from './prepare.js';
import { fillModelInput, type RawSamples } from './tensors.js';
import { scheduleBehindInference, summarise } from './run-job.js';
import type { TimedTensor } from '../backends/threaded.js';

/**
 * The inference floor: the same models, on the same number of patches of the same shape, on tensors
 * already in memory — no reading, no pre/post-processing, no writing. What an end-to-end run costs above
 * this is the harness's own overhead. The tensors hold the input's first block, so the models see real
 * values rather than zeros (which some runtimes take faster paths for). The models run as in the engine,
 * on the inference thread with every other thread of the runner under `engine.ioPriority`. Run on the
 * main thread beside the runner's other threads at normal priority, the UNet took 5–6 % longer than
 * inside the engine (its busy time at 10 and 20 m `sc`), so end to end came out faster than its floor.
 * With `engine.floorPart` it runs only that part of the batches, and reports those patches.
 */
export async function runFloor(job: Job, hooks: RunHooks): Promise<RunnerSummary> {
  const t0 = performance.now();
  const p = await prepareJob(job, hooks, { threaded: true });
  try {
    scheduleBehindInference(job, p, hooks);
    const first = blocks(p.grid).next().value!;
    const src = blockSource(p.grid, first);
    const raw = (await p.reader.readWindow(src.x0, src.y0, src.width, src.height, p.union)) as RawSamples;
    const stageTimes: Record<string, number> = {};
    const firstInferenceMs: Record<string, number> = {};
    const batches = Math.ceil(p.grid.count / job.engine.batch);
    const part = job.engine.floorPart ?? { index: 0, of: 1 };
    const from = Math.floor((batches * part.index) / part.of);
    const to = Math.floor((batches * (part.index + 1)) / part.of);
    const patches = Math.min(p.grid.count, to * job.engine.batch) - from * job.engine.batch;
    const tensors = p.stages.map((stage) => {
      const data = new Float32Array(job.engine.batch * stage.bandIdx.length * stage.side * stage.side);
      for (let slot = 0; slot < job.engine.batch; slot++) fillModelInput(data, slot, raw, src, stage.bandIdx, stage.from, stage.side, job.input.scale, job.input.offset);
      stageTimes[stage.key] = 0;
      return data;
    });
    for (let b = from; b < to; b++) {
      const n = Math.min(job.engine.batch, p.grid.count - b * job.engine.batch);
      for (const [i, stage] of p.stages.entries()) {
        const plane = stage.bandIdx.length * stage.side * stage.side;
        const t = performance.now();
        const out: TimedTensor = await stage.backend.run({ data: tensors[i].subarray(0, n * plane), dims: [n, stage.bandIdx.length, stage.side, stage.side] });
        // The inference thread's own time, as the engine's stage times: not the message to it and back.
        const ms = out.ms ?? performance.now() - t;
        if (firstInferenceMs[stage.key] === undefined) firstInferenceMs[stage.key] = ms;
        else stageTimes[stage.key] += ms;
      }
      hooks.emit({ ev: 'progress', stage: 'floor', done: Math.min(p.grid.count, (b + 1) * job.engine.batch) - from * job.engine.batch, total: patches });
    }
    return { ...summarise(job, p, stageTimes, firstInferenceMs, performance.now() - t0, {}), patches };
  } finally {
    await releasePrepared(p);
  }
}
