import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { FeedReceiver, type FeedBatch, type FeedReturn } from '../../src/backends/feed.js';

const open: MessagePort[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

/** A feed with the test as the producer at the other end. */
function feed() {
  const { port1, port2 } = new MessageChannel();
  open.push(port1, port2);
  const returned: FeedReturn[] = [];
  port1.on('message', (m: FeedReturn) => returned.push(m));
  const send = (batch: number, ...inputs: Float32Array[]) => port1.postMessage({ batch, inputs } satisfies FeedBatch, inputs.map((a) => a.buffer as ArrayBuffer));
  return { receiver: new FeedReceiver(port2), producer: port1, send, returned };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('the input feed', () => {
  it('gives each run the input it names, whether it arrived before the request or after', async () => {
    const { receiver, send } = feed();
    send(0, Float32Array.of(1), Float32Array.of(2));
    await tick();
    expect(await receiver.take({ batch: 0, input: 1 })).toEqual(Float32Array.of(2));
    expect(await receiver.take({ batch: 0, input: 0 })).toEqual(Float32Array.of(1));
    const later = receiver.take({ batch: 2, input: 0 });
    send(1, Float32Array.of(3));
    send(2, Float32Array.of(4));
    expect(await later).toEqual(Float32Array.of(4));
    expect(await receiver.take({ batch: 1, input: 0 })).toEqual(Float32Array.of(3));
  });

  it('hands inputs back to the producer without a copy', async () => {
    const { receiver, send, returned } = feed();
    send(0, Float32Array.of(5, 6));
    const data = await receiver.take({ batch: 0, input: 0 });
    receiver.giveBack(0, data);
    expect(data.length).toBe(0);
    await tick();
    expect(returned).toEqual([{ input: 0, data: Float32Array.of(5, 6) }]);
  });

  it('refuses an input taken twice, and a second waiter, instead of hanging', async () => {
    const { receiver, send } = feed();
    send(0, Float32Array.of(1));
    await receiver.take({ batch: 0, input: 0 });
    await expect(receiver.take({ batch: 0, input: 0 })).rejects.toThrow(/input 0 of batch 0 was already taken/);
    const waiting = receiver.take({ batch: 1, input: 0 });
    await expect(receiver.take({ batch: 1, input: 0 })).rejects.toThrow(/still waiting/);
    send(1, Float32Array.of(2));
    expect(await waiting).toEqual(Float32Array.of(2));
  });

  it('fails a waiting run when the producer goes away', async () => {
    const { receiver, producer } = feed();
    const waiting = receiver.take({ batch: 0, input: 0 });
    producer.close();
    await expect(waiting).rejects.toThrow(/input feed closed before the inputs of a requested batch arrived/);
  });
});
