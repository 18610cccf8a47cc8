#!/usr/bin/env node
/**
 * A stand-in for OpenVINO's benchmark_app that runs an ONNX model through onnxruntime on the CPU and
 * prints benchmark_app's statistics lines, so hil's exec backend (command template, files, report
 * parser, timeouts) is exercised by a real program where no Myriad-X and no OpenVINO 2022.3 exist.
 *
 *   exec-backend-ort.mjs -m model.onnx -d CPU -niter N [-i input.bin -shape N,C,H,W] [-o output.bin]
 *
 * -i/-o are raw little-endian float32 NCHW files, as hil's exec backend writes and reads them. Without
 * -i the input is filled with random values (as benchmark_app does). Only -d CPU is accepted: this
 * script must never pass for a measurement on a device it did not use.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('-') || argv[i + 1] === undefined) throw new Error(`bad argument ${argv[i]}`);
    args[argv[i].replace(/^-+/, '')] = argv[i + 1];
  }
  return args;
}

function fail(message) {
  process.stderr.write(`[ ERROR ] ${message}\n`);
  process.exit(1);
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  fail(`${err.message}; usage: -m model.onnx -d CPU -niter N [-i input.bin -shape N,C,H,W] [-o output.bin]`);
}
if (!args.m) fail('-m model.onnx is required');
if ((args.d ?? 'CPU').toUpperCase() !== 'CPU') fail(`device ${args.d} is not available: this stand-in runs onnxruntime on the CPU only`);
const niter = Number(args.niter ?? 1);
if (!Number.isInteger(niter) || niter < 1) fail(`-niter ${args.niter} is not a positive integer`);
if (!args.shape) fail('-shape N,C,H,W is required');
const dims = args.shape.replace(/[[\]]/g, '').split(',').map(Number);
if (dims.length !== 4 || dims.some((d) => !Number.isInteger(d) || d < 1)) fail(`-shape ${args.shape} is not N,C,H,W`);
const count = dims.reduce((a, b) => a * b, 1);

let data;
if (args.i) {
  const bytes = readFileSync(args.i);
  if (bytes.byteLength !== count * 4) fail(`${args.i} holds ${bytes.byteLength} bytes, not float32 ${dims.join('x')}`);
  data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
} else {
  data = Float32Array.from({ length: count }, () => Math.random());
}

const log = (line) => process.stdout.write(`[ INFO ] ${line}\n`);
const t0 = performance.now();
const session = await ort.InferenceSession.create(args.m, { executionProviders: ['cpu'] });
log(`Compile model took ${(performance.now() - t0).toFixed(2)} ms`);
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
const outName = session.outputNames[0];

let t = performance.now();
let out = (await session.run(feeds))[outName];
log(`First inference took ${(performance.now() - t).toFixed(2)} ms`);
const latencies = [];
const start = performance.now();
for (let i = 0; i < niter; i++) {
  t = performance.now();
  out = (await session.run(feeds))[outName];
  latencies.push(performance.now() - t);
}
const duration = performance.now() - start;
if (args.o) writeFileSync(args.o, new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength));
await session.release();

const sorted = [...latencies].sort((a, b) => a - b);
const mid = sorted.length >> 1;
const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
log('Execution Devices:[\'CPU\'] (onnxruntime stand-in)');
log(`Count:            ${niter} iterations`);
log(`Duration:         ${duration.toFixed(2)} ms`);
log('Latency:');
log(`   Median:        ${median.toFixed(2)} ms`);
log(`   Average:       ${(latencies.reduce((a, b) => a + b, 0) / niter).toFixed(2)} ms`);
log(`   Min:           ${sorted[0].toFixed(2)} ms`);
log(`   Max:           ${sorted.at(-1).toFixed(2)} ms`);
log(`Throughput:   ${((niter * dims[0] * 1000) / duration).toFixed(2)} FPS`);
