import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { modelError } from '../errors.js';
import type { ModelManifest } from '../models/manifest.js';
import { readOpenVinoIr } from '../models/openvino-ir.js';
import type { BackendOptions, InferenceBackend, TensorF32, ToolTiming } from './backend.js';
import { checkBackendServes } from './capabilities.js';
import { runTool, type ToolRun } from './exec-process.js';
import { parseBenchmarkAppReport } from './exec-report.js';
import { expandTemplate, templatePlaceholders, type ExecTool } from './exec-tool.js';
import { checkIrPrecision, modelFiles } from './model-files.js';

const tail = (s: string) => s.trim().split('\n').slice(-3).join(' | ').slice(0, 400);

/**
 * A model run by an external tool on the target. Each call hands the tool a raw float32 input file and
 * reads back its raw float32 output; `measure` asks it for `iterations` runs and takes the latency the
 * tool measured on the device, since the process start and model load would swamp an outside timer.
 */
export async function createExecBackend(manifest: ModelManifest, modelPath: string, tool: ExecTool, opts: BackendOptions): Promise<InferenceBackend> {
  checkBackendServes('exec', manifest, opts.device);
  const files = modelFiles(manifest, modelPath);
  if (manifest.format === 'openvino-ir') checkIrPrecision(manifest, await readOpenVinoIr(files.model), files.model);
  const used = templatePlaceholders(tool.command);
  const outChannels = (manifest.task === 'ac' ? manifest.outputBands : manifest.classes)?.length ?? 0;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hil-exec-'));
  const inputFile = path.join(dir, 'input.bin');
  const outputFile = path.join(dir, 'output.bin');
  const what = `exec tool ${path.basename(tool.command[0])} for ${opts.device}`;

  async function invoke(input: TensorF32, iterations: number): Promise<ToolRun> {
    await writeFile(inputFile, new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength));
    await rm(outputFile, { force: true });
    const argv = expandTemplate(tool.command, {
      model: files.model,
      weights: files.weights,
      device: opts.device,
      input: inputFile,
      output: outputFile,
      shape: input.dims.join(','),
      niter: String(iterations),
      reportDir: dir,
    });
    const r = await runTool(argv, { timeoutMs: tool.timeoutMs, env: tool.env });
    if (r.spawnError) throw modelError(`${what} could not start: ${r.spawnError}`, `install it on the target or fix the command in the profile (${tool.command[0]})`);
    if (r.timedOut) throw modelError(`${what} did not finish within ${tool.timeoutMs / 1000} s and was killed; nothing was measured`, 'check the device is attached and free, or raise exec.timeoutMs in the profile');
    if (r.exitCode !== 0) {
      throw modelError(`${what} failed (${r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`}): ${tail(r.stderr || r.stdout) || 'no output'}`, 'run the command by hand on the target to see why');
    }
    return r;
  }

  return {
    describe: () => ({ backend: 'exec', device: opts.device.toUpperCase(), version: path.basename(tool.command[0]) }),
    async run(input: TensorF32): Promise<TensorF32> {
      if (!used.has('output')) {
        throw modelError(`${what} only reports timings (its command has no {output}), so it cannot produce a run's outputs`, 'use hil bench for this device, or give a command that writes {output}');
      }
      await invoke(input, 1);
      const [n, , h, w] = input.dims;
      let bytes: Buffer;
      try {
        bytes = await readFile(outputFile);
      } catch {
        throw modelError(`${what} exited without writing its output file`, 'the command must write the raw float32 NCHW result to {output}');
      }
      const want = n * outChannels * h * w * 4;
      if (bytes.byteLength !== want) {
        throw modelError(`${what} wrote ${bytes.byteLength} bytes, expected ${want} (float32 ${n}×${outChannels}×${h}×${w})`, 'the output must be raw little-endian float32 NCHW');
      }
      const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      return { data, dims: [n, outChannels, h, w] };
    },
    async measure(input: TensorF32, iterations: number): Promise<ToolTiming> {
      const r = await invoke(input, iterations);
      const timing = parseBenchmarkAppReport(r.stdout);
      if (!timing) {
        throw modelError(`${what} printed no benchmark_app statistics (no "Count: N iterations" and latency lines); nothing was measured. Its output ended: ${tail(r.stdout) || '(nothing)'}`, 'run benchmark_app (or a script printing its report format) in the command');
      }
      return timing;
    },
    async release() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
