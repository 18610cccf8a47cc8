import { modelError } from '../errors.js';
import { attr, encodeModel, OnnxGraphBuilder } from './onnx-writer.js';
import type { PtTensor, StateDict } from './pt-import.js';
import { mulberry32 } from '../util/rng.js';

/**
 * The DTACSNet cloud-detection network: segmentation_models_pytorch
 * `Unet(encoder_name="mobilenet_v2", in_channels=N, classes=K)` with the default decoder (channels
 * 256, 128, 64, 32, 16, batch norm, no attention). The architecture is walked once by `walkUnet`; one
 * interpreter of that walk lists the state-dict keys and shapes smp produces, another emits the ONNX graph,
 * so the key mapping and the graph cannot drift apart.
 */

/** One convolution as smp defines it: its state-dict keys and how it is applied. */
export interface ConvLayer {
  /** Key of the conv weight, e.g. `encoder.features.3.conv.1.0.weight`. */
  weightKey: string;
  /** Key of the conv bias (only the segmentation head has one). */
  biasKey?: string;
  /** Prefix of the BatchNorm2d that follows, e.g. `encoder.features.3.conv.1.1`. */
  bnPrefix?: string;
  outChannels: number;
  inChannels: number;
  kernel: number;
  stride: number;
  group: number;
  activation: 'relu6' | 'relu' | 'none';
}

interface UnetOps<T> {
  conv(x: T, layer: ConvLayer): T;
  add(a: T, b: T): T;
  upsample2x(x: T): T;
  concat(a: T, b: T): T;
}

/** torchvision MobileNetV2 inverted-residual settings: expansion t, output channels c, repeats n, first stride s. */
const MOBILENETV2_SETTINGS: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];
/** smp takes encoder features after these `features` indices (strides 2, 4, 8, 16, 32). */
const SKIP_AFTER = new Set([1, 3, 6, 13]);
const DECODER_CHANNELS = [256, 128, 64, 32, 16];
const BN_EPS = 1e-5;

function walkUnet<T>(input: T, inChannels: number, classes: number, ops: UnetOps<T>): T {
  const skips: { x: T; channels: number }[] = [];
  let x = ops.conv(input, {
    weightKey: 'encoder.features.0.0.weight', bnPrefix: 'encoder.features.0.1',
    outChannels: 32, inChannels, kernel: 3, stride: 2, group: 1, activation: 'relu6',
  });
  let channels = 32;
  let index = 1;
  for (const [t, c, n, s] of MOBILENETV2_SETTINGS) {
    for (let r = 0; r < n; r++, index++) {
      const stride = r === 0 ? s : 1;
      const hidden = channels * t;
      const p = `encoder.features.${index}.conv`;
      let h = x;
      let next = 0;
      if (t !== 1) {
        h = ops.conv(h, {
          weightKey: `${p}.0.0.weight`, bnPrefix: `${p}.0.1`,
          outChannels: hidden, inChannels: channels, kernel: 1, stride: 1, group: 1, activation: 'relu6',
        });
        next = 1;
      }
      h = ops.conv(h, {
        weightKey: `${p}.${next}.0.weight`, bnPrefix: `${p}.${next}.1`,
        outChannels: hidden, inChannels: hidden, kernel: 3, stride, group: hidden, activation: 'relu6',
      });
      h = ops.conv(h, {
        weightKey: `${p}.${next + 1}.weight`, bnPrefix: `${p}.${next + 2}`,
        outChannels: c, inChannels: hidden, kernel: 1, stride: 1, group: 1, activation: 'none',
      });
      x = stride === 1 && channels === c ? ops.add(x, h) : h;
      channels = c;
      if (SKIP_AFTER.has(index)) skips.push({ x, channels });
    }
  }
  x = ops.conv(x, {
    weightKey: `encoder.features.${index}.0.weight`, bnPrefix: `encoder.features.${index}.1`,
    outChannels: 1280, inChannels: channels, kernel: 1, stride: 1, group: 1, activation: 'relu6',
  });
  channels = 1280;

  skips.reverse();
  DECODER_CHANNELS.forEach((out, i) => {
    const skip = skips[i];
    x = ops.upsample2x(x);
    // smp concatenates the upsampled features first, then the skip.
    if (skip) x = ops.concat(x, skip.x);
    const p = `decoder.blocks.${i}`;
    x = ops.conv(x, {
      weightKey: `${p}.conv1.0.weight`, bnPrefix: `${p}.conv1.1`,
      outChannels: out, inChannels: channels + (skip?.channels ?? 0), kernel: 3, stride: 1, group: 1, activation: 'relu',
    });
    x = ops.conv(x, {
      weightKey: `${p}.conv2.0.weight`, bnPrefix: `${p}.conv2.1`,
      outChannels: out, inChannels: out, kernel: 3, stride: 1, group: 1, activation: 'relu',
    });
    channels = out;
  });
  return ops.conv(x, {
    weightKey: 'segmentation_head.0.weight', biasKey: 'segmentation_head.0.bias',
    outChannels: classes, inChannels: channels, kernel: 3, stride: 1, group: 1, activation: 'none',
  });
}

/** The convolutions of the network in graph order. */
export function unetConvLayers(inChannels: number, classes: number): ConvLayer[] {
  const layers: ConvLayer[] = [];
  walkUnet<null>(null, inChannels, classes, {
    conv: (_x, layer) => (layers.push(layer), null),
    add: () => null,
    upsample2x: () => null,
    concat: () => null,
  });
  return layers;
}

export const weightShape = (l: ConvLayer): number[] => [l.outChannels, l.inChannels / l.group, l.kernel, l.kernel];

/** Every key of the smp state dict with its shape, in module order. */
export function unetStateDictSpec(inChannels: number, classes: number): { key: string; shape: number[] }[] {
  return unetConvLayers(inChannels, classes).flatMap((l) => [
    { key: l.weightKey, shape: weightShape(l) },
    ...(l.biasKey ? [{ key: l.biasKey, shape: [l.outChannels] }] : []),
    ...(l.bnPrefix
      ? ['weight', 'bias', 'running_mean', 'running_var'].map((s) => ({ key: `${l.bnPrefix}.${s}`, shape: [l.outChannels] }))
          .concat([{ key: `${l.bnPrefix}.num_batches_tracked`, shape: [] }])
      : []),
  ]);
}


/** Box-Muller, using both values of each pair: weight generation is most of a synthetic build's time. */
function gaussian(next: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(1 - next()));
    const theta = 2 * Math.PI * next();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

/**
 * A seeded state dict with smp's exact keys and shapes. Conv weights are He-scaled (gain 2 before a
 * (clamped) ReLU, 1 before a linear output) so activations keep their scale through the depth; batch-norm
 * statistics are drawn near identity but not at it, so folding them is exercised.
 */
export function syntheticUnetStateDict(inChannels: number, classes: number, seed: number): StateDict {
  const uniform = mulberry32(seed);
  const normal = gaussian(uniform);
  const fill = (n: number, f: () => number) => Float32Array.from({ length: n }, f);
  const sd: StateDict = new Map();
  for (const l of unetConvLayers(inChannels, classes)) {
    const shape = weightShape(l);
    const fanIn = shape[1] * shape[2] * shape[3];
    const std = Math.sqrt((l.activation === 'none' ? 1 : 2) / fanIn);
    sd.set(l.weightKey, { dtype: 'float32', shape, data: fill(shape.reduce((a, b) => a * b, 1), () => normal() * std) });
    const c = l.outChannels;
    if (l.biasKey) sd.set(l.biasKey, { dtype: 'float32', shape: [c], data: fill(c, () => normal() * 0.1) });
    if (l.bnPrefix) {
      sd.set(`${l.bnPrefix}.weight`, { dtype: 'float32', shape: [c], data: fill(c, () => 0.75 + 0.5 * uniform()) });
      sd.set(`${l.bnPrefix}.bias`, { dtype: 'float32', shape: [c], data: fill(c, () => normal() * 0.05) });
      sd.set(`${l.bnPrefix}.running_mean`, { dtype: 'float32', shape: [c], data: fill(c, () => normal() * 0.05) });
      sd.set(`${l.bnPrefix}.running_var`, { dtype: 'float32', shape: [c], data: fill(c, () => 0.75 + 0.5 * uniform()) });
      sd.set(`${l.bnPrefix}.num_batches_tracked`, { dtype: 'int64', shape: [], data: BigInt64Array.of(0n) });
    }
  }
  return sd;
}

/**
 * Checks a state dict against the architecture and returns a lookup by smp key. Checkpoints that wrap
 * the network (Lightning's `model.` prefix) are accepted: the prefix is found from the first conv key.
 */
function checkedStateDict(sd: StateDict, inChannels: number, classes: number): (key: string) => Float32Array {
  const spec = unetStateDictSpec(inChannels, classes);
  const anchor = spec[0].key;
  const anchorKey = [...sd.keys()].find((k) => k === anchor || k.endsWith(`.${anchor}`));
  if (anchorKey === undefined) {
    throw modelError(`state dict has no ${anchor}: it is not an smp Unet(encoder_name="mobilenet_v2")`, 'export the weights of that architecture (model.state_dict())');
  }
  const prefix = anchorKey.slice(0, anchorKey.length - anchor.length);
  const expected = new Set(spec.map((s) => prefix + s.key));
  const unexpected = [...sd.keys()].filter((k) => !expected.has(k));
  if (unexpected.length > 0) {
    throw modelError(
      `state dict has keys the mobilenet_v2 Unet does not use: ${unexpected.slice(0, 3).join(', ')}${unexpected.length > 3 ? ` (+${unexpected.length - 3})` : ''}`,
      'build from weights of smp Unet(encoder_name="mobilenet_v2") with the default decoder and no attention',
    );
  }
  for (const { key, shape } of spec) {
    const t: PtTensor | undefined = sd.get(prefix + key);
    if (!t) throw modelError(`state dict lacks ${prefix + key} (expected shape [${shape.join(', ')}])`, 'check the weights belong to this architecture and band count');
    if (t.shape.join(',') !== shape.join(',')) {
      throw modelError(
        `state dict key ${prefix + key} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`,
        `check --bands/--classes match the weights (in ${inChannels}, classes ${classes})`,
      );
    }
  }
  return (key) => {
    const t = sd.get(prefix + key)!;
    if (t.dtype === 'int64') throw modelError(`state dict key ${prefix + key} is int64, expected a float tensor`, 'save the weights as float32');
    return t.data;
  };
}

/** Conv weights and bias with the following batch norm folded in, computed in float64. */
function foldBatchNorm(layer: ConvLayer, get: (key: string) => Float32Array): { weight: Float32Array; bias: Float32Array } {
  const w = get(layer.weightKey);
  const c = layer.outChannels;
  const perOut = w.length / c;
  const bias0 = layer.biasKey ? get(layer.biasKey) : new Float32Array(c);
  if (!layer.bnPrefix) return { weight: w, bias: bias0 };
  const gamma = get(`${layer.bnPrefix}.weight`);
  const beta = get(`${layer.bnPrefix}.bias`);
  const mean = get(`${layer.bnPrefix}.running_mean`);
  const variance = get(`${layer.bnPrefix}.running_var`);
  const weight = new Float32Array(w.length);
  const bias = new Float32Array(c);
  for (let o = 0; o < c; o++) {
    const k = gamma[o] / Math.sqrt(variance[o] + BN_EPS);
    for (let j = o * perOut; j < (o + 1) * perOut; j++) weight[j] = w[j] * k;
    bias[o] = (bias0[o] - mean[o]) * k + beta[o];
  }
  return { weight, bias };
}

export type UnetWeights =
  | { kind: 'synthetic'; seed: number }
  | { kind: 'state-dict'; tensors: StateDict };

export interface UnetBuildOptions {
  inBands: string[];
  classes: number;
  weights: UnetWeights;
  opset?: number;
  /**
   * 'fold' (default) merges each batch norm into its conv, as inference wants. 'explicit' keeps
   * BatchNormalization nodes: the unfolded reference that checks the folding against onnxruntime.
   */
  batchNorm?: 'fold' | 'explicit';
}

export const UNET_INPUT = 'input';
export const UNET_OUTPUT = 'output';
export const MIN_OPSET = 13;
export const MAX_OPSET = 21;

/** Builds the ONNX model: input `[batch, C, height, width]` float32 (H, W multiples of 32), output `[batch, K, height, width]` logits. */
export function buildUnetMobilenetV2(options: UnetBuildOptions): Uint8Array {
  const { inBands, classes } = options;
  const opset = options.opset ?? 13;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw modelError(`opset ${opset} is not supported for the UNet`, `use an opset from ${MIN_OPSET} to ${MAX_OPSET}`);
  }
  if (inBands.length < 1 || !Number.isInteger(classes) || classes < 1) {
    throw modelError(`a UNet needs at least one input band and one class (got ${inBands.length} bands, ${classes} classes)`, 'give the band list and class count');
  }
  const C = inBands.length;
  const sd = options.weights.kind === 'synthetic' ? syntheticUnetStateDict(C, classes, options.weights.seed) : options.weights.tensors;
  const get = checkedStateDict(sd, C, classes);
  const explicitBn = options.batchNorm === 'explicit';

  const g = new OnnxGraphBuilder('unet_mobilenet_v2');
  const input = g.input(UNET_INPUT, ['batch', C, 'height', 'width']);
  const clipMin = g.initializer('relu6_min', { dtype: 'float32', dims: [], data: Float32Array.of(0) });
  const clipMax = g.initializer('relu6_max', { dtype: 'float32', dims: [], data: Float32Array.of(6) });
  const scales = g.initializer('upsample_scales', { dtype: 'float32', dims: [4], data: Float32Array.of(1, 1, 2, 2) });
  // The head is the last conv and has no activation, so its output is the graph output.
  const headKey = unetConvLayers(C, classes).at(-1)?.weightKey;

  walkUnet(input, C, classes, {
    conv: (x, l) => {
      const name = l.weightKey.replace(/\.weight$/, '');
      const folded = explicitBn ? undefined : foldBatchNorm(l, get);
      const inputs = [x, g.initializer(`${name}.weight`, { dtype: 'float32', dims: weightShape(l), data: folded?.weight ?? get(l.weightKey) })];
      if (folded) inputs.push(g.initializer(`${name}.bias`, { dtype: 'float32', dims: [l.outChannels], data: folded.bias }));
      else if (l.biasKey) inputs.push(g.initializer(l.biasKey, { dtype: 'float32', dims: [l.outChannels], data: get(l.biasKey) }));
      const pad = (l.kernel - 1) / 2;
      let y = g.node('Conv', inputs, {
        name,
        outputs: l.weightKey === headKey ? [UNET_OUTPUT] : undefined,
        attrs: {
          kernel_shape: attr.ints([l.kernel, l.kernel]),
          strides: attr.ints([l.stride, l.stride]),
          pads: attr.ints([pad, pad, pad, pad]),
          group: attr.int(l.group),
        },
      })[0];
      if (explicitBn && l.bnPrefix) {
        const bn = ['weight', 'bias', 'running_mean', 'running_var'].map((s) =>
          g.initializer(`${l.bnPrefix}.${s}`, { dtype: 'float32', dims: [l.outChannels], data: get(`${l.bnPrefix}.${s}`) }),
        );
        y = g.op('BatchNormalization', [y, ...bn], { epsilon: attr.float(BN_EPS) }, l.bnPrefix);
      }
      if (l.activation === 'relu6') y = g.op('Clip', [y, clipMin, clipMax]);
      if (l.activation === 'relu') y = g.op('Relu', [y]);
      return y;
    },
    add: (a, b) => g.op('Add', [a, b]),
    upsample2x: (x) =>
      g.op('Resize', [x, '', scales], {
        mode: attr.string('nearest'),
        coordinate_transformation_mode: attr.string('asymmetric'),
        nearest_mode: attr.string('floor'),
      }),
    concat: (a, b) => g.op('Concat', [a, b], { axis: attr.int(1) }),
  });
  g.output(UNET_OUTPUT, ['batch', classes, 'height', 'width']);

  return encodeModel(
    g.toModel({
      opset,
      docString:
        `smp Unet(encoder_name="mobilenet_v2", in_channels=${C}, classes=${classes}), batch norm ${explicitBn ? 'explicit' : 'folded'}; ` +
        `input bands ${inBands.join(' ')}; input = reflectance (DN/10000), H and W multiples of 32; output = logits`,
      metadata: { inputBands: inBands.join(','), weights: options.weights.kind },
    }),
  );
}
