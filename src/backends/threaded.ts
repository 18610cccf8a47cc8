import { Worker } from 'node:worker_threads';
import type { JobModel } from '../runner/job.js';
import type { BackendDescription, BackendOptions, InferenceBackend, TensorF32 } from './backend.js';
import type { PostProcess } from '../runner/postprocess.js';
import { deserialiseError } from '../util/thread-error.js';
import type { ThreadReply, ThreadRequest } from './thread-entry.js';

/** A backend result with the time the inference thread itself spent on it (queueing excluded). */
export type TimedTensor = TensorF32 & { ms?: number };

export type OwnedResult = { out: TimedTensor; input: Float32Array } | { tiles: (Uint16Array | Uint8Array)[]; ms: number; input: Float32Array };

export interface ThreadedBackend extends InferenceBackend {
  /**
   * Runs a batch on the input's own buffer, handed over without a copy; the result hands it back. With
   * `post`, the inference thread also post-processes and returns output tiles.
   */
  runOwned(input: TensorF32, post?: PostProcess): Promise<OwnedResult>;
}

/**
 * The job's models on one worker thread, one backend proxy per model. onnxruntime-node runs inference
 * synchronously on the calling thread, and with two intra-op threads it leaves part of two cores idle
 * (measured: 1.8× over one thread on the UNet, 1.77–1.87 cores busy); on its own thread that time goes
 * to reading, decoding and encoding. One thread for all models, not one each: two runtimes side by
 * side oversubscribe the cores (measured: the UNet three times slower). `threadIds` are the inference threads (the worker
 * and the runtimes' pools), for the engine's scheduling (src/runner/thread-priority.ts).
 */
export async function createThreadedBackends(models: JobModel[], opts: Omit<BackendOptions, 'device'>): Promise<{ backends: ThreadedBackend[]; threadIds: number[] }> {
  const worker = new Worker(new URL('./thread-entry.js', import.meta.url), { workerData: { models, opts } });
  const waiting = new Map<number, { resolve: (r: ThreadReply) => void; reject: (e: unknown) => void }>();
  let nextId = 0;
  let failed: unknown;
  const { descriptions, threadIds } = await new Promise<{ descriptions: BackendDescription[]; threadIds: number[] }>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: ThreadReply) => ('ready' in m ? resolve(m) : reject('error' in m ? deserialiseError(m.error) : new Error('inference thread did not start'))));
  }).catch(async (err) => {
    await worker.terminate();
    throw err;
  });
  worker.on('message', (m: ThreadReply) => {
    if (!('id' in m) || m.id === undefined) return;
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (!w) return;
    if ('error' in m) w.reject(deserialiseError(m.error));
    else w.resolve(m);
  });
  worker.on('error', (err) => {
    failed = err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  });
  const call = (req: Omit<ThreadRequest, 'id'>, transfer: ArrayBuffer[] = []) =>
    new Promise<ThreadReply>((resolve, reject) => {
      if (failed) return reject(failed);
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...req, id }, transfer);
    });
  let released: Promise<void> | undefined;
  const release = () =>
    (released ??= (async () => {
      if (!failed) await call({ release: true }).catch(() => undefined);
      await worker.terminate();
    })());
  const backends = descriptions.map((description, model): ThreadedBackend => {
    const runOwned = async (input: TensorF32, post?: PostProcess): Promise<OwnedResult> => {
      if (input.data.byteOffset !== 0 || input.data.byteLength !== input.data.buffer.byteLength) throw new Error('runOwned needs an input that is the whole of its buffer');
      const r = await call({ model, data: input.data, dims: input.dims, post }, [input.data.buffer as ArrayBuffer]);
      if ('tiles' in r) return { tiles: r.tiles, ms: r.ms, input: r.input };
      if (!('data' in r)) throw new Error('the inference thread answered a run without data');
      return { out: { data: r.data, dims: r.dims, ms: r.ms }, input: r.input };
    };
    return {
      describe: () => description,
      run: async (input) => {
        const r = await runOwned({ data: input.data.slice(), dims: input.dims });
        if (!('out' in r)) throw new Error('the inference thread answered a run with tiles');
        return r.out;
      },
      runOwned,
      release,
    };
  });
  return { backends, threadIds };
}
