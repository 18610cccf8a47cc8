/**
 * Typed errors. Every error a user can cause is a HilError: it names the problem and the fix, and
 * carries the exit code the CLI returns. Anything else reaching the CLI is a bug (exit 70).
 */

/** Exit codes, documented in the README. */
export const ExitCode = {
  ok: 0,
  /** The measured thing failed: a gate found a regression, or a run ended with status error/oom. */
  failed: 1,
  /** Bad input: flags, config, files, models, targets. */
  badInput: 2,
  /** Results from different environments were compared without --allow-env-mismatch. */
  notComparable: 3,
  /** A bug in hil itself. */
  internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorKind =
  | 'usage'
  | 'config'
  | 'input'
  | 'model'
  | 'target'
  | 'transport'
  | 'output'
  | 'oom'
  | 'not-comparable'
  | 'internal';

export class HilError extends Error {
  readonly kind: ErrorKind;
  readonly fix: string | undefined;
  readonly exitCode: ExitCode;

  constructor(kind: ErrorKind, message: string, fix?: string, exitCode: ExitCode = ExitCode.badInput) {
    super(message);
    this.name = 'HilError';
    this.kind = kind;
    this.fix = fix;
    this.exitCode = exitCode;
  }

  /** One line for the terminal: the problem, then the fix. */
  oneLine(): string {
    return this.fix ? `${this.message} — ${this.fix}` : this.message;
  }
}

export const usageError = (message: string, fix?: string) => new HilError('usage', message, fix);
export const inputError = (message: string, fix?: string) => new HilError('input', message, fix);
export const modelError = (message: string, fix?: string) => new HilError('model', message, fix);
export const configError = (message: string, fix?: string) => new HilError('config', message, fix);
export const targetError = (message: string, fix?: string) => new HilError('target', message, fix);
export const outputError = (message: string, fix?: string) => new HilError('output', message, fix);

export function errorMessage(err: unknown): string {
  if (err instanceof HilError) return err.oneLine();
  if (err instanceof Error) return err.message;
  return String(err);
}
