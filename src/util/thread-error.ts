import { HilError } from '../errors.js';

/** An error as it crosses a worker-thread boundary: HilErrors keep their kind and fix, anything else its stack. */
export interface ThreadError {
  kind: HilError['kind'] | 'internal';
  message: string;
  fix?: string;
}

export function serialiseError(err: unknown): ThreadError {
  if (err instanceof HilError) return { kind: err.kind, message: err.message, fix: err.fix };
  return { kind: 'internal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}

export function deserialiseError(e: ThreadError): Error {
  return e.kind === 'internal' ? new Error(e.message) : new HilError(e.kind, e.message, e.fix);
}
