#!/usr/bin/env node
/**
 * The runner: the only code on the measured machine during a measurement. It reads a job, runs it, and
 * reports through JSON lines on stdout. It imports nothing from the coordinator (CLI, targets, reports).
 */
import { readFileSync } from 'node:fs';
import { ExitCode, HilError, inputError } from '../errors.js';
import { emit, type RunnerEvent } from './events.js';
import { JobSchema, type Job } from './job.js';
import { startMemorySampler } from './memory.js';
import { probeHost } from './probe.js';
import { runFloor } from './floor.js';
import { runJob } from './run-job.js';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--probe') {
    emit({ ev: 'probe', host: await probeHost() });
    return ExitCode.ok;
  }
  const floor = argv[0] === '--floor';
  const jobPath = floor ? argv[1] : argv[0];
  if (!jobPath) {
    process.stderr.write('usage: runner <job.json> | runner --floor <job.json> | runner --probe\n');
    return ExitCode.badInput;
  }
  emit({ ev: 'start', pid: process.pid, job: jobPath, node: process.version, t: Date.now() });
  let job: Job;
  let sampler: ReturnType<typeof startMemorySampler> | undefined;
  try {
    job = readJob(jobPath);
    sampler = startMemorySampler(job.engine.memSampleMs, (s) => emit({ ev: 'mem', rssBytes: s.rssBytes, hwmBytes: s.hwmBytes }));
    const summary = await (floor ? runFloor : runJob)(job, { emit });
    const peak = sampler.stop();
    emit({ ev: 'done', result: { ...summary, peakRssBytes: peak.hwmBytes } });
    return ExitCode.ok;
  } catch (err) {
    sampler?.stop();
    emit(errorEvent(err));
    return err instanceof HilError ? err.exitCode : ExitCode.internal;
  }
}

function readJob(path: string): Job {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw inputError(`cannot read job ${path}: ${(err as Error).message}`, 'pass the job.json the coordinator wrote');
  }
  const parsed = JobSchema.safeParse(raw);
  if (!parsed.success) {
    throw inputError(`job ${path} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'regenerate it with hil');
  }
  return parsed.data;
}

function errorEvent(err: unknown): RunnerEvent {
  if (err instanceof HilError) {
    const kind = err.kind === 'input' || err.kind === 'model' || err.kind === 'output' ? err.kind : err.kind === 'usage' ? 'input' : 'internal';
    return { ev: 'error', kind, message: err.message, fix: err.fix };
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC' || e?.code === 'EACCES' || e?.code === 'EROFS') {
    return { ev: 'error', kind: 'output', message: e.message, fix: 'free disk space or choose a writable output folder' };
  }
  return { ev: 'error', kind: 'internal', message: e instanceof Error ? (e.stack ?? e.message) : String(err) };
}

process.exitCode = await main(process.argv.slice(2));
