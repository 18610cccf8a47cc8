// The parts of the WebAssembly JS API that src/kernels uses. Node has it all, but TypeScript declares it
// only in its DOM and web-worker libraries, which would bring browser globals into a Node program.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: BufferSource);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
}
type BufferSource = ArrayBufferView | ArrayBuffer;
