import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPtStateDict } from '../../src/models/pt-import.js';
import { ResultRecordSchema, type ResultRecord } from '../../src/results/schema.js';
import { gdal, hil } from '../helpers/cli.js';
import { haveShared, haveTool, sharedModelsDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

const ready = haveShared('models/dtacsnet') && haveTool('gdalinfo');

/** Reads a window of a raster through GDAL (independent of hil's reader) as band-sequential numbers. */
function gdalWindow(file: string, x: number, y: number, w: number, h: number, type: 'UInt16'): { bands: number; data: Uint16Array } {
  const dir = tempDir('hil-win-');
  const out = path.join(dir, 'win.bin');
  gdal('gdal_translate', ['-q', '-of', 'ENVI', '-ot', type, '-co', 'INTERLEAVE=BSQ', '-srcwin', `${x}`, `${y}`, `${w}`, `${h}`, file, out]);
  const buf = readFileSync(out);
  rmSync(dir, { recursive: true, force: true });
  const data = new Uint16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2);
  return { bands: data.length / (w * h), data };
}

describe.runIf(ready)('hil run --target local --res 60 --scenario ac with the real CNN_corrector', () => {
  let record: ResultRecord;
  let resultFile: string;
  const outDir = tempDir('hil-e2e-ac-');
  // A home of its own, to see what onnxruntime leaves in one.
  const home = tempDir('hil-home-');
  let runnerPid: number;

  beforeAll(() => {
    const r = hil(['run', '--target', 'local', '--res', '60', '--scenario', 'ac', '--ac-model', 'CNN_corrector', '--models-dir', sharedModelsDir, '--out', outDir, '--json'], {
      HOME: home,
      XDG_CACHE_HOME: path.join(home, '.cache'),
      // Not inherited from the test process (vitest.config.ts): the runner must set it itself.
      ORT_DISABLE_TELEMETRY: undefined,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.some((l) => l.ev === 'progress')).toBe(true);
    expect(lines.some((l) => l.ev === 'mem' && l.rssBytes > 0)).toBe(true);
    runnerPid = lines.find((l) => l.ev === 'start').pid;
    const last = lines.at(-1);
    expect(last.ev).toBe('result');
    resultFile = last.file;
    record = ResultRecordSchema.parse(JSON.parse(readFileSync(resultFile, 'utf8')));
  });

  it('writes one complete record with real measured values', () => {
    expect(path.basename(resultFile)).toMatch(/^\d{8}T\d{6}Z-local-ac-60m\.json$/);
    expect(readdirSync(outDir).filter((f) => f.endsWith('.json'))).toEqual([path.basename(resultFile)]);
    expect(readdirSync(outDir).some((f) => f.includes('.partial-'))).toBe(false);
    expect(record.status).toBe('ok');
    expect(record.target.name).toBe('local');
    expect(record.scenario).toMatchObject({ name: 'ac', res: 60 });
    expect(record.input).toMatchObject({ width: 1830, height: 1830, synthetic: true });
    expect(record.input!.bands).toHaveLength(13);
    expect(record.input!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record.models.ac).toMatchObject({ id: 'CNN_corrector', weights: 'real', sha256: expect.stringMatching(/^9b12c657/) });
    const t = record.timings;
    expect(t.totalMs).toBeGreaterThan(0);
    for (const stage of ['read', 'prepare', 'ac', 'write']) expect(t.stages[stage]).toBeGreaterThan(0);
    expect(t.modelLoadMs).toBeGreaterThan(0);
    expect(t.firstInferenceMs).toBeGreaterThan(0);
    // The main thread's idle times (for inference, for input) never overlap; its busy time is the rest.
    // Reading and inference run on their own threads, beside it.
    expect(t.stages.wait + t.stages.starve).toBeLessThan(t.stages.pipeline);
    // The input threads start while the models load, before the pass: their busy time fits in the run,
    // not always in the pass (on a loaded machine `read` passed `pipeline`).
    expect(t.stages.read).toBeLessThanOrEqual(t.totalMs!);
    expect(t.stages.prepare).toBeLessThanOrEqual(t.totalMs!);
    expect(t.stages.ac).toBeLessThanOrEqual(t.stages.pipeline);
    // The inference thread's idle time between runs, split by what it waited for: with its busy time it
    // fits in the pass; between two runs it at least waits for the next message.
    expect(t.stages.idleRequest).toBeGreaterThanOrEqual(0);
    expect(t.stages.idleInput).toBeGreaterThanOrEqual(0);
    expect(t.stages.idleRequest + t.stages.idleInput).toBeGreaterThan(0);
    expect(t.stages.ac + t.stages.idleRequest + t.stages.idleInput).toBeLessThanOrEqual(t.stages.pipeline);
    expect(t.stages.pipeline).toBeLessThanOrEqual(t.totalMs!);
    expect(record.memory.peakRssBytes).toBeGreaterThan(50e6);
    expect(record.samples).toHaveLength(1);
    expect(record.samples[0].totalMs).toBe(t.totalMs);
    // Reading and writing were moved behind inference (chrt, or nice where there is no chrt), and the
    // record says how.
    const scheduling = record.samples[0].scheduling!;
    expect(scheduling.policy).toMatch(/^(SCHED_IDLE|nice 19)$/);
    expect(scheduling.threads).toBeGreaterThan(0);
    expect(scheduling.inferenceThreads).toBeGreaterThan(0);
    const env = record.environment!;
    expect(env.cores).toBeGreaterThan(0);
    expect(env.memTotalBytes).toBeGreaterThan(0);
    expect(env.cpuModel.length).toBeGreaterThan(0);
    expect(env.node).toBe(process.version);
    expect(env.onnxruntime).toMatch(/^\d+\.\d+/);
    expect(env.hil).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('writes a GeoTIFF GDAL reads with the input size, CRS, geotransform and 12 uint16 bands', () => {
    const out = JSON.parse(gdal('gdalinfo', ['-json', record.outputs.ac]));
    const inp = JSON.parse(gdal('gdalinfo', ['-json', record.input!.path]));
    expect(out.size).toEqual([1830, 1830]);
    expect(out.geoTransform).toEqual(inp.geoTransform);
    expect(out.coordinateSystem.wkt).toEqual(inp.coordinateSystem.wkt);
    expect(out.bands).toHaveLength(12);
    expect(out.bands.every((b: { type: string }) => b.type === 'UInt16')).toBe(true);
    expect(out.bands.map((b: { description: string }) => b.description)).toEqual(['B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B11', 'B12']);
  });

  it('has pixel values equal to an independent computation of the model from its PyTorch weights', async () => {
    // CNN_corrector: out = x[:, bands without B10] - W2·relu(W1·x + b1) + b2, on reflectance x = DN / 10000,
    // then clamp to [0, 2], × 10000, rounded. Computed here in float64 from the .pt state dict, with
    // GDAL doing all the I/O, so neither hil's reader, writer nor onnxruntime is involved.
    const sd = await readPtStateDict(path.join(sharedModelsDir, 'dtacsnet/pytorch/CNN_corrector.pt'));
    const weights = [...sd.entries()].filter(([, t]) => t.dtype !== 'int64');
    const [w1, b1, w2, b2] = weights.map(([, t]) => t.data as Float32Array);
    const hidden = b1.length;
    const keep = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12];
    // Windows across tile borders (the engine tiles at 512 px) and at the image's right/bottom edge.
    for (const [x, y] of [[500, 500], [1000, 20], [1790, 1790]]) {
      const w = 40;
      const inp = gdalWindow(record.input!.path, x, y, w, w, 'UInt16');
      const out = gdalWindow(record.outputs.ac, x, y, w, w, 'UInt16');
      expect(inp.bands).toBe(13);
      expect(out.bands).toBe(12);
      const plane = w * w;
      let exact = 0;
      for (let p = 0; p < plane; p++) {
        const xr = Array.from({ length: 13 }, (_, b) => inp.data[b * plane + p] / 10000);
        const h = Array.from({ length: hidden }, (_, j) => Math.max(0, b1[j] + xr.reduce((s, v, b) => s + w1[j * 13 + b] * v, 0)));
        keep.forEach((band, o) => {
          const corr = b2[o] + h.reduce((s, v, j) => s + w2[o * hidden + j] * v, 0);
          const expected = Math.round(Math.min(2, Math.max(0, xr[band] - corr)) * 10000);
          const got = out.data[o * plane + p];
          expect(Math.abs(got - expected)).toBeLessThanOrEqual(1);
          if (got === expected) exact++;
        });
      }
      // float32 inference vs float64 here may differ only at a rounding boundary.
      expect(exact / (plane * 12)).toBeGreaterThan(0.999);
    }
  });

  it('runs onnxruntime with its telemetry off: no device id or event store in the home folder, no debug log', () => {
    // onnxruntime-node 1.30 on Linux, left at its default, creates ~/.cache/Microsoft/DeveloperTools/.onnxruntime
    // (a device id and an SQLite store of events to upload) and /tmp/mat-debug-<pid>.log in every process that
    // opens a session.
    expect(existsSync(path.join(home, '.cache', 'Microsoft'))).toBe(false);
    expect(existsSync(`/tmp/mat-debug-${runnerPid}.log`)).toBe(false);
  });

  it('prints the Table 1 row from the record', () => {
    const r = hil(['report', '--results', outDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| Model | Computer | Device | Res | Scene Classification | Atmospheric Correction | Both | Peak memory |');
    expect(r.stdout).toMatch(/\| CNN_corrector \| local \| CPU \| 60 m \| - \| (\d+m )?\d+s \| - \| \d+ MB \|/);
  });

  it('gives the same pixels with patches in batches of three, the last batch short', () => {
    // 16 patches of 512 px: five batches of three and one of one.
    const out = tempDir('hil-e2e-ac-batch-');
    try {
      const r = hil(['run', '--target', 'local', '--res', '60', '--scenario', 'ac', '--ac-model', 'CNN_corrector', '--models-dir', sharedModelsDir, '--batch', '3', '--out', out, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const batched = JSON.parse(r.stdout.trim().split('\n').at(-1)!).record as ResultRecord;
      expect(batched.grid).toMatchObject({ patch: 512, batch: 3, blocks: 16 });
      const one = gdalWindow(record.outputs.ac!, 0, 0, 1830, 1830, 'UInt16').data;
      const three = gdalWindow(batched.outputs.ac!, 0, 0, 1830, 1830, 'UInt16').data;
      expect(three.length).toBe(one.length);
      expect(Buffer.compare(Buffer.from(three.buffer, three.byteOffset, three.byteLength), Buffer.from(one.buffer, one.byteOffset, one.byteLength))).toBe(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
