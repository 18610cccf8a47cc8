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
import { BenchJobSchema } from '../bench/job.js';
import { runBench } from '../bench/measure.js';
import type { z } from 'zod';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--probe') {
    emit({ ev: 'probe', host: await probeHost() });
    return ExitCode.ok;
  }
  if (argv[0] === '--bench') return bench(argv[1]);
  const floor = argv[0] === '--floor';
  const jobPath = floor ? argv[1] : argv[0];
  if (!jobPath) {
    process.stderr.write('usage: runner <job.json> | runner --floor <job.json> | runner --bench <bench-job.json> | runner --probe\n');
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

/** hil bench: per-patch latency of one model on one device (src/bench/measure.ts). */
async function bench(jobPath: string | undefined): Promise<number> {
  try {
    if (!jobPath) throw inputError('usage: runner --bench <bench-job.json>', 'pass the job file hil bench wrote');
    const job = parseJobFile(jobPath, BenchJobSchema, 'bench job');
    const outcome = await runBench(job);
    emit({ ev: 'bench', result: { ...outcome.result }, backend: { ...outcome.backend } });
    return ExitCode.ok;
  } catch (err) {
    emit(errorEvent(err));
    return err instanceof HilError ? err.exitCode : ExitCode.internal;
  }
}

function readJob(path: string): Job {
  return parseJobFile(path, JobSchema, 'job');
}

function parseJobFile<T>(path: string, schema: z.ZodType<T>, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw inputError(`cannot read ${what} ${path}: ${(err as Error).message}`, 'pass the file the coordinator wrote');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw inputError(`${what} ${path} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'regenerate it with hil');
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
