import { describe, expect, it } from 'vitest';
import { irConstShape, irLayerCounts, irProducer, parseOpenVinoIr } from '../../src/models/openvino-ir.js';

const xml = `<?xml version="1.0" ?>
<!-- written by hand -->
<net name="t&amp;t" version="11">
  <layers>
    <layer id="0" name="in" type="Parameter" version="opset1">
      <data shape="1,3,8,8" element_type="f32"/>
      <output><port id="0" precision="FP32" names="input"><dim>1</dim><dim>3</dim><dim>-1</dim><dim>8</dim></port></output>
    </layer>
    <layer id="1" name="w_c" type="Const" version="opset1">
      <data element_type="f16" shape="4, 3, 3, 3" offset="0" size="216"/>
      <output><port id="0" precision="FP16"><dim>4</dim><dim>3</dim><dim>3</dim><dim>3</dim></port></output>
    </layer>
    <layer id="2" name="w" type="Convert" version="opset1">
      <data destination_type="f32"/>
      <input><port id="0"/></input>
      <output><port id="1" precision="FP32"/></output>
    </layer>
    <layer id="3" name="conv" type="Convolution" version="opset1">
      <data strides="1, 1" pads_begin="1, 1"/>
      <input><port id="0"/><port id="1"/></input>
      <output><port id="2"><dim>1</dim><dim>4</dim><dim>8</dim><dim>8</dim></port></output>
    </layer>
  </layers>
  <edges>
    <edge from-layer="0" from-port="0" to-layer="3" to-port="0"/>
    <edge from-layer="1" from-port="0" to-layer="2" to-port="0"/>
    <edge from-layer="2" from-port="1" to-layer="3" to-port="1"/>
  </edges>
</net>`;

describe('OpenVINO IR reader', () => {
  it('reads layers, attributes, port shapes and edges', () => {
    const ir = parseOpenVinoIr(xml);
    expect(ir.name).toBe('t&t');
    expect(ir.version).toBe(11);
    expect(Object.fromEntries(irLayerCounts(ir))).toEqual({ Parameter: 1, Const: 1, Convert: 1, Convolution: 1 });
    const input = ir.layers[0];
    expect(input.outputs[0]).toEqual({ id: 0, precision: 'FP32', names: 'input', dims: [1, 3, -1, 8] });
    expect(ir.layers[3].data.pads_begin).toBe('1, 1');
    expect(irProducer(ir, 3, 0)?.name).toBe('in');
    expect(irConstShape(ir, 3, 1)).toEqual([4, 3, 3, 3]);
    expect(irConstShape(ir, 3, 0)).toBeUndefined();
  });

  it('names malformed files', () => {
    expect(() => parseOpenVinoIr('<net><layers></net>', 'x.xml')).toThrow(/x\.xml: <\/net> closes <layers>/);
    expect(() => parseOpenVinoIr('<net><layers>', 'x.xml')).toThrow(/<layers> is never closed/);
    expect(() => parseOpenVinoIr('<model/>', 'x.xml')).toThrow(/not an OpenVINO IR/);
  });
});
