import { Worker, type MessagePort } from 'node:worker_threads';
import type { JobModel } from '../runner/job.js';
import type { BackendDescription, BackendOptions, InferenceBackend, TensorF32 } from './backend.js';
import type { PostProcess } from '../runner/postprocess.js';
import { deserialiseError } from '../util/thread-error.js';
import type { FedInput } from './feed.js';
import type { RunIdle } from './run-idle.js';
import type { ThreadReply, ThreadRequest } from './thread-entry.js';

/**
 * A fed run's output tiles, the time the inference thread itself spent on the model (`ms`, queueing
 * excluded) and on post-processing (`postMs`), and how long it sat idle before (src/backends/run-idle.ts).
 */
export interface FedResult {
  tiles: (Uint16Array | Uint8Array)[];
  ms: number;
  postMs: number;
  idle: RunIdle;
}

export interface ThreadedBackend extends Pick<InferenceBackend, 'describe' | 'release'> {
  /**
   * Runs a batch on an input sent over the feed (see `attachFeed`), which goes back to its producer the
   * same way, and post-processes the output as `post` says on the inference thread, into the tiles of
   * `reuse` where there are any (they are transferred: the caller gives them up). With `discard` the
   * output is dropped instead: no post-processing, no tiles.
   */
  runFed(input: FedInput, dims: TensorF32['dims'], post: PostProcess, opts?: { reuse?: (Uint16Array | Uint8Array)[]; discard?: boolean }): Promise<FedResult>;
}

export interface ThreadedBackends {
  backends: ThreadedBackend[];
  /** The inference threads: the worker and the runtimes' pools, for the engine's scheduling. */
  threadIds: number[];
  /** Gives the inference thread its end of a feed (src/backends/feed.ts), for `runFed`. */
  attachFeed(port: MessagePort): Promise<void>;
}

/**
 * The job's models on one worker thread, one backend proxy per model. onnxruntime-node runs inference
 * synchronously on the calling thread, and with two intra-op threads it leaves part of two cores idle
 * (measured: 1.8× over one thread on the UNet, 1.77–1.87 cores busy); on its own thread that time goes
 * to reading, decoding and encoding. One thread for all models, not one each: two runtimes side by
 * side oversubscribe the cores (measured: the UNet three times slower). The engine's inputs reach the
 * thread over a feed of their own rather than through the main thread.
 */
export async function createThreadedBackends(models: JobModel[], opts: Omit<BackendOptions, 'device'>): Promise<ThreadedBackends> {
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
  const call = (req: DistributiveOmit<ThreadRequest, 'id'>, transfer: (ArrayBuffer | MessagePort)[] = []) =>
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
  const attachFeed = async (port: MessagePort) => {
    await call({ feed: port }, [port]);
  };
  const backends = descriptions.map((description, model): ThreadedBackend => ({
    describe: () => description,
    runFed: async (fed, dims, post, { reuse, discard } = {}) => {
      const r = await call({ model, fed, dims, post, reuse, discard }, reuse?.map((t) => t.buffer as ArrayBuffer));
      if (!('tiles' in r)) throw new Error('the inference thread answered a run without tiles');
      return { tiles: r.tiles, ms: r.ms, postMs: r.postMs, idle: r.idle };
    },
    release,
  }));
  return { backends, threadIds, attachFeed };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
