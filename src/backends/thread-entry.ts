/**
 * Worker-thread side of the threaded backends: loads the job's models with the ordinary backend code
 * and runs the batches the main thread asks for, one at a time, on inputs sent over the feed
 * (src/backends/feed.ts), so inference overlaps reading and writing without two runtimes
 * competing for the cores.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { JobModel } from '../runner/job.js';
import { currentThreadId, processThreadIds } from '../runner/thread-priority.js';
import type { BackendOptions, InferenceBackend, TensorF32 } from './backend.js';
import { postProcess, type PostProcess } from '../runner/postprocess.js';
import { PostKernels } from '../kernels/post-kernels.js';
import { serialiseError, type ThreadError } from '../util/thread-error.js';
import { FeedReceiver, type FedInput } from './feed.js';
import { createBackend } from './index.js';
import { idleBefore, type RunIdle } from './run-idle.js';

/**
 * A run's input is on the feed (`fed`, src/backends/feed.ts). The model writes its output into the
 * post-processing kernels' memory (src/kernels/post-kernels.ts), shaped as `post` says, and the reply
 * carries the finished output tiles, filled into the tiles of `reuse` (written ones, sent back) where
 * there are any. With `discard` (the inference floor) nothing is post-processed and no tile comes back.
 */
export type ThreadRequest =
  | { id: number; model: number; fed: FedInput; dims: TensorF32['dims']; post: PostProcess; reuse?: (Uint16Array | Uint8Array)[]; discard?: boolean }
  | { id: number; feed: MessagePort }
  | { id: number; release: true };
export type ThreadReply =
  | { ready: true; descriptions: ReturnType<InferenceBackend['describe']>[]; threadIds: number[] }
  | { id: number; tiles: (Uint16Array | Uint8Array)[]; ms: number; postMs: number; idle: RunIdle }
  | { id: number; attached: true }
  | { id: number; released: true }
  | { id?: number; error: ThreadError };

const { models, opts } = workerData as { models: JobModel[]; opts: Omit<BackendOptions, 'device'> };
const port = parentPort!;

const backends: InferenceBackend[] = [];
const kernels = new PostKernels();
let feed: FeedReceiver | undefined;
/** When the last run (and its post-processing) ended, for the idle time before the next (src/backends/run-idle.ts). */
let lastEnd: number | undefined;
try {
  // The threads that appear while the models load are the runtimes' own (intra-op pools): with this
  // one they are the inference threads, which the engine leaves at normal priority.
  const before = new Set(processThreadIds() ?? []);
  for (const model of models) backends.push(await createBackend(model, opts));
  const own = currentThreadId();
  const threadIds = own === undefined ? [] : [own, ...(processThreadIds() ?? []).filter((t) => !before.has(t))];
  port.postMessage({ ready: true, descriptions: backends.map((b) => b.describe()), threadIds } satisfies ThreadReply);
  // Requests are served strictly in order: a queue, not concurrent handlers, keeps one model running at a time.
  let queue = Promise.resolve();
  port.on('message', (req: ThreadRequest) => {
    const arrived = performance.now();
    queue = queue.then(() => serve(req, arrived));
  });
} catch (err) {
  await Promise.all(backends.map((b) => b.release().catch(() => undefined)));
  port.postMessage({ error: serialiseError(err) } satisfies ThreadReply);
}

async function serve(req: ThreadRequest, arrived: number): Promise<void> {
  if ('release' in req) {
    await Promise.all(backends.map((b) => b.release().catch(() => undefined)));
    port.postMessage({ id: req.id, released: true } satisfies ThreadReply);
    return;
  }
  if ('feed' in req) {
    feed = new FeedReceiver(req.feed);
    port.postMessage({ id: req.id, attached: true } satisfies ThreadReply);
    return;
  }
  try {
    const input = await fedInput(req.fed);
    const [n, , h, w] = req.dims;
    const outDims: TensorF32['dims'] = [n, req.post.channels, h, w];
    // Each run's output goes to the same memory, where the kernels read it: no new array per block.
    const into = { data: kernels.outputArea(n * req.post.channels * h * w), dims: outDims };
    const t = performance.now();
    const idle = idleBefore(lastEnd, arrived, t);
    let out = await backends[req.model].run({ data: input, dims: req.dims }, into);
    const ran = performance.now();
    const ms = ran - t;
    // The input may be given away below: an output on the same memory needs its own.
    if (out.data.buffer === input.buffer) out = { data: out.data.slice(), dims: out.dims };
    // The input goes back to its producer at once, to be refilled while this output is finished.
    feed!.giveBack(req.fed.input, input);
    const tiles = req.discard ? [] : postProcess(req.post, out, kernels, () => req.reuse?.pop());
    lastEnd = performance.now();
    port.postMessage({ id: req.id, tiles, ms, postMs: lastEnd - ran, idle } satisfies ThreadReply, tiles.map((x) => x.buffer as ArrayBuffer));
  } catch (err) {
    port.postMessage({ error: serialiseError(err), id: req.id } satisfies ThreadReply);
  }
}

function fedInput(which: FedInput): Promise<Float32Array> {
  if (!feed) return Promise.reject(new Error('a run asked for a fed input before a feed was attached'));
  return feed.take(which);
}
