import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { attr, encodeModel, OnnxGraphBuilder } from '../../src/models/onnx-writer.js';
import { L1C_BANDS } from '../../src/raster/bands.js';
import { gdal, hil } from '../helpers/cli.js';
import { haveTool } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

const ready = haveTool('gdal_translate');

/**
 * A scene classifier whose receptive field is known exactly: three 3×3 convolutions, so each output
 * pixel depends on the 7×7 input pixels around it. With an overlap of at least 3 px, a tiled run must
 * give exactly the classes of a single pass wherever the single pass saw real pixels; with no overlap,
 * tile edges see reflected pixels instead of their neighbours and seams appear. (The MobileNetV2-UNet's
 * receptive field covers the whole patch, so it cannot give this exact check; this one tests the
 * engine's tiling, margins and stitching.)
 */
function writeConvClassifier(dir: string): string {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const g = new OnnxGraphBuilder('seam-probe');
  let x = g.input('input', ['batch', 13, 'height', 'width']);
  const widths = [13, 8, 8, 4];
  for (let l = 0; l < 3; l++) {
    const [cin, cout] = [widths[l], widths[l + 1]];
    const w = Float32Array.from({ length: cout * cin * 9 }, () => rand() * 2);
    const b = Float32Array.from({ length: cout }, () => rand() * 0.1);
    const inputs = [x, g.initializer(`w${l}`, { dtype: 'float32', dims: [cout, cin, 3, 3], data: w }), g.initializer(`b${l}`, { dtype: 'float32', dims: [cout], data: b })];
    x = g.node('Conv', inputs, { attrs: { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) }, outputs: l === 2 ? ['output'] : undefined })[0];
    if (l < 2) x = g.op('Relu', [x]);
  }
  g.output('output', ['batch', 4, 'height', 'width']);
  const bytes = encodeModel(g.toModel({ opset: 13 }));
  const file = path.join(dir, 'seam-probe.onnx');
  writeFileSync(file, bytes);
  writeFileSync(
    path.join(dir, 'seam-probe.json'),
    JSON.stringify({
      schema: 'hil.model/1', id: 'seam-probe', task: 'sc', format: 'onnx', file: 'seam-probe.onnx',
      sha256: createHash('sha256').update(bytes).digest('hex'), inputBands: L1C_BANDS, classes: ['clear', 'thick', 'thin', 'shadow'],
      spatial: { kind: 'dynamic', multipleOf: 1 }, patchSize: 96, overlap: 16, weights: 'synthetic', licence: 'test', provenance: 'test/e2e/seams.test.ts',
    }),
  );
  return path.join(dir, 'seam-probe.json');
}

function classes(file: string, size: number, srcwin?: [number, number]): Uint8Array {
  const out = `${file}.${srcwin?.join('_') ?? 'all'}.bin`;
  gdal('gdal_translate', ['-q', '-of', 'ENVI', ...(srcwin ? ['-srcwin', `${srcwin[0]}`, `${srcwin[1]}`, `${size}`, `${size}`] : []), file, out]);
  return new Uint8Array(readFileSync(out));
}

describe.runIf(ready)('tiled scene classification has no seams', () => {
  let dir: string;
  let model: string;
  let tile: string;
  const crop = { x: 160, y: 96, size: 208 };
  const run = (input: string, patch: number, overlap: number, batch = 1) => {
    const out = mkdtempSync(path.join(dir, 'run-'));
    const r = hil(['run', '--input', input, '--scenario', 'sc', '--sc-model', model, '--patch', `${patch}`, '--overlap', `${overlap}`, '--batch', `${batch}`, '--out', out, '--json']);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!).record.outputs.sc as string;
  };

  beforeAll(() => {
    dir = tempDir('hil-seams-');
    model = writeConvClassifier(dir);
    tile = path.join(dir, 'tile.tif');
    expect(hil(['data', 'synth', '--res', '60', '--size', '480', '--seed', '3', '--out', tile]).code).toBe(0);
  });

  it('gives the single-pass classes exactly, away from the crop border, when patches overlap by the receptive field', () => {
    const cropFile = path.join(dir, 'crop.tif');
    gdal('gdal_translate', ['-q', '-srcwin', `${crop.x}`, `${crop.y}`, `${crop.size}`, `${crop.size}`, tile, cropFile]);
    // One pass: the whole crop is a single patch.
    const whole = classes(run(cropFile, crop.size, 0), crop.size);
    // Tiled over the full image: 64 px tiles, 16 px margins, several seams cross the crop.
    const tiled = classes(run(tile, 96, 16), crop.size, [crop.x, crop.y]);
    const seamless = classes(run(tile, 64, 0), crop.size, [crop.x, crop.y]);
    const r = 3;
    let differ = 0;
    let differNoOverlap = 0;
    let counted = 0;
    for (let y = r; y < crop.size - r; y++) {
      for (let x = r; x < crop.size - r; x++) {
        const i = y * crop.size + x;
        counted++;
        if (tiled[i] !== whole[i]) differ++;
        if (seamless[i] !== whole[i]) differNoOverlap++;
      }
    }
    expect(new Set(whole).size).toBeGreaterThan(1);
    expect(differ).toBe(0);
    // Without overlap the tile edges do show: the check above can fail.
    expect(differNoOverlap).toBeGreaterThan(0);
    expect(differNoOverlap / counted).toBeLessThan(0.2);
  });

  it('gives the same classes with patches in batches of four and of three (the last one short)', () => {
    // 480 px in 64 px tiles: 64 patches, so batches of four end on a full one; 3 leaves a short last one.
    const single = classes(run(tile, 96, 16), 480);
    for (const batch of [4, 3]) expect(classes(run(tile, 96, 16, batch), 480), `batch ${batch}`).toEqual(single);
  });
});
