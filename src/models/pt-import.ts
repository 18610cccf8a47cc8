import yauzl from 'yauzl';
import { modelError } from '../errors.js';
import { halfToFloat32 } from './onnx-writer.js';

/**
 * Reads PyTorch zip-format checkpoints (`torch.save` since 1.6): `<archive>/data.pkl` is a pickle that
 * describes the tensors, `<archive>/data/<key>` holds each storage as raw little-endian bytes. The pickle
 * reader implements only the opcodes and globals that state dicts use, and refuses anything else by name,
 * so an arbitrary pickle can never run code or be half-understood.
 */

export type PtTensor =
  | { dtype: 'float32' | 'float16'; shape: number[]; data: Float32Array }
  | { dtype: 'int64'; shape: number[]; data: BigInt64Array };
export type StateDict = Map<string, PtTensor>;

type PtDtype = PtTensor['dtype'];

const STORAGE_DTYPES: Record<string, { dtype: PtDtype; bytes: number }> = {
  FloatStorage: { dtype: 'float32', bytes: 4 },
  HalfStorage: { dtype: 'float16', bytes: 2 },
  LongStorage: { dtype: 'int64', bytes: 8 },
};

class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage reference from a persistent id; its bytes are fetched from the archive when a tensor uses it. */
class StorageRef {
  constructor(readonly key: string, readonly dtype: PtDtype, readonly elemBytes: number, readonly numel: number) {}
}

class TensorRef {
  constructor(readonly storage: StorageRef, readonly offset: number, readonly shape: number[], readonly stride: number[]) {}
}

/** An object whose only use is to carry attributes (argparse.Namespace in Lightning-era checkpoints). */
class PyObject {
  readonly attrs = new Map<unknown, unknown>();
}

const MARK = Symbol('mark');

/** Globals a state-dict pickle may name, and what calling each (REDUCE) produces. */
const CALLABLES: Record<string, (args: unknown[], source: string) => unknown> = {
  'collections.OrderedDict': () => new Map(),
  'argparse.Namespace': () => new PyObject(),
  'torch._utils._rebuild_tensor_v2': (args, source) => rebuildTensor(args, source),
  'torch._utils._rebuild_tensor': (args, source) => rebuildTensor(args, source),
  'torch._utils._rebuild_parameter': (args, source) => {
    if (!(args[0] instanceof TensorRef)) throw modelError(`${source}: _rebuild_parameter without a tensor`, PT_FIX);
    return args[0];
  },
};

const PT_FIX = 'save the weights with torch.save(model.state_dict(), path) and try again';

function rebuildTensor(args: unknown[], source: string): TensorRef {
  const [storage, offset, shape, stride] = args;
  const ints = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'number');
  if (!(storage instanceof StorageRef) || typeof offset !== 'number' || !ints(shape) || !ints(stride)) {
    throw modelError(`${source}: a tensor record has an unexpected layout`, PT_FIX);
  }
  return new TensorRef(storage, offset, shape as number[], stride as number[]);
}

function persistentLoad(pid: unknown, source: string): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof PyGlobal)) {
    throw modelError(`${source}: unsupported persistent id ${JSON.stringify(String(pid))}`, PT_FIX);
  }
  const [, type, key, , numel] = pid as [string, PyGlobal, unknown, unknown, unknown];
  const info = type.module === 'torch' ? STORAGE_DTYPES[type.name] : undefined;
  if (!info) {
    throw modelError(`${source}: storage type ${type.qualified} is not supported (float32, float16, int64 are)`, 'convert the weights with model.float() before saving');
  }
  if (typeof key !== 'string' || typeof numel !== 'number') throw modelError(`${source}: malformed storage record`, PT_FIX);
  return new StorageRef(key, info.dtype, info.bytes, numel);
}

/** Runs the pickle virtual machine over `bytes` and returns the unpickled top-level value. */
export function unpickle(bytes: Uint8Array, source: string): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;

  const need = (n: number) => {
    if (pos + n > bytes.length) throw modelError(`${source}: the pickle ends early (truncated file?)`, PT_FIX);
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const str = (n: number) => (need(n), (pos += n), decoder.decode(bytes.subarray(pos - n, pos)));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw modelError(`${source}: the pickle ends early (truncated file?)`, PT_FIX);
    const s = decoder.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) throw modelError(`${source}: the pickle pops an empty stack`, PT_FIX);
    return stack.pop();
  };
  const top = () => stack[stack.length - 1];
  const popMark = (): unknown[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) throw modelError(`${source}: the pickle has no MARK where one is needed`, PT_FIX);
    const items = stack.splice(at);
    return items.slice(1);
  };
  const memoGet = (i: number) => {
    if (!memo.has(i)) throw modelError(`${source}: the pickle reads memo slot ${i}, which was never set`, PT_FIX);
    return memo.get(i);
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) throw modelError(`${source}: SETITEMS on something that is not a dict`, PT_FIX);
    for (let i = 0; i + 1 < items.length; i += 2) target.set(items[i], items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target)) throw modelError(`${source}: APPENDS on something that is not a list`, PT_FIX);
    target.push(...items);
  };
  const global = (module: string, name: string) => {
    const g = new PyGlobal(module, name);
    // Storage types pass here so that an unsupported dtype is reported as such when a tensor uses it.
    const known = CALLABLES[g.qualified] !== undefined || (module === 'torch' && name.endsWith('Storage'));
    if (!known && module.startsWith('__torch__')) {
      throw modelError(`${source} is a TorchScript archive, not a state dict`, 'in Python: torch.save(torch.jit.load(path).state_dict(), "weights.pt")');
    }
    if (!known) throw modelError(`${source}: the pickle uses ${g.qualified}, which a state dict never needs`, PT_FIX);
    return g;
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME: a length prefix for buffering; the contents follow inline
        need(8);
        pos += 8;
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement of the given length
        const n = u8();
        need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[pos + i]);
        if (n > 0 && bytes[pos + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        pos += n;
        stack.push(Number(v));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x58: // BINUNICODE
        stack.push(str(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(str(u8()));
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw modelError(`${source}: malformed STACK_GLOBAL`, PT_FIX);
        stack.push(global(module, name));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop(), source));
        break;
      case 0x52: // REDUCE
      case 0x81: {
        // NEWOBJ (cls.__new__(cls, *args)) builds the same objects as calling the class.
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal) || !Array.isArray(args)) throw modelError(`${source}: REDUCE on something that is not callable`, PT_FIX);
        const call = CALLABLES[fn.qualified];
        if (!call) throw modelError(`${source}: the pickle calls ${fn.qualified}, which a state dict never needs`, PT_FIX);
        stack.push(call(args, source));
        break;
      }
      case 0x62: {
        // BUILD: set state. Only attribute bags keep it; a state dict's `_metadata` (module versions) is dropped.
        const state = pop();
        const target = top();
        if (target instanceof PyObject && state instanceof Map) for (const [k, v] of state) target.attrs.set(k, v);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      default:
        throw modelError(
          `${source}: pickle opcode 0x${op.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(op))}) at byte ${pos - 1} is not supported`,
          PT_FIX,
        );
    }
  }
}

function contiguousStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

function materialise(name: string, t: TensorRef, storages: Map<string, Uint8Array>, source: string): PtTensor {
  const numel = t.shape.reduce((a, b) => a * b, 1);
  const expected = contiguousStrides(t.shape);
  // A dimension of size 1 may carry any stride: it is never stepped over.
  if (t.shape.some((d, i) => d !== 1 && t.stride[i] !== expected[i])) {
    throw modelError(
      `${source}: tensor ${name} is not contiguous (shape [${t.shape}], strides [${t.stride}])`,
      'save contiguous tensors: {k: v.contiguous() for k, v in model.state_dict().items()}',
    );
  }
  const raw = storages.get(t.storage.key);
  if (!raw) throw modelError(`${source}: storage data/${t.storage.key} of tensor ${name} is missing from the archive`, PT_FIX);
  const start = t.offset * t.storage.elemBytes;
  const end = start + numel * t.storage.elemBytes;
  if (end > raw.byteLength) {
    throw modelError(`${source}: tensor ${name} reads past the end of its storage data/${t.storage.key}`, PT_FIX);
  }
  // Copy to a fresh buffer: zip entries are not aligned for typed-array views.
  const bytes = new Uint8Array(raw.subarray(start, end));
  switch (t.storage.dtype) {
    case 'float32':
      return { dtype: 'float32', shape: t.shape, data: new Float32Array(bytes.buffer) };
    case 'float16':
      return { dtype: 'float16', shape: t.shape, data: halfToFloat32(new Uint16Array(bytes.buffer)) };
    case 'int64':
      return { dtype: 'int64', shape: t.shape, data: new BigInt64Array(bytes.buffer) };
  }
}

/**
 * Turns the entries of a PyTorch zip archive (path → bytes) into a state dict. A checkpoint that wraps
 * the state dict (`{"state_dict": ..., ...}`, as PyTorch Lightning saves) is unwrapped.
 */
export function stateDictFromArchive(entries: Map<string, Uint8Array>, source: string): StateDict {
  const pklPath = [...entries.keys()].find((p) => p.endsWith('/data.pkl') && p.split('/').length === 2);
  if (!pklPath) {
    throw modelError(`${source} has no <archive>/data.pkl: it is not a PyTorch zip checkpoint`, 're-save it with torch.save (PyTorch 1.6 or later)');
  }
  const prefix = pklPath.slice(0, -'data.pkl'.length);
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== 'little') {
    throw modelError(`${source} stores big-endian tensors`, 're-save it on a little-endian machine');
  }
  const storages = new Map<string, Uint8Array>();
  for (const [p, bytes] of entries) if (p.startsWith(`${prefix}data/`)) storages.set(p.slice(prefix.length + 5), bytes);

  let value = unpickle(entries.get(pklPath)!, source);
  if (value instanceof Map && value.get('state_dict') instanceof Map) value = value.get('state_dict');
  if (!(value instanceof Map)) throw modelError(`${source} does not hold a state dict`, PT_FIX);

  const out: StateDict = new Map();
  for (const [name, t] of value) {
    if (typeof name !== 'string' || !(t instanceof TensorRef)) {
      throw modelError(`${source}: entry ${String(name)} of the state dict is not a tensor`, PT_FIX);
    }
    out.set(name, materialise(name, t, storages, source));
  }
  return out;
}

async function readZipEntries(file: string): Promise<Map<string, Uint8Array>> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw modelError(`weights file ${file} does not exist`, 'check the path given for the .pt file');
    throw modelError(
      `${file} is not a zip archive (${(err as Error).message})`,
      'legacy (pre-1.6) .pt files are not supported: re-save with torch.save(sd, path) in PyTorch 1.6 or later',
    );
  }
  const entries = new Map<string, Uint8Array>();
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith('/')) continue;
      const stream = await zip.openReadStreamPromise(entry);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      entries.set(entry.fileName, Buffer.concat(chunks));
    }
  } finally {
    zip.close();
  }
  return entries;
}

/** Reads a PyTorch zip-format `.pt` state dict from disk. */
export async function readPtStateDict(file: string): Promise<StateDict> {
  return stateDictFromArchive(await readZipEntries(file), file);
}
