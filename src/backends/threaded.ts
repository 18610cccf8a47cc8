import { Worker } from 'node:worker_threads';
import { HilError } from '../errors.js';
import type { JobModel } from '../runner/job.js';
import type { BackendDescription, BackendOptions, InferenceBackend, TensorF32 } from './backend.js';
import type { PostProcess } from '../runner/postprocess.js';
import type { ThreadReply, ThreadRequest } from './thread-entry.js';

/** A backend result with the time the inference thread itself spent on it (queueing excluded). */
export type TimedTensor = TensorF32 & { ms?: number };

/** A threaded backend can also hand back finished output tiles, post-processed on its thread. */
export interface ThreadedBackend extends InferenceBackend {
  runTiles(input: TensorF32): Promise<{ tiles: (Uint16Array | Uint8Array)[]; dims: TensorF32['dims']; ms: number }>;
}

const toError = (e: { kind: string; message: string; fix?: string }) =>
  e.kind === 'internal' ? new Error(e.message) : new HilError(e.kind as HilError['kind'], e.message, e.fix);

/**
 * The job's models on one worker thread, one backend proxy per model. onnxruntime-node runs inference
 * synchronously on the calling thread, and with two intra-op threads it leaves about a third of two cores
 * idle (measured: 1.35× over one thread on the UNet); on its own thread that time goes to reading,
 * decoding and encoding. One thread for all models, not one each: two runtimes side by side oversubscribe
 * the cores (measured: the UNet three times slower). `run` copies its input when called, so the caller
 * may refill the input at once.
 */
export async function createThreadedBackends(
  models: JobModel[],
  opts: Omit<BackendOptions, 'device'>,
  post: (PostProcess | undefined)[] = [],
): Promise<ThreadedBackend[]> {
  const worker = new Worker(new URL('./thread-entry.js', import.meta.url), { workerData: { models, opts, post } });
  const waiting = new Map<number, { resolve: (r: ThreadReply) => void; reject: (e: unknown) => void }>();
  let nextId = 0;
  let failed: unknown;
  const descriptions = await new Promise<BackendDescription[]>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: ThreadReply) => ('ready' in m ? resolve(m.descriptions) : reject('error' in m ? toError(m.error) : new Error('inference thread did not start'))));
  }).catch(async (err) => {
    await worker.terminate();
    throw err;
  });
  worker.on('message', (m: ThreadReply) => {
    if (!('id' in m) || m.id === undefined) return;
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (!w) return;
    if ('error' in m) w.reject(toError(m.error));
    else w.resolve(m);
  });
  worker.on('error', (err) => {
    failed = err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  });
  const call = (req: Omit<ThreadRequest, 'id'>) =>
    new Promise<ThreadReply>((resolve, reject) => {
      if (failed) return reject(failed);
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...req, id });
    });
  let released: Promise<void> | undefined;
  const release = () =>
    (released ??= (async () => {
      if (!failed) await call({ release: true }).catch(() => undefined);
      await worker.terminate();
    })());
  return descriptions.map((description, model) => ({
    describe: () => description,
    async run(input: TensorF32): Promise<TimedTensor> {
      const r = await call({ model, data: input.data, dims: input.dims });
      if (!('data' in r)) throw new Error('the inference thread answered a run without data');
      return { data: r.data, dims: r.dims, ms: r.ms };
    },
    async runTiles(input: TensorF32) {
      const r = await call({ model, data: input.data, dims: input.dims, tiles: true });
      if (!('tiles' in r)) throw new Error('the inference thread answered a tile run without tiles');
      return { tiles: r.tiles, dims: r.dims, ms: r.ms };
    },
    release,
  }));
}
