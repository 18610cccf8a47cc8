import { describe, expect, it } from 'vitest';
import {
  attr,
  countParameters,
  decodeModel,
  encodeModel,
  halfToFloat32,
  nodeAttribute,
  OnnxDataType,
  OnnxGraphBuilder,
  tensorToFloat32,
  tensorToInts,
} from '../../src/models/onnx-writer.js';
import { runOnce } from './ort-helpers.js';

/** y = Relu(Conv1x1(x) + b) * 2, with a typed attribute of each kind on the way. */
function tinyModel(): Uint8Array {
  const g = new OnnxGraphBuilder('tiny');
  const x = g.input('x', ['batch', 2, 'h', 'w']);
  const w = g.initializer('w', { dtype: 'float32', dims: [1, 2, 1, 1], data: Float32Array.of(1, -1) });
  const b = g.initializer('b', { dtype: 'float32', dims: [1], data: Float32Array.of(0.5) });
  const two = g.initializer('two', { dtype: 'float32', dims: [], data: Float32Array.of(2) });
  const conv = g.op('Conv', [x, w, b], { kernel_shape: attr.ints([1, 1]), group: attr.int(1) });
  const relu = g.op('Relu', [conv]);
  g.node('Mul', [relu, two], { outputs: ['y'] });
  g.output('y', ['batch', 1, 'h', 'w']);
  return encodeModel(g.toModel({ opset: 13, docString: 'tiny', metadata: { k: 'v' } }));
}

describe('ONNX writer', () => {
  it('round-trips through its own decoder', () => {
    const m = decodeModel(tinyModel());
    expect(m.irVersion).toBe(7);
    expect(m.opsetImport).toEqual([{ domain: '', version: 13 }]);
    expect(m.metadataProps).toEqual([{ key: 'k', value: 'v' }]);
    expect(m.graph!.node!.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Mul']);
    const conv = m.graph!.node![0];
    expect(nodeAttribute(conv, 'kernel_shape')).toMatchObject({ type: 7, ints: [1, 1] });
    expect(nodeAttribute(conv, 'group')).toMatchObject({ type: 2, i: 1 });
    expect(m.graph!.input![0].type!.tensorType!.shape!.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 2 }, { dimParam: 'h' }, { dimParam: 'w' }]);
    const w = m.graph!.initializer!.find((t) => t.name === 'w')!;
    expect(Array.from(tensorToFloat32(w))).toEqual([1, -1]);
    expect(countParameters(m)).toBe(3);
  });

  it('produces a model onnxruntime runs with the expected result', async () => {
    const out = await runOnce(tinyModel(), Float32Array.of(3, 1, 0, 2), [1, 2, 1, 2]);
    // channel 0 = [3, 1], channel 1 = [0, 2]: relu(x0 - x1 + 0.5) * 2
    expect(Array.from(out.data as Float32Array)).toEqual([7, 0]);
  });

  it('catches wiring mistakes when they are made', () => {
    const g = new OnnxGraphBuilder('bad');
    const x = g.input('x', [1]);
    expect(() => g.op('Relu', ['nope'])).toThrow(/reads nope, which is not defined yet/);
    g.node('Relu', [x], { outputs: ['y'] });
    expect(() => g.node('Relu', [x], { outputs: ['y'] })).toThrow(/value y is defined twice/);
    expect(() => g.output('z', [1])).toThrow(/output z is never produced/);
    expect(() => g.initializer('w', { dtype: 'float32', dims: [2, 2], data: new Float32Array(3) })).toThrow(/3 values for dims \[2, 2\]/);
  });

  it('reads float16, float_data and int64 tensors', () => {
    expect(Array.from(halfToFloat32(Uint16Array.of(0x3c00, 0xbc00, 0x0001, 0x7c00, 0x3800)))).toEqual([1, -1, 2 ** -24, Infinity, 0.5]);
    const halfRaw = new Uint8Array(Uint16Array.of(0x4000, 0x3400).buffer);
    expect(Array.from(tensorToFloat32({ dataType: OnnxDataType.float16, dims: [2], rawData: halfRaw }))).toEqual([2, 0.25]);
    expect(Array.from(tensorToFloat32({ dataType: OnnxDataType.float, dims: [2], floatData: [1.5, -2] }))).toEqual([1.5, -2]);
    const g = new OnnxGraphBuilder('ints');
    g.initializer('idx', { dtype: 'int64', dims: [3], data: [0, 11, 12] });
    const t = decodeModel(encodeModel(g.toModel({ opset: 13 }))).graph!.initializer![0];
    expect(tensorToInts(t)).toEqual([0, 11, 12]);
    expect(() => tensorToFloat32(t)).toThrow(/not a float type/);
  });

  it('says a damaged file is not ONNX', () => {
    expect(() => decodeModel(Uint8Array.of(0x0a, 0xff, 0xff), 'broken.onnx')).toThrow(/broken\.onnx is not a readable ONNX file/);
  });
});
