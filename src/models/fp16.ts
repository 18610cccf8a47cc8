import { modelError } from '../errors.js';
import { OnnxAttributeType, OnnxDataType, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-proto.js';
import { tensorToFloat32 } from './onnx-writer.js';

const HALF_MAX = 65504;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary32 → binary16 bits, rounding to nearest even (what Model Optimizer's FP16 compression does). */
export function float32ToHalf(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const x = u32[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      // Subnormal half (or zero): shift the implicit-1 mantissa into place, rounding to nearest even.
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && h & 1)) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    // A carry out of the mantissa correctly bumps the exponent, up to infinity.
    if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
    out[i] = sign | h;
  }
  return out;
}

export interface Fp16Result {
  model: OnnxModel;
  /** Float values stored as FP16. */
  values: number;
  /** Initializers converted. */
  tensors: number;
}

/**
 * An FP16 build: every float32 weight stored as float16 (rounded to nearest even) and cast back to
 * float32 where it is used, so the inputs, outputs and arithmetic stay float32 and the build runs on any
 * runtime. What it isolates is the accuracy cost of FP16 weights, the part a Myriad-X cannot avoid.
 */
export function convertWeightsToFp16(model: OnnxModel, what: string): Fp16Result {
  const graph = model.graph;
  if (!graph) throw modelError(`${what} has no graph`, 'give a complete ONNX model');
  if ((graph.node ?? []).some((n) => (n.attribute ?? []).some((a) => a.type === OnnxAttributeType.graph))) {
    throw modelError(`${what} has control-flow subgraphs, whose weights this converter does not reach`, 'export the model without If/Loop nodes');
  }
  const floats = (graph.initializer ?? []).filter((t) => t.dataType === OnnxDataType.float);
  if (floats.length === 0) {
    const already = (graph.initializer ?? []).some((t) => t.dataType === OnnxDataType.float16);
    throw modelError(`${what} has no float32 weights to convert`, already ? 'it is already an FP16 build' : 'give a model with float32 initializers');
  }
  const floatNames = new Set(floats.map((t) => t.name));
  const casts: OnnxNode[] = [];
  let values = 0;
  const converted = (graph.initializer ?? []).map((t): OnnxTensor => {
    if (t.dataType !== OnnxDataType.float) return t;
    const data = tensorToFloat32(t);
    const overflow = data.findIndex((v) => Math.abs(v) > HALF_MAX && Number.isFinite(v));
    if (overflow >= 0) {
      throw modelError(`${what}: weight ${t.name}[${overflow}] = ${data[overflow]} does not fit in FP16 (max ${HALF_MAX})`, 'this model cannot be stored in FP16; keep it FP32');
    }
    values += data.length;
    const half = float32ToHalf(data);
    const name = `${t.name}__fp16`;
    casts.push({ name: `${t.name}__cast`, opType: 'Cast', input: [name], output: [t.name!], attribute: [{ name: 'to', type: OnnxAttributeType.int, i: OnnxDataType.float }] });
    return { name, dims: t.dims, dataType: OnnxDataType.float16, rawData: new Uint8Array(half.buffer) };
  });
  return {
    model: {
      ...model,
      graph: {
        ...graph,
        initializer: converted,
        // Old exporters list initializers as graph inputs too; a Cast output cannot also be an input.
        input: (graph.input ?? []).filter((i) => !floatNames.has(i.name)),
        node: [...casts, ...(graph.node ?? [])],
      },
    },
    values,
    tensors: floats.length,
  };
}
