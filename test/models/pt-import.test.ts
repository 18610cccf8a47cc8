import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { readPtStateDict, stateDictFromArchive, unpickle } from '../../src/models/pt-import.js';
import { haveShared, sharedModelsDir } from '../helpers/shared.js';

const ptDir = path.join(sharedModelsDir, 'dtacsnet', 'pytorch');
const enc = (s: string) => new TextEncoder().encode(s);
const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const unicode = (s: string) => [0x58, ...u32(enc(s).length), ...enc(s)];
const global = (m: string, n: string) => [0x63, ...enc(`${m}\n${n}\n`)];

/** A hand-assembled protocol-2 pickle of {name: _rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict())}. */
function tensorPickle(name: string, storage: string, key: string, numel: number, offset: number, shape: number[], stride: number[]): Uint8Array {
  const tuple = (xs: number[]) => [0x28, ...xs.flatMap((x) => [0x4b, x]), 0x74];
  return Uint8Array.from([
    0x80, 2, 0x7d, 0x28, ...unicode(name),
    ...global('torch._utils', '_rebuild_tensor_v2'),
    0x28, 0x28, ...unicode('storage'), ...global('torch', storage), ...unicode(key), ...unicode('cpu'), 0x4b, numel, 0x74, 0x51,
    0x4b, offset, ...tuple(shape), ...tuple(stride), 0x89, ...global('collections', 'OrderedDict'), 0x29, 0x52, 0x74, 0x52,
    0x75, 0x2e,
  ]);
}

function archive(pkl: Uint8Array, storages: Record<string, ArrayBufferView>): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>([['sd/data.pkl', pkl]]);
  for (const [k, v] of Object.entries(storages)) m.set(`sd/data/${k}`, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return m;
}

function expectModelError(fn: () => unknown, pattern: RegExp) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HilError);
    expect((err as HilError).kind).toBe('model');
    expect((err as HilError).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a model error');
}

describe('pickle reader', () => {
  it('reads a float32 tensor with a storage offset', () => {
    const storage = Float32Array.of(9, 1, 2, 3, 4, 5, 6);
    const sd = stateDictFromArchive(archive(tensorPickle('w', 'FloatStorage', '0', 7, 1, [2, 3], [3, 1]), { 0: storage }), 'x.pt');
    const t = sd.get('w')!;
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('widens float16 and keeps int64', () => {
    const half = Uint16Array.of(0x3c00, 0xc000, 0x3555); // 1, -2, ~0.3333
    const sdHalf = stateDictFromArchive(archive(tensorPickle('h', 'HalfStorage', '0', 3, 0, [3], [1]), { 0: half }), 'x.pt');
    const h = sdHalf.get('h')!;
    expect(h.dtype).toBe('float16');
    expect(h.data[0]).toBe(1);
    expect(h.data[1]).toBe(-2);
    expect(Number(h.data[2])).toBeCloseTo(1 / 3, 3);
    const sdLong = stateDictFromArchive(archive(tensorPickle('n', 'LongStorage', '0', 1, 0, [], []), { 0: BigInt64Array.of(42n) }), 'x.pt');
    expect(sdLong.get('n')).toMatchObject({ dtype: 'int64', shape: [] });
    expect(sdLong.get('n')!.data[0]).toBe(42n);
  });

  it('refuses non-contiguous tensors, unknown storage types, globals and opcodes by name', () => {
    const storage = new Float32Array(6);
    expectModelError(
      () => stateDictFromArchive(archive(tensorPickle('t', 'FloatStorage', '0', 6, 0, [2, 3], [1, 2]), { 0: storage }), 'x.pt'),
      /tensor t is not contiguous/,
    );
    expectModelError(
      () => stateDictFromArchive(archive(tensorPickle('t', 'BFloat16Storage', '0', 6, 0, [6], [1]), { 0: storage }), 'x.pt'),
      /torch\.BFloat16Storage is not supported/,
    );
    expectModelError(() => unpickle(Uint8Array.from([0x80, 2, ...global('os', 'system'), 0x2e]), 'evil.pt'), /uses os\.system/);
    expectModelError(() => unpickle(Uint8Array.from([0x80, 2, 0x56, 0x2e]), 'x.pt'), /opcode 0x56 \("V"\)/);
    expectModelError(() => unpickle(Uint8Array.from([0x80, 2, ...global('__torch__.model', 'Net'), 0x2e]), 'jit.pt'), /jit\.pt is a TorchScript archive/);
    expectModelError(
      () => stateDictFromArchive(archive(tensorPickle('t', 'FloatStorage', '0', 6, 2, [6], [1]), { 0: storage }), 'x.pt'),
      /reads past the end of its storage/,
    );
  });

  it('names a file that is not a zip archive', async () => {
    await expect(readPtStateDict(path.join(import.meta.dirname, 'pt-import.test.ts'))).rejects.toThrow(/not a zip archive/);
  });
});

describe.runIf(haveShared('models/dtacsnet/pytorch'))('DTACSNet release state dicts', () => {
  it('reads CNN_corrector.pt (a Lightning checkpoint with an argparse Namespace)', async () => {
    const sd = await readPtStateDict(path.join(ptDir, 'CNN_corrector.pt'));
    expect([...sd.keys()]).toEqual(['model.cnn_layers.0.weight', 'model.cnn_layers.0.bias', 'model.cnn_layers.2.weight', 'model.cnn_layers.2.bias']);
    expect(sd.get('model.cnn_layers.0.weight')!.shape).toEqual([52, 13, 1, 1]);
    expect(sd.get('model.cnn_layers.2.weight')!.shape).toEqual([12, 52, 1, 1]);
    const params = [...sd.values()].reduce((n, t) => n + t.data.length, 0);
    expect(params).toBe(1364);
  });
});
