import { performance } from 'node:perf_hooks';
import { MessageChannel } from 'node:worker_threads';
import type { FeedBatch, FeedReturn } from '../backends/feed.js';
import { blockSource, blocks } from '../raster/patch-grid.js';
import type { RunnerSummary } from './events.js';
import type { Job } from './job.js';
import { prepareJob, releasePrepared, type RunHooks } from './prepare.js';
import { fillModelInput, type RawSamples } from './tensors.js';
import { scheduleBehindInference, summarise } from './run-job.js';

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
  const p = await prepareJob(job, hooks);
  try {
    await scheduleBehindInference(job, p, hooks);
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
    const planeOf = (stage: (typeof p.stages)[number]) => stage.bandIdx.length * stage.side * stage.side;
    const tensors = p.stages.map((stage) => {
      const data = new Float32Array(job.engine.batch * planeOf(stage));
      for (let slot = 0; slot < job.engine.batch; slot++) fillModelInput(data, slot, raw, src, stage.bandIdx, stage.from, stage.side, job.input.scale, job.input.offset);
      stageTimes[stage.key] = 0;
      return data;
    });
    // The inputs reach the inference thread over a feed and come back after each run, as in the engine
    // (src/backends/feed.ts). Sent with each request instead, a fresh copy per run, they made the models
    // 6–10 % slower than inside the engine (20 m `sc`: a 42.2 s floor against the engine's 38.4 s of
    // inference), so end to end came out below its floor.
    const feed = new MessageChannel();
    await p.attachFeed(feed.port2);
    const returned = p.stages.map(() => [] as Float32Array[]);
    let wake: (() => void) | undefined;
    feed.port1.on('message', (m: FeedReturn) => {
      returned[m.input].push(m.data);
      wake?.();
    });
    const takeBack = async (i: number) => {
      while (returned[i].length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return returned[i].pop()!;
    };
    let inputs: Float32Array[] = tensors;
    try {
      for (let b = from; b < to; b++) {
        const n = Math.min(job.engine.batch, p.grid.count - b * job.engine.batch);
        // A short last batch gets inputs of its own size, as in the engine: the models take the whole buffer.
        const sent = n === job.engine.batch ? inputs : inputs.map((x, i) => x.slice(0, n * planeOf(p.stages[i])));
        feed.port1.postMessage({ batch: b, inputs: sent } satisfies FeedBatch, sent.map((x) => x.buffer as ArrayBuffer));
        for (const [i, stage] of p.stages.entries()) {
          // The output goes where the engine's does, and is dropped there.
          const r = await stage.backend.runFed({ batch: b, input: i }, [n, stage.bandIdx.length, stage.side, stage.side], stage.post, { discard: true });
          // The inference thread's own time, as the engine's stage times: not the message to it and back.
          if (firstInferenceMs[stage.key] === undefined) firstInferenceMs[stage.key] = r.ms;
          else stageTimes[stage.key] += r.ms;
        }
        if (n === job.engine.batch) {
          const back: Float32Array[] = [];
          for (let i = 0; i < p.stages.length; i++) back.push(await takeBack(i));
          inputs = back;
        }
        hooks.emit({ ev: 'progress', stage: 'floor', done: Math.min(p.grid.count, (b + 1) * job.engine.batch) - from * job.engine.batch, total: patches });
      }
    } finally {
      feed.port1.close();
    }
    return { ...summarise(job, p, stageTimes, firstInferenceMs, performance.now() - t0, {}), patches };
  } finally {
    await releasePrepared(p);
  }
}
