import { writeFileSync } from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceBackend, TensorF32 } from '../../src/backends/backend.js';
import { parseBenchmarkAppReport } from '../../src/backends/exec-report.js';
import { expandTemplate, ExecToolSchema } from '../../src/backends/exec-tool.js';
import { createBackend } from '../../src/backends/index.js';
import { HilError } from '../../src/errors.js';
import { resolveModel } from '../../src/models/registry.js';
import type { JobModel } from '../../src/runner/job.js';
import { repoRoot } from '../helpers/cli.js';
import { haveShared, sharedModelsDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

const script = path.join(repoRoot, 'scripts', 'exec-backend-ort.mjs');
const standIn = ['{model}', '-d', 'CPU', '-niter', '{niter}', '-i', '{input}', '-shape', '{shape}', '-o', '{output}'];
const opts = { intraOpThreads: 0, interOpThreads: 0 };

describe('benchmark_app report parser', () => {
  it('reads the 2022.x statistics block', () => {
    const t = parseBenchmarkAppReport(
      [
        '[ INFO ] Read model took 10.50 ms',
        '[ INFO ] Compile model took 1200.25 ms',
        '[ INFO ] First inference took 45.10 ms',
        '[Step 11/11] Dumping statistics report',
        '[ INFO ] Count:            100 iterations',
        '[ INFO ] Duration:         3012.40 ms',
        '[ INFO ] Latency:',
        '[ INFO ]    Median:        29.87 ms',
        '[ INFO ]    Average:       30.12 ms',
        '[ INFO ]    Min:           28.00 ms',
        '[ INFO ]    Max:           41.50 ms',
        '[ INFO ] Throughput:   33.20 FPS',
      ].join('\n'),
    );
    expect(t).toEqual({ iterations: 100, durationMs: 3012.4, loadMs: 1210.75, firstInferenceMs: 45.1, throughputFps: 33.2, latencyMs: { median: 29.87, mean: 30.12, min: 28, max: 41.5 } });
  });
  it('reads the one-line latency of older releases, and nothing from a report without a count', () => {
    expect(parseBenchmarkAppReport('Count:      10400 iterations\nDuration:   60032.59 ms\nLatency:    22.71 ms\nThroughput: 173.24 FPS')?.latencyMs).toEqual({ median: 22.71 });
    expect(parseBenchmarkAppReport('Latency:    22.71 ms\n')).toBeUndefined();
    expect(parseBenchmarkAppReport('')).toBeUndefined();
  });
});

describe('exec command templates', () => {
  it('fills placeholders inside arguments and refuses unknown ones', () => {
    expect(expandTemplate(['-shape', '[{shape}]', '-m', '{model}'], { shape: '1,13,512,512', model: '/m.xml' })).toEqual(['-shape', '[1,13,512,512]', '-m', '/m.xml']);
    expect(() => expandTemplate(['{modle}'], {})).toThrow(/unknown placeholder \{modle\}/);
    expect(() => expandTemplate(['{weights}'], {})).toThrow(/\{weights\}/);
  });
});

describe('exec backend through the onnxruntime stand-in', () => {
  let dir: string;
  let modelPath: string;
  let manifest: JobModel['manifest'];
  let input: TensorF32;
  const backends: InferenceBackend[] = [];
  const open = async (command: string[], extra: Partial<JobModel> = {}) => {
    const b = await createBackend({ manifest, path: modelPath, backend: 'exec', device: 'MYRIAD', exec: ExecToolSchema.parse({ command, timeoutMs: 20_000, ...extra.exec }), ...extra }, opts);
    backends.push(b);
    return b;
  };

  beforeAll(() => {
    dir = tempDir('hil-exec-test-');
    if (!haveShared()) return;
    const entry = resolveModel('CNN_corrector', sharedModelsDir);
    manifest = entry.manifest;
    modelPath = entry.filePath!;
    const data = new Float32Array(2 * 13 * 32 * 32);
    for (let i = 0; i < data.length; i++) data[i] = 0.05 + ((i * 7919) % 1000) / 4000;
    input = { data, dims: [2, 13, 32, 32] };
  });
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.release()));
  });

  it('returns what onnxruntime computes in-process, bit for bit', async () => {
    if (!haveShared()) return;
    const backend = await open([process.execPath, script, '-m', ...standIn]);
    const out = await backend.run(input);
    expect(out.dims).toEqual([2, 12, 32, 32]);
    const session = await ort.InferenceSession.create(modelPath);
    const ref = (await session.run({ input: new ort.Tensor('float32', input.data, input.dims) })).output.data as Float32Array;
    await session.release();
    expect(out.data).toEqual(ref);
    expect(backend.describe()).toMatchObject({ backend: 'exec', device: 'MYRIAD' });
  });

  it("takes the tool's own latency for N iterations", async () => {
    if (!haveShared()) return;
    const backend = await open([process.execPath, script, '-m', ...standIn]);
    const t = await backend.measure!(input, 7);
    expect(t.iterations).toBe(7);
    expect(t.latencyMs.min!).toBeLessThanOrEqual(t.latencyMs.median);
    expect(t.latencyMs.median).toBeLessThanOrEqual(t.latencyMs.max!);
    expect(t.loadMs).toBeGreaterThan(0);
  });

  it('refuses a tool that prints nothing parseable, hangs, fails, or is missing', async () => {
    if (!haveShared()) return;
    const silent = path.join(dir, 'silent.mjs');
    writeFileSync(silent, "console.log('done, all good');\n");
    const hang = path.join(dir, 'hang.mjs');
    writeFileSync(hang, 'setInterval(() => {}, 1000);\n');
    const err = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(HilError);
      expect((e as HilError).exitCode).toBe(2);
      return (e as HilError).message;
    };
    expect(await err((await open([process.execPath, silent])).measure!(input, 3))).toMatch(/printed no benchmark_app statistics .*nothing was measured.*done, all good/);
    const hanging = await createBackend({ manifest, path: modelPath, backend: 'exec', device: 'MYRIAD', exec: ExecToolSchema.parse({ command: [process.execPath, hang], timeoutMs: 500 }) }, opts);
    backends.push(hanging);
    const t0 = Date.now();
    expect(await err(hanging.measure!(input, 3))).toMatch(/did not finish within 0.5 s and was killed; nothing was measured/);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await err((await open([process.execPath, script, '-m', '{model}', '-d', 'MYRIAD', '-shape', '{shape}'])).measure!(input, 1))).toMatch(/failed \(exit 1\).*not available/);
    expect(await err((await open([path.join(dir, 'no-such-tool')])).measure!(input, 1))).toMatch(/could not start/);
    expect(await err((await open([process.execPath, script, '-m', '{model}', '-d', 'CPU', '-shape', '{shape}'])).run(input))).toMatch(/only reports timings/);
  });

  it('refuses a job whose exec device has no command', async () => {
    if (!haveShared()) return;
    await expect(createBackend({ manifest, path: modelPath, backend: 'exec', device: 'MYRIAD' }, opts)).rejects.toThrow(/gives no command/);
  });
});
