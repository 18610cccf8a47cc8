/**
 * One interface for every runtime that can execute a model build on a device. The runner only sees this,
 * so adding a runtime (OpenVINO, an external tool for a Myriad-X) never touches the pipeline.
 */
export interface TensorF32 {
  data: Float32Array;
  /** NCHW */
  dims: [number, number, number, number];
}

export interface BackendDescription {
  backend: string;
  device: string;
  version: string;
}

export interface InferenceBackend {
  describe(): BackendDescription;
  /** Runs one batch. The input may be reused by the caller after the promise resolves. */
  run(input: TensorF32): Promise<TensorF32>;
  release(): Promise<void>;
}

export interface BackendOptions {
  device: string;
  intraOpThreads: number;
  interOpThreads: number;
}
