#!/usr/bin/env node
// Assembles the WebAssembly kernels (src/kernels/*.wat, text format) into dist/kernels/*.wasm with wabt.
// Part of `npm run build`, after tsc. Each .wasm is written to a temporary name and renamed, so a build
// that stops half way leaves no truncated module behind.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(root, 'src', 'kernels');
const outDir = path.join(root, 'dist', 'kernels');
const wabt = await wabtInit();
mkdirSync(outDir, { recursive: true });
for (const name of readdirSync(srcDir).filter((f) => f.endsWith('.wat'))) {
  const module = wabt.parseWat(name, readFileSync(path.join(srcDir, name), 'utf8'), { simd: true, sat_float_to_int: true });
  try {
    module.validate();
    const out = path.join(outDir, name.replace(/\.wat$/, '.wasm'));
    writeFileSync(`${out}.tmp`, module.toBinary({}).buffer);
    renameSync(`${out}.tmp`, out);
  } finally {
    module.destroy();
  }
}
