import { modelError } from '../errors.js';
import { L1C_BANDS, L2A_BANDS } from '../raster/bands.js';
import { attr, encodeModel, OnnxGraphBuilder } from './onnx-writer.js';
import type { StateDict } from './pt-import.js';

/**
 * The DTACSNet atmospheric-correction networks: a stack of 1x1 convolutions with ReLU between them
 * (`cnn_layers.N` in the state dict). The correctors predict a correction subtracted from the input bands
 * they output (`out = x[:, idx] - net(x)`); `linear` is the bare conv stack.
 */
export interface AcSpec {
  inBands: readonly string[];
  outBands: readonly string[];
  /** True for the correctors: the network output is subtracted from the matching input bands. */
  residual: boolean;
}

const PHISAT2 = ['B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08'];

/** The released variants (spaceml-org/DTACSNet), by the name of their weights file. */
export const AC_VARIANTS: Record<string, AcSpec> = {
  CNN_corrector: { inBands: L1C_BANDS, outBands: L2A_BANDS, residual: true },
  CNN_corrector_phisat2: { inBands: PHISAT2, outBands: PHISAT2, residual: true },
  CNN_corrector_planetscope: { inBands: ['B02', 'B03', 'B04', 'B08'], outBands: ['B02', 'B03', 'B04', 'B08'], residual: true },
  CNN_corrector_probav: { inBands: ['B02', 'B04', 'B08', 'B11'], outBands: ['B02', 'B04', 'B08', 'B11'], residual: true },
  linear: { inBands: L1C_BANDS, outBands: L2A_BANDS, residual: false },
};

const LAYER_KEY = /(?:^|\.)cnn_layers\.(\d+)\.(weight|bias)$/;

/** Builds the ONNX model: input `input` `[batch, in, height, width]` reflectance, output `output` `[batch, out, height, width]`. */
export function buildAcModelFromStateDict(tensors: StateDict, spec: AcSpec & { name?: string; opset?: number }): Uint8Array {
  const layers = new Map<number, { weight?: Float32Array; wShape?: number[]; bias?: Float32Array }>();
  for (const [key, t] of tensors) {
    const m = LAYER_KEY.exec(key);
    if (!m) throw modelError(`AC state dict has an unexpected key ${key}`, 'give the weights of a DTACSNet CNN_corrector or linear model');
    if (t.dtype === 'int64') throw modelError(`AC state dict key ${key} is int64, expected float`, 'save the weights as float32');
    const layer = layers.get(Number(m[1])) ?? {};
    if (m[2] === 'weight') Object.assign(layer, { weight: t.data, wShape: t.shape });
    else layer.bias = t.data;
    layers.set(Number(m[1]), layer);
  }
  const ordered = [...layers.entries()].sort((a, b) => a[0] - b[0]);
  if (ordered.length === 0) throw modelError('AC state dict has no cnn_layers weights', 'give the weights of a DTACSNet CNN_corrector or linear model');

  const g = new OnnxGraphBuilder(spec.name ?? 'ac');
  const input = g.input('input', ['batch', spec.inBands.length, 'height', 'width']);
  let x = input;
  let channels = spec.inBands.length;
  ordered.forEach(([index, { weight, wShape, bias }], i) => {
    const key = `cnn_layers.${index}`;
    if (!weight || !wShape) throw modelError(`AC state dict has ${key}.bias but no ${key}.weight`, 'check the weights file is complete');
    if (wShape.length !== 4 || wShape[1] !== channels || wShape[2] !== 1 || wShape[3] !== 1) {
      throw modelError(`AC state dict key ${key}.weight has shape [${wShape.join(', ')}], expected [*, ${channels}, 1, 1]`, 'check the band lists match the weights');
    }
    const inputs = [x, g.initializer(`${key}.weight`, { dtype: 'float32', dims: wShape, data: weight })];
    if (bias) inputs.push(g.initializer(`${key}.bias`, { dtype: 'float32', dims: [wShape[0]], data: bias }));
    const last = i === ordered.length - 1;
    // Without the residual wrapper the last conv is the output: no Identity node in between.
    const outputs = last && !spec.residual ? ['output'] : undefined;
    x = g.node('Conv', inputs, { attrs: { kernel_shape: attr.ints([1, 1]) }, name: key, outputs })[0];
    channels = wShape[0];
    if (!last) x = g.op('Relu', [x]);
  });
  if (channels !== spec.outBands.length) {
    throw modelError(`AC weights give ${channels} output bands, the spec lists ${spec.outBands.length}`, 'check the output band list matches the weights');
  }

  if (spec.residual) {
    const idx = spec.outBands.map((b) => spec.inBands.indexOf(b));
    const missing = spec.outBands.filter((_b, i) => idx[i] < 0);
    if (missing.length > 0) throw modelError(`AC output bands ${missing.join(', ')} are not among the input bands`, 'a corrector outputs a subset of its inputs');
    const indices = g.initializer('out_band_indices', { dtype: 'int64', dims: [idx.length], data: idx });
    const selected = g.op('Gather', [input, indices], { axis: attr.int(1) });
    g.node('Sub', [selected, x], { outputs: ['output'] });
  }
  g.output('output', ['batch', channels, 'height', 'width']);
  return encodeModel(
    g.toModel({
      opset: spec.opset ?? 13,
      docString: `DTACSNet ${spec.name ?? 'AC'}: input bands ${spec.inBands.join(' ')}, output bands ${spec.outBands.join(' ')}; input = TOA reflectance (DN/10000), output = surface reflectance; clamp [0,2] outside the graph`,
    }),
  );
}
