#!/usr/bin/env node
/**
 * The bench worker: runs on the measured machine like the runner, imports nothing from the coordinator,
 * and answers on stdout with one JSON line per event: `{"ev":"bench",...}` or the runner's error event.
 */
import { readFileSync } from 'node:fs';
import { ExitCode, HilError, inputError } from '../errors.js';
import { BenchJobSchema, type BenchJob } from './job.js';
import { runBench } from './measure.js';

function readJob(file: string): BenchJob {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw inputError(`cannot read bench job ${file}: ${(err as Error).message}`, 'pass the job hil bench wrote');
  }
  const parsed = BenchJobSchema.safeParse(raw);
  if (!parsed.success) throw inputError(`bench job ${file} is invalid: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`, 'regenerate it with hil bench');
  return parsed.data;
}

const line = (ev: unknown) => process.stdout.write(`${JSON.stringify(ev)}\n`);

try {
  if (!process.argv[2]) throw inputError('usage: worker <bench-job.json>', 'pass the job file');
  const outcome = await runBench(readJob(process.argv[2]));
  line({ ev: 'bench', ...outcome });
  process.exitCode = ExitCode.ok;
} catch (err) {
  if (err instanceof HilError) {
    line({ ev: 'error', kind: err.kind, message: err.message, fix: err.fix });
    process.exitCode = err.exitCode;
  } else {
    line({ ev: 'error', kind: 'internal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exitCode = ExitCode.internal;
  }
}
