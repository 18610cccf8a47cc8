import { constants, createDeflate, type Deflate, type ZlibOptions } from 'node:zlib';

/**
 * Deflate streams that are reset and reused from one tile to the next, instead of a new one per tile as
 * zlib.deflate() makes: each new stream sets up about 400 KB of zlib state and a fresh output buffer,
 * per tile and band. Here a stream's output goes into slices of one large buffer until it is full. Each
 * tile is a complete zlib stream, byte-identical to what zlib.deflate() gives. (The main thread's full
 * garbage collections did not become fewer with it: those came from the model outputs, see
 * RUNNER_NODE_ARGS in src/targets/runner-env.ts.)
 */
export class DeflatePool {
  private readonly idle: Deflate[] = [];
  private readonly waiting: ((d: Deflate) => void)[] = [];
  private closed = false;

  /**
   * `size` streams, as many tiles as may compress at once (libuv's threadpool runs four); `chunkSize` is
   * the output buffer that successive tiles' results are sliced from.
   */
  constructor(
    private readonly options: Omit<ZlibOptions, 'chunkSize'>,
    size: number,
    private readonly chunkSize: number,
  ) {
    for (let i = 0; i < size; i++) this.idle.push(this.open());
  }

  async compress(bytes: Uint8Array): Promise<Buffer> {
    if (this.closed) throw new Error('DeflatePool.compress() after close()');
    const stream = this.idle.pop() ?? (await new Promise<Deflate>((resolve) => this.waiting.push(resolve)));
    let healthy = false;
    try {
      const out = await once(stream, bytes);
      healthy = true;
      return out;
    } finally {
      // A stream that failed is in an unknown state: a fresh one takes its place.
      const next = healthy ? stream : this.open();
      if (!healthy) stream.destroy();
      const waiter = this.waiting.shift();
      if (waiter) waiter(next);
      else if (this.closed) next.destroy();
      else this.idle.push(next);
    }
  }

  /** Frees the streams' zlib state; streams still compressing are freed when they finish. */
  close(): void {
    this.closed = true;
    for (const d of this.idle.splice(0)) d.destroy();
  }

  private open(): Deflate {
    return createDeflate({ ...this.options, chunkSize: this.chunkSize });
  }
}

/** One complete zlib stream of `bytes`; the stream is reset for the next. */
function once(stream: Deflate, bytes: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const onData = (part: Buffer) => parts.push(part);
    const onError = (err: Error) => {
      stream.off('data', onData);
      reject(err);
    };
    stream.on('data', onData);
    stream.once('error', onError);
    stream.write(bytes);
    stream.flush(constants.Z_FINISH, (err?: Error | null) => {
      if (err) return onError(err);
      stream.off('data', onData);
      stream.off('error', onError);
      stream.reset();
      resolve(parts.length === 1 ? parts[0] : Buffer.concat(parts));
    });
  });
}
