import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { L1C_BANDS } from '../../src/raster/bands.js';
import { countParameters, decodeModel, nodeAttribute, type OnnxModel } from '../../src/models/onnx-writer.js';
import { irConstShape, irLayerCounts, readOpenVinoIr, type IrModel } from '../../src/models/openvino-ir.js';
import type { StateDict } from '../../src/models/pt-import.js';
import {
  buildUnetMobilenetV2,
  syntheticUnetStateDict,
  unetStateDictSpec,
} from '../../src/models/unet-mobilenetv2.js';
import { haveShared, sharedModelsDir } from '../helpers/shared.js';
import { maxAbsDiff, runOnce, seededUniform } from './ort-helpers.js';

const bands = [...L1C_BANDS];
const irPath = path.join(sharedModelsDir, 'dtacsnet', 'original', 'CDmodel_512.xml');

/** Node counts in the categories the IR uses. */
function onnxCounts(model: OnnxModel): Record<string, number> {
  const counts: Record<string, number> = {};
  const bump = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  for (const n of model.graph!.node!) {
    if (n.opType === 'Conv') bump((nodeAttribute(n, 'group')?.i ?? 1) === 1 ? 'Convolution' : 'GroupConvolution');
    else if (n.opType === 'Clip') bump('Clamp');
    else if (n.opType === 'Relu') bump('ReLU');
    else if (n.opType === 'Resize') bump('Interpolate');
    else bump(n.opType);
  }
  return counts;
}

function convWeightShapes(model: OnnxModel): number[][] {
  const dims = new Map(model.graph!.initializer!.map((t) => [t.name!, t.dims!]));
  return model.graph!.node!.filter((n) => n.opType === 'Conv').map((n) => dims.get(n.input![1])!);
}

describe('MobileNetV2-UNet builder', () => {
  let model: OnnxModel;
  let bytes: Uint8Array;
  beforeAll(() => {
    bytes = buildUnetMobilenetV2({ inBands: bands, classes: 4, weights: { kind: 'synthetic', seed: 1 } });
    model = decodeModel(bytes);
  });

  it('declares dynamic batch, height and width', () => {
    const dims = (v: NonNullable<OnnxModel['graph']>['input']) => v![0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam ?? d.dimValue);
    expect(dims(model.graph!.input)).toEqual(['batch', 13, 'height', 'width']);
    expect(dims(model.graph!.output)).toEqual(['batch', 4, 'height', 'width']);
  });

  it('uses nearest x2 upsampling and ReLU6 as Clip(0, 6)', () => {
    const resize = model.graph!.node!.find((n) => n.opType === 'Resize')!;
    expect(new TextDecoder().decode(nodeAttribute(resize, 'mode')!.s)).toBe('nearest');
    const clip = model.graph!.node!.find((n) => n.opType === 'Clip')!;
    const init = new Map(model.graph!.initializer!.map((t) => [t.name!, t]));
    expect(clip.input!.slice(1).map((n) => new Float32Array(new Uint8Array(init.get(n)!.rawData!).buffer)[0])).toEqual([0, 6]);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const again = buildUnetMobilenetV2({ inBands: bands, classes: 4, weights: { kind: 'synthetic', seed: 1 } });
    const other = buildUnetMobilenetV2({ inBands: bands, classes: 4, weights: { kind: 'synthetic', seed: 2 } });
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(other).equals(Buffer.from(bytes))).toBe(false);
  });

  it('runs in onnxruntime at 64x64 and 512x512 with finite, varied logits', async () => {
    for (const side of [64, 512]) {
      const dims = [1, 13, side, side];
      const out = await runOnce(bytes, seededUniform(13 * side * side, side, 0, 0.5), dims);
      expect(out.dims).toEqual([1, 4, side, side]);
      const data = out.data as Float32Array;
      expect(data.every(Number.isFinite)).toBe(true);
      const max = data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(max).toBeLessThan(1e4);
      const distinct = new Set(data.slice(0, 4096));
      expect(distinct.size).toBeGreaterThan(100);
    }
  }, 60_000);

  it('refuses a missing or mis-shaped key, naming it with both shapes', () => {
    const sd: StateDict = syntheticUnetStateDict(13, 4, 3);
    const broken = new Map(sd);
    broken.set('decoder.blocks.2.conv1.0.weight', { dtype: 'float32', shape: [64, 150, 3, 3], data: new Float32Array(64 * 150 * 9) });
    expect(() => buildUnetMobilenetV2({ inBands: bands, classes: 4, weights: { kind: 'state-dict', tensors: broken } })).toThrow(
      /decoder\.blocks\.2\.conv1\.0\.weight has shape \[64, 150, 3, 3\], expected \[64, 152, 3, 3\]/,
    );
    const missing = new Map(sd);
    missing.delete('encoder.features.5.conv.1.1.running_var');
    expect(() => buildUnetMobilenetV2({ inBands: bands, classes: 4, weights: { kind: 'state-dict', tensors: missing } })).toThrow(
      /lacks encoder\.features\.5\.conv\.1\.1\.running_var \(expected shape \[192\]\)/,
    );
  });

  it('accepts a Lightning-style prefix on every key', () => {
    const prefixed: StateDict = new Map([...syntheticUnetStateDict(4, 2, 5)].map(([k, v]) => [`model.${k}`, v]));
    expect(() => buildUnetMobilenetV2({ inBands: ['B08', 'B04', 'B03', 'B02'], classes: 2, weights: { kind: 'state-dict', tensors: prefixed } })).not.toThrow();
  });

  it('folds batch norm exactly: equals the unfolded graph with BatchNormalization nodes', async () => {
    const sd = syntheticUnetStateDict(13, 4, 11);
    const weights = { kind: 'state-dict' as const, tensors: sd };
    const folded = buildUnetMobilenetV2({ inBands: bands, classes: 4, weights });
    const explicit = buildUnetMobilenetV2({ inBands: bands, classes: 4, weights, batchNorm: 'explicit' });
    expect(onnxCounts(decodeModel(explicit)).BatchNormalization).toBe(62);
    expect(onnxCounts(decodeModel(folded)).BatchNormalization).toBeUndefined();
    const dims = [1, 13, 64, 64];
    const x = seededUniform(13 * 64 * 64, 5, 0, 0.5);
    const [a, b] = [await runOnce(folded, x, dims), await runOnce(explicit, x, dims)];
    const ref = b.data as Float32Array;
    const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale).toBeGreaterThan(0);
    expect(maxAbsDiff(a.data as Float32Array, ref) / scale).toBeLessThan(1e-4);
  }, 30_000);

  it('lists the smp state-dict keys with their shapes', () => {
    const spec = new Map(unetStateDictSpec(13, 4).map((s) => [s.key, s.shape]));
    expect(spec.get('encoder.features.0.0.weight')).toEqual([32, 13, 3, 3]);
    expect(spec.get('encoder.features.1.conv.0.0.weight')).toEqual([32, 1, 3, 3]);
    expect(spec.get('encoder.features.1.conv.1.weight')).toEqual([16, 32, 1, 1]);
    expect(spec.get('encoder.features.1.conv.2.running_mean')).toEqual([16]);
    expect(spec.get('encoder.features.17.conv.3.num_batches_tracked')).toEqual([]);
    expect(spec.get('encoder.features.18.0.weight')).toEqual([1280, 320, 1, 1]);
    expect(spec.get('decoder.blocks.0.conv1.0.weight')).toEqual([256, 1376, 3, 3]);
    expect(spec.get('decoder.blocks.4.conv2.1.running_var')).toEqual([16]);
    expect(spec.get('segmentation_head.0.bias')).toEqual([4]);
    expect([...spec.keys()].some((k) => k.startsWith('encoder.classifier'))).toBe(false);
  });

  describe.runIf(haveShared('models/dtacsnet/original'))('against the authors\' OpenVINO IR CDmodel_512.xml', () => {
    let ir: IrModel;
    beforeAll(async () => {
      ir = await readOpenVinoIr(irPath);
    });

    it('has the same number of layers of each kind', () => {
      const irCounts = irLayerCounts(ir);
      const ours = onnxCounts(model);
      for (const type of ['Convolution', 'GroupConvolution', 'Clamp', 'ReLU', 'Interpolate', 'Concat']) {
        expect([type, ours[type]]).toEqual([type, irCounts.get(type)]);
      }
      expect(irCounts.get('Convolution')).toBe(46);
      expect(irCounts.get('GroupConvolution')).toBe(17);
      // The IR's remaining Adds are conv biases; ours are only the residual connections.
      const convs = irCounts.get('Convolution')! + irCounts.get('GroupConvolution')!;
      expect(ours.Add).toBe(irCounts.get('Add')! - convs);
    });

    it('has the same convolution weight shapes in the same order, and the same parameter count', () => {
      const irConvs = ir.layers.filter((l) => l.type === 'Convolution' || l.type === 'GroupConvolution');
      // GroupConvolution weights are [groups, out/groups, in/groups, k, k]; ONNX folds the first two.
      const irShapes = irConvs.map((l) => {
        const s = irConstShape(ir, l.id, 1)!;
        return l.type === 'GroupConvolution' ? [s[0] * s[1], ...s.slice(2)] : s;
      });
      expect(convWeightShapes(model)).toEqual(irShapes);

      const biasOf = (convId: number) => {
        const addEdge = ir.edges.find((e) => e.fromLayer === convId)!;
        return irConstShape(ir, addEdge.toLayer, 1)!;
      };
      const irParams = irConvs.reduce(
        (n, l) => n + [irConstShape(ir, l.id, 1)!, biasOf(l.id)].reduce((m, s) => m + s.reduce((a, b) => a * b, 1), 0),
        0,
      );
      expect(countParameters(model)).toBe(irParams);
      expect(irParams).toBeGreaterThan(6.5e6);
      expect(irParams).toBeLessThan(6.7e6);
    });

    it('concatenates skips at the IR\'s channel widths', () => {
      const irConcat = ir.layers.filter((l) => l.type === 'Concat').map((l) => l.outputs[0].dims[1]);
      expect(irConcat).toEqual([1376, 288, 152, 80]);
      const shapes = convWeightShapes(model);
      const decoderIn = shapes.filter((s) => s[2] === 3 && s[1] > 1).map((s) => s[1]);
      expect(decoderIn.slice(1, 9).filter((_c, i) => i % 2 === 0)).toEqual(irConcat);
    });
  });
});
