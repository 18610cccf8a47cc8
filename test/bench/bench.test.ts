import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecToolSchema } from '../../src/backends/exec-tool.js';
import { launchBench } from '../../src/bench/launch.js';
import { HilError } from '../../src/errors.js';
import { resolveModel } from '../../src/models/registry.js';
import { ResultRecordSchema } from '../../src/results/schema.js';
import { usableCpus } from '../../src/util/usable-cpus.js';
import { BUILTIN_PROFILES } from '../../src/targets/builtin-profiles.js';
import { hil, repoRoot } from '../helpers/cli.js';
import { haveShared, sharedModelsDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

const local = BUILTIN_PROFILES.find((p) => p.name === 'local')!;
const script = path.join(repoRoot, 'scripts', 'exec-backend-ort.mjs');

describe('bench worker', () => {
  it('times cold start apart from a tinybench steady state', async () => {
    if (!haveShared()) return;
    const e = resolveModel('CNN_corrector_phisat2', sharedModelsDir);
    const o = await launchBench(local, { model: { manifest: e.manifest, path: e.filePath, backend: 'onnxruntime', device: 'CPU' }, patch: 64, timeMs: 150, minIterations: 10 }, tempDir('hil-bench-cache-'));
    expect(o.backend).toMatchObject({ backend: 'onnxruntime', device: 'CPU' });
    const { cold, steady } = o.result;
    expect(cold.sessionMs).toBeGreaterThan(0);
    expect(cold.firstInferenceMs).toBeGreaterThan(0);
    expect(steady.source).toBe('tinybench');
    expect(steady.iterations).toBeGreaterThanOrEqual(10);
    expect(steady.minMs!).toBeLessThanOrEqual(steady.p50Ms);
    expect(steady.p50Ms).toBeLessThanOrEqual(steady.p99Ms!);
    expect(steady.rmePct).toBeGreaterThanOrEqual(0);
    expect(steady.mpxPerS).toBeCloseTo((64 * 64) / 1e6 / (steady.meanMs / 1000), 6);
  });

  it("takes an exec tool's own latency report, and claims nothing when it prints none", async () => {
    if (!haveShared()) return;
    const e = resolveModel('CNN_corrector_phisat2', sharedModelsDir);
    const model = (command: string[]) => ({ manifest: e.manifest, path: e.filePath, backend: 'exec' as const, device: 'MYRIAD', exec: ExecToolSchema.parse({ command, timeoutMs: 20_000 }) });
    const o = await launchBench(local, { model: model([process.execPath, script, '-m', '{model}', '-d', 'CPU', '-niter', '{niter}', '-i', '{input}', '-shape', '{shape}']), patch: 64, toolIterations: 9 }, tempDir('hil-bench-cache-'));
    expect(o.backend).toMatchObject({ backend: 'exec', device: 'MYRIAD' });
    expect(o.result.steady).toMatchObject({ source: 'tool', iterations: 9, p99Ms: null, rmePct: null });
    const silent = path.join(tempDir('hil-bench-'), 'silent.mjs');
    writeFileSync(silent, "console.log('ok');\n");
    const err = await launchBench(local, { model: model([process.execPath, silent]), patch: 64 }, tempDir('hil-bench-cache-')).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(HilError);
    expect((err as HilError).message).toMatch(/no benchmark_app statistics.*nothing was measured/);
  });
});

describe('hil bench', () => {
  it('writes a result record; refuses a device the target lacks without writing one', () => {
    if (!haveShared()) return;
    const out = tempDir('hil-bench-out-');
    const env = { HIL_MODELS_DIR: sharedModelsDir };
    const ok = hil(['bench', '--model', 'CNN_corrector_phisat2', '--patch', '64', '--time', '150', '--out', out, '--json'], env);
    // `--threads 1` reaches the runtime and the record; the default is one thread per usable CPU (below).
    const oneOut = tempDir('hil-bench-out-');
    const one = hil(['bench', '--model', 'CNN_corrector_phisat2', '--patch', '64', '--time', '150', '--threads', '1', '--out', oneOut], env);
    expect(one.code, one.stderr).toBe(0);
    const oneRecord = ResultRecordSchema.parse(JSON.parse(readFileSync(path.join(oneOut, readdirSync(oneOut)[0]), 'utf8')));
    expect(oneRecord.models.ac?.threads).toBe(1);
    expect(ok.code, ok.stderr).toBe(0);
    const files = readdirSync(out);
    expect(files).toHaveLength(1);
    const record = ResultRecordSchema.parse(JSON.parse(readFileSync(path.join(out, files[0]), 'utf8')));
    expect(record).toMatchObject({ status: 'ok', scenario: { name: 'ac', devices: { ac: 'CPU' } }, models: { ac: { id: 'CNN_corrector_phisat2', backend: 'onnxruntime', device: 'CPU', threads: usableCpus().cpus } }, timings: { totalMs: null } });
    expect(record.bench?.patch).toBe(64);

    const bad = hil(['bench', '--model', 'CNN_corrector_phisat2', '--device', 'GPU', '--out', out], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('target local has no device GPU');
    const myriad = hil(['bench', '--model', 'CNN_corrector_phisat2', '--device', 'MYRIAD', '--target', 'flatsat', '--out', out], env);
    expect(myriad.code).toBe(2);
    expect(readdirSync(out)).toHaveLength(1);
  });
});
