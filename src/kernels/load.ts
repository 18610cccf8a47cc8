import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../util/package-root.js';

const compiled = new Map<string, WebAssembly.Module>();

/**
 * A fresh instance (own memory) of the kernel module `name`, built from src/kernels/<name>.wat into
 * dist/kernels/<name>.wasm by `npm run build` (scripts/build-kernels.mjs). Compiled once per thread.
 */
export function instantiateKernels(name: string): Record<string, unknown> {
  let module = compiled.get(name);
  if (!module) {
    const file = path.join(PACKAGE_ROOT, 'dist', 'kernels', `${name}.wasm`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new Error(`the ${name} kernels are missing (${file}: ${(err as NodeJS.ErrnoException).code}); run \`npm run build\``);
    }
    module = new WebAssembly.Module(bytes);
    compiled.set(name, module);
  }
  return new WebAssembly.Instance(module).exports;
}

/** Grows `memory` to hold at least `bytes` (growing detaches every view on the old buffer). */
export function growTo(memory: WebAssembly.Memory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (bytes > have) memory.grow(Math.ceil((bytes - have) / 65536));
}
