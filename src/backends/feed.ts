import type { MessagePort } from 'node:worker_threads';

/**
 * The feed: model inputs go from the thread that prepares them straight to the inference thread, over a
 * MessageChannel of their own, and come back the same way once the model is done with them. The main
 * thread only says which batch to run. Before, every input crossed the main thread twice (in, and back
 * to be refilled), and each transferred buffer counts as new external memory in the isolate it arrives
 * in: the main thread collected garbage 374 times in one 20 m `both` run.
 */

/** Producer → inference: one batch's inputs, one per model stage, in stage order. */
export interface FeedBatch {
  batch: number;
  inputs: Float32Array[];
}

/** Inference → producer: stage `input`'s buffer, done with, for a later batch. */
export interface FeedReturn {
  input: number;
  data: Float32Array;
}

/** Which fed input a run takes: stage `input` of batch `batch`. */
export interface FedInput {
  batch: number;
  input: number;
}

/** The inference thread's end of the feed. Runs take their inputs in any order they were fed in. */
export class FeedReceiver {
  private readonly arrived = new Map<number, (Float32Array | undefined)[]>();
  private waiter: { which: FedInput; resolve: (data: Float32Array) => void; reject: (err: Error) => void } | undefined;
  private closed: Error | undefined;

  constructor(private readonly port: MessagePort) {
    port.on('message', (m: FeedBatch) => {
      this.arrived.set(m.batch, m.inputs);
      if (this.waiter?.which.batch === m.batch) this.settle();
    });
    // The producer's thread ended (it failed, or the engine stopped it): a run still waiting would wait forever.
    port.on('close', () => {
      this.closed = new Error('the input feed closed before the inputs of a requested batch arrived');
      this.settle();
    });
  }

  /** The input a run asked for, once it has arrived. Runs are served one at a time, so one waits at most. */
  take(which: FedInput): Promise<Float32Array> {
    if (this.waiter) return Promise.reject(new Error('FeedReceiver.take() called while an earlier call is still waiting'));
    return new Promise((resolve, reject) => {
      this.waiter = { which, resolve, reject };
      this.settle();
    });
  }

  /** Hands an input back to the producer for a later batch. */
  giveBack(input: number, data: Float32Array): void {
    this.port.postMessage({ input, data } satisfies FeedReturn, [data.buffer as ArrayBuffer]);
  }

  private settle(): void {
    const w = this.waiter;
    if (!w) return;
    const inputs = this.arrived.get(w.which.batch);
    const data = inputs?.[w.which.input];
    if (data) {
      // Taken inputs leave an empty slot (a few bytes per batch), so that a second take is an error, not a hang.
      inputs![w.which.input] = undefined;
      w.resolve(data);
    } else if (inputs) w.reject(new Error(`input ${w.which.input} of batch ${w.which.batch} was already taken, or never sent`));
    else if (this.closed) w.reject(this.closed);
    else return;
    this.waiter = undefined;
  }
}
