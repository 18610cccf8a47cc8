import { endianness } from 'node:os';
import { modelError } from '../errors.js';
import {
  ModelProtoType,
  OnnxAttributeType,
  OnnxDataType,
  type OnnxAttribute,
  type OnnxDimension,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-proto.js';

export type { OnnxModel, OnnxGraph, OnnxNode, OnnxTensor, OnnxAttribute, OnnxValueInfo } from './onnx-proto.js';
export { OnnxDataType, OnnxAttributeType } from './onnx-proto.js';

// raw_data is little-endian by definition; typed-array views are host-endian.
if (endianness() !== 'LE') throw new Error('hil writes ONNX tensors through typed arrays and needs a little-endian host');

/** A dimension: a fixed size, or a symbolic name (dynamic batch, height, width). */
export type Dim = number | string;
export type ElemType = 'float32' | 'float16' | 'int64';

/** Initializer contents. int64 is given as plain numbers: hil only stores small shapes and indices. */
export type TensorData =
  | { dtype: 'float32'; dims: number[]; data: Float32Array }
  | { dtype: 'float16'; dims: number[]; data: Uint16Array }
  | { dtype: 'int64'; dims: number[]; data: number[] };

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

/** Attribute constructors: ONNX attributes are typed, and a JS number cannot say whether it is 1 or 1.0. */
export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  ints: (value: number[]): AttrValue => ({ kind: 'ints', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  floats: (value: number[]): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
};

const elemTypeCode: Record<ElemType, number> = {
  float32: OnnxDataType.float,
  float16: OnnxDataType.float16,
  int64: OnnxDataType.int64,
};

function encodeAttribute(name: string, v: AttrValue): OnnxAttribute {
  switch (v.kind) {
    case 'int':
      return { name, type: OnnxAttributeType.int, i: v.value };
    case 'ints':
      return { name, type: OnnxAttributeType.ints, ints: v.value };
    case 'float':
      return { name, type: OnnxAttributeType.float, f: v.value };
    case 'floats':
      return { name, type: OnnxAttributeType.floats, floats: v.value };
    case 'string':
      return { name, type: OnnxAttributeType.string, s: new TextEncoder().encode(v.value) };
  }
}

function valueInfo(name: string, elemType: ElemType, dims: Dim[]): OnnxValueInfo {
  const dim: OnnxDimension[] = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: elemTypeCode[elemType], shape: { dim } } } };
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function encodeTensor(name: string, t: TensorData): OnnxTensor {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) {
    throw new Error(`initializer ${name}: ${t.data.length} values for dims [${t.dims.join(', ')}] (${count})`);
  }
  const raw = t.dtype === 'int64' ? bytesOf(BigInt64Array.from(t.data, (x) => BigInt(x))) : bytesOf(t.data);
  return { name, dims: t.dims, dataType: elemTypeCode[t.dtype], rawData: raw };
}

/** ONNX IR version that goes with an opset of the default domain (onnx/docs/Versioning.md). */
export function irVersionForOpset(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 10) return 5;
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

/**
 * Builds one ONNX graph node by node. Names are checked for uniqueness as they are added, so a wiring
 * mistake fails here with the name at fault instead of later inside onnxruntime.
 */
export class OnnxGraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly names = new Set<string>();
  private readonly counters = new Map<string, number>();

  constructor(readonly name: string) {}

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph ${this.name}: value ${name} is defined twice`);
    this.names.add(name);
    return name;
  }

  /** A value name not used yet, derived from `prefix`. */
  fresh(prefix: string): string {
    let n = this.counters.get(prefix) ?? 0;
    let candidate = n === 0 ? prefix : `${prefix}_${n}`;
    while (this.names.has(candidate)) candidate = `${prefix}_${++n}`;
    this.counters.set(prefix, n + 1);
    return candidate;
  }

  input(name: string, dims: Dim[], elemType: ElemType = 'float32'): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, dims));
    return name;
  }

  /** Declares an existing value as a graph output. */
  output(name: string, dims: Dim[], elemType: ElemType = 'float32'): void {
    if (!this.names.has(name)) throw new Error(`ONNX graph ${this.name}: output ${name} is never produced`);
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  initializer(name: string, tensor: TensorData): string {
    this.initializers.push(encodeTensor(this.claim(name), tensor));
    return name;
  }

  /**
   * Adds a node and returns its output names. `inputs` may contain '' for an omitted optional input.
   * Outputs default to one fresh name derived from `name` (or the op type).
   */
  node(
    opType: string,
    inputs: string[],
    options: { attrs?: Record<string, AttrValue>; outputs?: string[]; name?: string } = {},
  ): string[] {
    for (const i of inputs) {
      if (i !== '' && !this.names.has(i)) throw new Error(`ONNX graph ${this.name}: ${opType} reads ${i}, which is not defined yet`);
    }
    const nodeName = options.name ?? this.fresh(opType);
    const outputs = (options.outputs ?? [this.fresh(nodeName)]).map((o) => this.claim(o));
    const attribute = Object.entries(options.attrs ?? {}).map(([k, v]) => encodeAttribute(k, v));
    this.nodes.push({ name: nodeName, opType, input: inputs, output: outputs, attribute });
    return outputs;
  }

  /** `node` for the common single-output case. */
  op(opType: string, inputs: string[], attrs?: Record<string, AttrValue>, name?: string): string {
    return this.node(opType, inputs, { attrs, name })[0];
  }

  toModel(meta: { opset: number; producerName?: string; producerVersion?: string; docString?: string; metadata?: Record<string, string> }): OnnxModel {
    return {
      irVersion: irVersionForOpset(meta.opset),
      producerName: meta.producerName ?? 'hil',
      producerVersion: meta.producerVersion ?? '',
      docString: meta.docString ?? '',
      opsetImport: [{ domain: '', version: meta.opset }],
      metadataProps: Object.entries(meta.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
  }
}

export function encodeModel(model: OnnxModel): Uint8Array {
  return ModelProtoType.encode(ModelProtoType.fromObject(model)).finish();
}

/** Decodes ONNX bytes into plain objects; int64 fields become numbers, bytes fields stay Uint8Array. */
export function decodeModel(bytes: Uint8Array, what = 'ONNX model'): OnnxModel {
  try {
    const message = ModelProtoType.decode(bytes);
    return ModelProtoType.toObject(message, { longs: Number, arrays: true }) as OnnxModel;
  } catch (err) {
    throw modelError(
      `${what} is not a readable ONNX file (${(err as Error).message})`,
      'check the path points at a complete .onnx file (re-export or re-download it)',
    );
  }
}

/** IEEE 754 half-precision bit patterns to float32 values. */
export function halfToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

function tensorLabel(t: OnnxTensor): string {
  return `tensor ${t.name ?? '(unnamed)'}`;
}

/** Copies raw bytes to a fresh, aligned buffer (decoded bytes may sit at any offset). */
function alignedCopy(raw: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  return copy.buffer;
}

/** A float initializer (float32, float16 or double; raw or typed fields) as float32 values. */
export function tensorToFloat32(t: OnnxTensor): Float32Array {
  if (t.dataLocation === 1) {
    throw modelError(`${tensorLabel(t)} keeps its data in an external file`, 're-save the model with all tensors embedded');
  }
  const raw = t.rawData && t.rawData.byteLength > 0 ? t.rawData : undefined;
  switch (t.dataType) {
    case OnnxDataType.float:
      return raw ? new Float32Array(alignedCopy(raw)) : Float32Array.from(t.floatData ?? []);
    case OnnxDataType.float16:
      // Without raw_data, float16 values travel as bit patterns in int32_data.
      return halfToFloat32(raw ? new Uint16Array(alignedCopy(raw)) : Uint16Array.from(t.int32Data ?? []));
    case OnnxDataType.double:
      return Float32Array.from(raw ? new Float64Array(alignedCopy(raw)) : (t.doubleData ?? []));
    default:
      throw modelError(`${tensorLabel(t)} has data type ${t.dataType}, not a float type`, 'read integer tensors with tensorToInts');
  }
}

/** An int64/int32 initializer as numbers (indices, shapes). */
export function tensorToInts(t: OnnxTensor): number[] {
  const raw = t.rawData && t.rawData.byteLength > 0 ? t.rawData : undefined;
  switch (t.dataType) {
    case OnnxDataType.int64:
      return raw ? Array.from(new BigInt64Array(alignedCopy(raw)), Number) : (t.int64Data ?? []);
    case OnnxDataType.int32:
      return raw ? Array.from(new Int32Array(alignedCopy(raw))) : (t.int32Data ?? []);
    default:
      throw modelError(`${tensorLabel(t)} has data type ${t.dataType}, not an integer type`, 'read float tensors with tensorToFloat32');
  }
}

/**
 * Parameter count as PyTorch reports it for conv nets: the values of the float initializers that feed
 * Conv, Gemm and MatMul nodes (weights and biases), leaving out constants such as Clip bounds.
 */
export function countParameters(model: OnnxModel): number {
  const weighted = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);
  const used = new Set((model.graph?.node ?? []).filter((n) => weighted.has(n.opType)).flatMap((n) => n.input ?? []));
  const floatTypes = new Set<number>([OnnxDataType.float, OnnxDataType.float16, OnnxDataType.double]);
  return (model.graph?.initializer ?? [])
    .filter((t) => used.has(t.name ?? '') && floatTypes.has(t.dataType ?? 0))
    .reduce((sum, t) => sum + (t.dims ?? []).reduce((a, b) => a * b, 1), 0);
}

/** Attribute value of a node by name, or undefined. */
export function nodeAttribute(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute?.find((a) => a.name === name);
}
