/**
 * Worker-thread side of the threaded backends: loads the job's models with the ordinary backend code
 * and runs batches sent from the main thread, one at a time, so inference overlaps the main thread's
 * reading and writing without two runtimes competing for the cores.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HilError } from '../errors.js';
import type { JobModel } from '../runner/job.js';
import type { BackendOptions, InferenceBackend, TensorF32 } from './backend.js';
import { postProcess, type PostProcess } from '../runner/postprocess.js';
import { createBackend } from './index.js';

export type ThreadRequest = { id: number; model: number; data: Float32Array; dims: TensorF32['dims']; tiles?: boolean } | { id: number; release: true };
export type ThreadReply =
  | { ready: true; descriptions: ReturnType<InferenceBackend['describe']>[] }
  | { id: number; data: Float32Array; dims: TensorF32['dims']; ms: number }
  | { id: number; tiles: (Uint16Array | Uint8Array)[]; dims: TensorF32['dims']; ms: number }
  | { id: number; released: true }
  | { id?: number; error: { kind: HilError['kind'] | 'internal'; message: string; fix?: string } };

const { models, opts, post } = workerData as { models: JobModel[]; opts: Omit<BackendOptions, 'device'>; post: (PostProcess | undefined)[] };
const port = parentPort!;

function errorOf(err: unknown): { error: { kind: HilError['kind'] | 'internal'; message: string; fix?: string } } {
  if (err instanceof HilError) return { error: { kind: err.kind, message: err.message, fix: err.fix } };
  return { error: { kind: 'internal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } };
}

const backends: InferenceBackend[] = [];
try {
  for (const model of models) backends.push(await createBackend(model, opts));
  port.postMessage({ ready: true, descriptions: backends.map((b) => b.describe()) } satisfies ThreadReply);
  // Requests are served strictly in order: a queue, not concurrent handlers, keeps one model running at a time.
  let queue = Promise.resolve();
  port.on('message', (req: ThreadRequest) => {
    queue = queue.then(() => serve(req));
  });
} catch (err) {
  await Promise.all(backends.map((b) => b.release().catch(() => undefined)));
  port.postMessage(errorOf(err) satisfies ThreadReply);
}

async function serve(req: ThreadRequest): Promise<void> {
  if ('release' in req) {
    await Promise.all(backends.map((b) => b.release().catch(() => undefined)));
    port.postMessage({ id: req.id, released: true } satisfies ThreadReply);
    return;
  }
  try {
    const t = performance.now();
    const out = await backends[req.model].run({ data: req.data, dims: req.dims });
    const ms = performance.now() - t;
    const spec = post[req.model];
    if (req.tiles && spec) {
      const tiles = postProcess(spec, out);
      port.postMessage({ id: req.id, tiles, dims: out.dims, ms } satisfies ThreadReply, tiles.map((t) => t.buffer as ArrayBuffer));
      return;
    }
    // The output is this thread's to give away: transferring it avoids a copy of every batch.
    const data = out.data.byteOffset === 0 && out.data.length * 4 === out.data.buffer.byteLength ? out.data : out.data.slice();
    port.postMessage({ id: req.id, data, dims: out.dims, ms } satisfies ThreadReply, [data.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ ...errorOf(err), id: req.id } satisfies ThreadReply);
  }
}
