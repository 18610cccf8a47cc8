import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jobModelFor } from '../backends/job-model.js';
import { HilError, outputError, type ErrorKind } from '../errors.js';
import type { ModelEntry } from '../models/registry.js';
import { USER_ERROR_KINDS, type RunnerEvent, type RunnerSummary } from '../runner/events.js';
import type { Job, JobInput, JobModel } from '../runner/job.js';
import type { Environment, ResultRecord, Sample } from '../results/schema.js';
import { RESULT_SCHEMA, recordTarget } from '../results/schema.js';
import type { RunnerExit, TargetSession } from '../targets/transport.js';
import { writeFileAtomic } from '../util/atomic.js';
import { median } from '../metrics/stats.js';
import type { RunPlan } from './plan.js';

export interface ExecuteHooks {
  onEvent?(ev: RunnerEvent, repeat: number): void;
  signal?: AbortSignal;
}

export interface ResolvedInput {
  path: string;
  sha256: string | null;
  synthetic: boolean;
  bands?: string[];
  /** reflectance = (DN + offset) × scale; defaults are those of L1C before baseline 04.00. */
  scale?: number;
  offset?: number;
  nodata?: number;
}

/** One attempt's outcome: a summary, or why there is none. */
export type Attempt = { ok: true; summary: RunnerSummary; exit: RunnerExit } | { ok: false; status: 'error' | 'oom'; kind: string; message: string; exit?: RunnerExit };

/**
 * Runs the plan's repeats on a target and returns the result record. Never throws for a failure of the
 * measured run itself (that is recorded); throws HilError for bad input detected before anything started.
 */
export async function executePlan(
  plan: RunPlan,
  session: TargetSession,
  input: ResolvedInput,
  environment: Environment,
  hooks: ExecuteHooks = {},
): Promise<ResultRecord> {
  const runId = recordId(plan);
  const outputs: Record<string, string> = {};
  for (const stage of ['sc', 'ac'] as const) {
    if (plan.models[stage]) outputs[stage] = path.join(plan.outputsDir, runId, `${stage}.tif`);
  }
  const job = buildJob(plan, input, outputs);
  const attempts: Attempt[] = [];
  for (let r = 0; r < plan.repeat; r++) {
    if (hooks.signal?.aborted) break;
    const attempt = await runAttempt(session, job, (ev) => hooks.onEvent?.(ev, r), hooks.signal);
    // A user error found by the runner on the first attempt is bad input, not a measurement.
    if (!attempt.ok && r === 0 && attempt.status === 'error' && USER_ERROR_KINDS.has(attempt.kind)) {
      throw new HilError(attempt.kind as ErrorKind, attempt.message);
    }
    attempts.push(attempt);
    if (!attempt.ok) {
      // A runner killed by the kernel cannot remove its temporaries; a local run's are removed here.
      if (session.kind === 'local') await removePartials(Object.values(outputs));
      break;
    }
  }
  return buildRecord(plan, input, environment, attempts, runId, outputs, hooks.signal?.aborted ?? false);
}

async function removePartials(finals: string[]): Promise<void> {
  for (const final of finals) {
    const dir = path.dirname(final);
    const prefix = `.${path.basename(final)}.partial-`;
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => rm(path.join(dir, n), { force: true })));
  }
}

/** Runs one job on a target once: writes the job file, runs the runner, and classifies the outcome. */
export async function runAttempt(
  session: TargetSession,
  job: Job,
  onEvent: (ev: RunnerEvent) => void,
  signal?: AbortSignal,
  mode: 'run' | 'floor' = 'run',
): Promise<Attempt> {
  const jobDir = await mkdtemp(path.join(os.tmpdir(), 'hil-job-'));
  try {
    const jobPath = path.join(jobDir, 'job.json');
    await writeFileAtomic(jobPath, JSON.stringify(job, null, 2));
    return await runOnce(session, mode === 'floor' ? ['--floor', jobPath] : [jobPath], onEvent, signal);
  } finally {
    await rm(jobDir, { recursive: true, force: true });
  }
}

async function runOnce(session: TargetSession, args: string[], onEvent: (ev: RunnerEvent) => void, signal?: AbortSignal): Promise<Attempt> {
  let summary: RunnerSummary | undefined;
  let error: { kind: string; message: string; fix?: string } | undefined;
  const exit = await session.runRunner(
    args,
    (ev) => {
      if (ev.ev === 'done') summary = ev.result;
      if (ev.ev === 'error') error = ev;
      onEvent(ev);
    },
    signal,
  );
  if (summary && exit.exitCode === 0) return { ok: true, summary, exit };
  if (exit.oomKilled) return { ok: false, status: 'oom', kind: 'oom', message: 'killed by the kernel for exceeding the memory limit', exit };
  if (error) return { ok: false, status: 'error', kind: error.kind, message: error.fix ? `${error.message} — ${error.fix}` : error.message, exit };
  const how = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
  return { ok: false, status: 'error', kind: signal?.aborted ? 'interrupted' : 'internal', message: `runner ${how}${exit.stderrTail ? `: ${exit.stderrTail.split('\n').slice(-3).join(' | ')}` : ''}`, exit };
}

function jobModel(plan: RunPlan, entry: ModelEntry, stage: 'sc' | 'ac'): JobModel {
  const name = plan.devices[stage] ?? 'CPU';
  const device = plan.target.devices.find((d) => d.name.toUpperCase() === name) ?? { name, backend: 'onnxruntime' as const };
  return jobModelFor(entry.manifest, entry.filePath, device);
}

export function buildJob(plan: RunPlan, input: ResolvedInput, outputs: Record<string, string>): Job {
  const job: JobInput = {
    schema: 'hil.job/1',
    scenario: plan.scenario,
    input: { path: input.path, bands: input.bands, scale: input.scale, offset: input.offset, nodata: input.nodata },
    models: {
      sc: plan.models.sc ? jobModel(plan, plan.models.sc, 'sc') : undefined,
      ac: plan.models.ac ? jobModel(plan, plan.models.ac, 'ac') : undefined,
    },
    output: { sc: outputs.sc, ac: outputs.ac },
    engine: {
      patchSize: plan.engine.patchSize,
      overlap: plan.engine.overlap,
      batch: plan.engine.batch,
      intraOpThreads: plan.engine.threads,
    },
  };
  return job as Job;
}

function toSample(s: RunnerSummary, exit: RunnerExit): Sample {
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return {
    totalMs: s.totalMs,
    stages: s.stages,
    modelLoadMs: sum(s.modelLoadMs),
    firstInferenceMs: sum(s.firstInferenceMs),
    peakRssBytes: s.peakRssBytes,
    cgroupPeakBytes: exit.cgroupPeakBytes,
    ...(s.scheduling ? { scheduling: s.scheduling } : {}),
  };
}

function buildRecord(
  plan: RunPlan,
  input: ResolvedInput,
  environment: Environment,
  attempts: Attempt[],
  id: string,
  planned: Record<string, string>,
  interrupted: boolean,
): ResultRecord {
  const good = attempts.filter((a): a is Extract<Attempt, { ok: true }> => a.ok);
  const failed = attempts.find((a): a is Extract<Attempt, { ok: false }> => !a.ok);
  const samples = good.map((a) => toSample(a.summary, a.exit));
  const status: ResultRecord['status'] =
    good.length === plan.repeat ? 'ok' : good.length > 0 ? 'partial' : failed?.status === 'oom' ? 'oom' : 'error';
  const last = good.at(-1)?.summary;
  const stageNames = [...new Set(samples.flatMap((s) => Object.keys(s.stages)))];
  const med = (xs: (number | null | undefined)[]) => {
    const v = xs.filter((x): x is number => typeof x === 'number');
    return v.length ? median(v) : null;
  };
  const modelRef = (stage: 'sc' | 'ac') => {
    const entry = plan.models[stage];
    if (!entry) return undefined;
    const m = entry.manifest;
    return {
      id: m.id,
      sha256: m.sha256 ?? null,
      weights: m.weights,
      format: m.format,
      precision: m.precision,
      device: plan.devices[stage] ?? 'CPU',
      backend: last?.backends[stage]?.backend ?? (m.format === 'builtin' ? 'builtin' : 'onnxruntime'),
      threads: last?.backends[stage]?.threads,
    };
  };
  const limits = attempts.find((a) => a.exit?.limits)?.exit?.limits ?? plan.target.limits;
  return {
    schema: RESULT_SCHEMA,
    id,
    createdAt: new Date().toISOString(),
    source: 'measured',
    status,
    error: failed ? { kind: failed.kind, message: failed.message } : interrupted ? { kind: 'interrupted', message: 'the run was interrupted' } : undefined,
    target: recordTarget(plan.target, environment, limits),
    scenario: { name: plan.scenario, res: plan.res, devices: { ...plan.devices } },
    input: last
      ? { path: input.path, width: last.input.width, height: last.input.height, bands: last.input.bands, sha256: input.sha256, synthetic: input.synthetic }
      : undefined,
    models: { sc: modelRef('sc'), ac: modelRef('ac') },
    timings: {
      totalMs: med(samples.map((s) => s.totalMs)),
      stages: Object.fromEntries(stageNames.map((n) => [n, med(samples.map((s) => s.stages[n]))!])),
      modelLoadMs: med(samples.map((s) => s.modelLoadMs)),
      firstInferenceMs: med(samples.map((s) => s.firstInferenceMs)),
    },
    memory: {
      peakRssBytes: med(samples.map((s) => s.peakRssBytes)) ?? null,
      cgroupPeakBytes: med(samples.map((s) => s.cgroupPeakBytes)) ?? attempts.find((a) => a.exit?.cgroupPeakBytes)?.exit?.cgroupPeakBytes ?? null,
    },
    repeats: { requested: plan.repeat, completed: good.length },
    samples,
    // The coordinator's paths: a remote runner's own paths are fetched back to these.
    outputs: last ? Object.fromEntries(Object.keys(last.outputs).map((k) => [k, planned[k]])) : {},
    grid: last?.grid,
    environment,
    deploy: attempts.find((a) => a.exit?.deploy)?.exit?.deploy,
  };
}

/** The start of every record id: the time now, e.g. `20261121T084506Z`, so ids sort by time. */
export function recordStamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** `<timestamp>-<target>-<scenario>-<res>m`, sortable and unique per second and target. */
export function recordId(plan: RunPlan): string {
  return `${recordStamp()}-${plan.target.name}-${plan.scenario}-${plan.res}m`;
}

export async function writeRecord(record: ResultRecord, outDir: string): Promise<string> {
  const file = path.join(outDir, `${record.id}.json`);
  try {
    await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
  } catch (err) {
    throw outputError(`cannot write result ${file}: ${(err as Error).message}`, 'check that --out is a writable folder with free space');
  }
  return file;
}

