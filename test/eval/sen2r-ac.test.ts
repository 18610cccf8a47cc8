import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPtStateDict } from '../../src/models/pt-import.js';
import { hil } from '../helpers/cli.js';
import { haveShared, haveTool, sharedDataDir, sharedModelsDir } from '../helpers/shared.js';
import { gdalRead } from './gdal-read.js';

const ready = haveShared('data/sen2r') && haveShared('models/dtacsnet') && haveTool('gdalinfo');

const TOA_BANDS = ['B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B09', 'B10', 'B11', 'B12'];
const BOA_BANDS = ['B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B09', 'B11', 'B12'];
const PHISAT2 = ['B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08'];
const SAMPLES = [
  { id: '20170703', toa: 'S2A1C_20170703_022_Barbellino_TOA_10.tif', boa: 'S2A2A_20170703_022_Barbellino_BOA_10.tif', scl: 'S2A2A_20170703_022_Barbellino_SCL_10.tif' },
  { id: '20190723', toa: 'S2A1C_20190723_022_Barbellino_TOA_10.tif', boa: 'S2A2A_20190723_022_Barbellino_BOA_10.tif', scl: 'S2A2A_20190723_022_Barbellino_SCL_10.tif' },
];
/** SCL codes left out of RMSE (REFERENCE.md): no data, defective, shadow, cloud medium/high, cirrus. */
const SCL_EXCLUDED = new Set([0, 1, 3, 8, 9, 10]);
const NODATA = 65535;

interface Sums {
  sq: number[];
  baseSq: number[];
  diff: number[];
  n: number[];
}
const zero = (): Sums => ({ sq: PHISAT2.map(() => 0), baseSq: PHISAT2.map(() => 0), diff: PHISAT2.map(() => 0), n: PHISAT2.map(() => 0) });

/**
 * The whole evaluation redone without hil: GDAL reads the rasters, the 20 m SCL is upsampled here, and
 * CNN_corrector_phisat2 is evaluated in float64 from its PyTorch weights: out = x − W2·relu(W1·x + b1) − b2,
 * clamped to [0, 2] and quantised to uint16 ×10⁴ as the runner's output format is.
 */
async function independent(): Promise<Record<string, Sums>> {
  const sd = await readPtStateDict(path.join(sharedModelsDir, 'dtacsnet/pytorch/CNN_corrector_phisat2.pt'));
  const layer = (i: number, what: string) => sd.get([...sd.keys()].find((k) => k.endsWith(`cnn_layers.${i}.${what}`))!)!.data as Float32Array;
  const [w1, b1, w2, b2] = [layer(0, 'weight'), layer(0, 'bias'), layer(2, 'weight'), layer(2, 'bias')];
  const hidden = b1.length;
  const c = PHISAT2.length;
  const out: Record<string, Sums> = {};
  for (const s of SAMPLES) {
    const toa = gdalRead(path.join(sharedDataDir, 'sen2r', s.toa));
    const boa = gdalRead(path.join(sharedDataDir, 'sen2r', s.boa));
    const scl = gdalRead(path.join(sharedDataDir, 'sen2r', s.scl));
    const { width, height } = toa;
    const plane = width * height;
    const sums = zero();
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = y * width + x;
        if (SCL_EXCLUDED.has(scl.data[Math.floor(y / 2) * scl.width + Math.floor(x / 2)])) continue;
        const dn = PHISAT2.map((b) => toa.data[TOA_BANDS.indexOf(b) * plane + p]);
        if (dn.includes(NODATA)) continue;
        const xr = dn.map((v) => v / 10000);
        const h = Array.from({ length: hidden }, (_, j) => Math.max(0, b1[j] + xr.reduce((acc, v, k) => acc + w1[j * c + k] * v, 0)));
        PHISAT2.forEach((band, o) => {
          const ref = boa.data[BOA_BANDS.indexOf(band) * plane + p];
          if (ref === NODATA) return;
          const corr = b2[o] + h.reduce((acc, v, j) => acc + w2[o * hidden + j] * v, 0);
          const pred = Math.round(Math.min(2, Math.max(0, xr[o] - corr)) * 10000) / 10000;
          const d = pred - ref / 10000;
          const base = xr[o] - ref / 10000;
          sums.sq[o] += d * d;
          sums.diff[o] += d;
          sums.baseSq[o] += base * base;
          sums.n[o]++;
        });
      }
    }
    out[s.id] = sums;
  }
  return out;
}

describe.runIf(ready)('hil eval --dataset sen2r --ac-model CNN_corrector_phisat2 --json', () => {
  let report: any;
  let expected: Record<string, Sums>;

  beforeAll(async () => {
    const r = hil(['eval', '--dataset', 'sen2r', '--ac-model', 'CNN_corrector_phisat2', '--models-dir', sharedModelsDir, '--data-dir', sharedDataDir, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    report = JSON.parse(r.stdout);
    expected = await independent();
  });

  it('runs the 7-band model on data without B8A and reports every sample masked by the SCL', () => {
    expect(report.schema).toBe('hil.eval/1');
    expect(report.models).toEqual({ ac: 'CNN_corrector_phisat2' });
    expect(report.samples.map((s: any) => s.id)).toEqual(['20170703', '20190723']);
    for (const s of report.samples) {
      expect(s.ac.mask).toBe('scl');
      expect(Object.keys(s.ac.rmse)).toEqual(PHISAT2);
    }
  });

  it('gives per-sample RMSE, bias and pixel counts that the independent computation reproduces, with the no-correction baseline on the same pixels', () => {
    for (const s of report.samples) {
      const e = expected[s.id];
      PHISAT2.forEach((band, o) => {
        expect(e.n[o]).toBeGreaterThan(500);
        expect(s.ac.pixels[band]).toBe(e.n[o]);
        // float32 inference may land on the other side of a rounding boundary for a few pixels (1e-4 each).
        expect(s.ac.rmse[band]).toBeCloseTo(Math.sqrt(e.sq[o] / e.n[o]), 5);
        expect(s.ac.bias[band]).toBeCloseTo(e.diff[o] / e.n[o], 5);
        expect(s.ac.baselineRmse[band]).toBeCloseTo(Math.sqrt(e.baseSq[o] / e.n[o]), 12);
      });
    }
  });

  it('pools pixels over samples and takes the median over samples', () => {
    const [a, b] = SAMPLES.map((s) => expected[s.id]);
    PHISAT2.forEach((band, o) => {
      const n = a.n[o] + b.n[o];
      expect(report.ac.pixels[band]).toBe(n);
      expect(report.ac.rmse[band]).toBeCloseTo(Math.sqrt((a.sq[o] + b.sq[o]) / n), 5);
      expect(report.ac.baselineRmse[band]).toBeCloseTo(Math.sqrt((a.baseSq[o] + b.baseSq[o]) / n), 12);
      const perSample = [a, b].map((e) => Math.sqrt(e.sq[o] / e.n[o]));
      expect(report.median.ac.rmse[band]).toBeCloseTo((perSample[0] + perSample[1]) / 2, 5);
    });
  });

  it('shows the correction doing its job in the blue, where path radiance dominates', () => {
    // REFERENCE.md: phisat2 B02 126 vs no correction 556 (×10⁻⁴) on CloudSEN12; the sign must hold here too.
    expect(report.ac.rmse.B02).toBeLessThan(report.ac.baselineRmse.B02 / 2);
  });

  it('prints the same numbers as a table without --json', () => {
    const r = hil(['eval', '--dataset', 'sen2r', '--ac-model', 'CNN_corrector_phisat2', '--models-dir', sharedModelsDir, '--data-dir', sharedDataDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SAMPLE\s+BAND\s+RMSE\s+NO-CORRECTION RMSE\s+BIAS\s+PIXELS/);
    const x4 = (v: number) => (v * 1e4).toFixed(1);
    expect(r.stdout).toContain(`all (pixel-weighted)  B02   ${x4(report.ac.rmse.B02)}  ${x4(report.ac.baselineRmse.B02)}`);
  });
});
