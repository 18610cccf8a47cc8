import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gdal, hil } from '../helpers/cli.js';
import { haveShared, sharedDataDir, sharedModelsDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

const ready = haveShared('models/dtacsnet');

/** Every bad input: one line on stderr naming problem and fix, exit 2, and nothing left that looks like a result. */
function expectCleanRefusal(args: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}) {
  const out = tempDir('hil-bad-');
  const r = hil([...args, '--out', out], env);
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^hil: .+ — .+/);
  expect(lines[0]).toMatch(pattern);
  const left = existsSync(out) ? readdirSync(out, { recursive: true }).map(String) : [];
  expect(left.filter((f) => f.endsWith('.json') || f.endsWith('.tif') || f.includes('.partial-'))).toEqual([]);
}

const base = ['run', '--target', 'local', '--res', '60', '--scenario', 'ac', '--models-dir', sharedModelsDir];

describe.runIf(ready)('hil run refuses bad input cleanly', () => {
  it('a missing input', () => expectCleanRefusal([...base, '--input', '/nonexistent/tile.tif'], /does not exist/));

  it('an input that is not a GeoTIFF', () => {
    const f = path.join(tempDir('hil-txt-'), 'tile.tif');
    writeFileSync(f, 'this is not a TIFF\n'.repeat(100));
    expectCleanRefusal([...base, '--input', f], /TIFF/i);
  });

  it('an input with fewer bands than the model needs', () =>
    expectCleanRefusal([...base, '--ac-model', 'CNN_corrector', '--input', path.join(sharedDataDir, 'ukis-csmask/sentinel2_toa.tif'), '--bands', 'B02,B03,B04,B08,B11,B12'], /lacks bands B01, B05, B06, B07, B8A, B09, B10/));

  it('a model file whose sha256 does not match its manifest', () => {
    const models = tempDir('hil-models-');
    cpSync(path.join(sharedModelsDir, 'dtacsnet'), path.join(models, 'dtacsnet'), { recursive: true });
    chmodSync(path.join(models, 'dtacsnet/onnx'), 0o755);
    chmodSync(path.join(models, 'dtacsnet/onnx/CNN_corrector.onnx'), 0o644);
    writeFileSync(path.join(models, 'dtacsnet/onnx/CNN_corrector.onnx'), Buffer.from('corrupted'), { flag: 'a' });
    expectCleanRefusal(['run', '--target', 'local', '--res', '60', '--ac-model', 'CNN_corrector', '--models-dir', models], /sha256 .* but manifest/);
  });

  it('an unknown target', () => expectCleanRefusal([...base, '--target', 'moon-base'], /unknown target moon-base/));

  it('an unknown model id', () => expectCleanRefusal([...base, '--ac-model', 'CNN_nonexistent'], /unknown model CNN_nonexistent/));

  it('an output folder that is not writable', () => {
    const dir = tempDir('hil-ro-');
    const file = path.join(dir, 'a-file');
    writeFileSync(file, '');
    const r = hil([...base, '--out', path.join(file, 'results')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/not writable .* — choose a writable folder/);
  });

  it('an unknown resolution or scenario', () => {
    expectCleanRefusal([...base, '--res', '15'], /--res 15 is not a Sentinel-2 resolution/);
    expectCleanRefusal([...base, '--scenario', 'everything'], /--scenario everything is unknown/);
  });

  it('a truncated GeoTIFF (a real tile cut in half)', () => {
    const dir = tempDir('hil-cut-');
    const tile = path.join(dir, 'tile.tif');
    expect(hil(['data', 'synth', '--res', '60', '--size', '600', '--out', tile]).code).toBe(0);
    const bytes = readFileSync(tile);
    writeFileSync(tile, bytes.subarray(0, bytes.length >> 1));
    expectCleanRefusal([...base, '--input', tile], /truncated|damaged|corrupt/i);
  });

  it('a GeoTIFF whose header is whole but a block in the middle is damaged (found mid-run, by the input thread)', () => {
    const dir = tempDir('hil-damaged-');
    const tile = path.join(dir, 'tile.tif');
    expect(hil(['data', 'synth', '--res', '60', '--size', '600', '--out', tile]).code).toBe(0);
    const bytes = readFileSync(tile);
    bytes.fill(0xff, bytes.length >> 1, (bytes.length >> 1) + 20000);
    writeFileSync(tile, bytes);
    // This run gets as far as the target: a cache of its own keeps it off the lock that other test files'
    // runs hold, whose "waiting" line would be a second line on stderr.
    expectCleanRefusal([...base, '--input', tile], /tile\.tif is truncated or corrupt: block \d+ does not decode/, { HIL_CACHE_DIR: path.join(dir, 'cache') });
  });

  it('an input of 8-bit samples, which cannot hold L1C digital numbers', () => {
    const dir = tempDir('hil-u8-');
    const src = path.join(dir, 'tile.tif');
    expect(hil(['data', 'synth', '--res', '60', '--size', '256', '--out', src]).code).toBe(0);
    const u8 = path.join(dir, 'u8.tif');
    gdal('gdal_translate', ['-q', '-ot', 'Byte', '-scale', src, u8]);
    expectCleanRefusal([...base, '--input', u8], /holds uint8 samples/);
  });

  it('a fixed-size model with a different patch size', () =>
    expectCleanRefusal([...base, '--ac-model', 'CNN_corrector_512', '--patch', '256'], /fixed 512×512 inputs .* 256×256/));

  it('an overlap of half the patch or more', () => expectCleanRefusal([...base, '--patch', '256', '--overlap', '128'], /overlap 128 is not less than half/));

  it('a scene-classification patch that the UNet cannot take', () => {
    expect(hil(['models', 'build', 'unet-mobilenetv2']).code).toBe(0);
    expectCleanRefusal(['run', '--res', '60', '--scenario', 'sc', '--sc-model', 'dtacsnet-synthetic', '--patch', '520', '--overlap', '12'], /divisible by 32/);
  });
});
