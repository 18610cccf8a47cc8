import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { BACKEND_KINDS } from '../backends/backend.js';
import { HilError, targetError, type ErrorKind } from '../errors.js';
import { BenchResultSchema } from '../results/schema.js';
import { detectCgroupSupport, runInCgroup } from '../targets/cgroup.js';
import { tailKeeper } from '../targets/local.js';
import type { TargetProfile } from '../targets/profile.js';
import { writeFileAtomic } from '../util/atomic.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import type { BenchJobInput } from './job.js';
import type { BenchOutcome } from './measure.js';

export const BENCH_WORKER = path.join(PACKAGE_ROOT, 'dist', 'bench', 'worker.js');

const LineSchema = z.discriminatedUnion('ev', [
  z.object({
    ev: z.literal('bench'),
    result: BenchResultSchema,
    backend: z.object({ backend: z.enum(BACKEND_KINDS), device: z.string(), version: z.string(), precision: z.string().optional() }),
  }),
  z.object({ ev: z.literal('error'), kind: z.string(), message: z.string(), fix: z.string().optional() }),
]);

function parseLine(line: string): z.infer<typeof LineSchema> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const r = LineSchema.safeParse(JSON.parse(line));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

interface WorkerExit {
  exitCode: number | null;
  limitsNote?: string;
}

/**
 * Runs the bench worker where the target's runner would run: a child process here, inside the target's
 * cgroup when it has limits (flatsat-emu). Any failure is an error, never a record: a benchmark that did
 * not finish measured nothing.
 */
export async function launchBench(target: TargetProfile, job: Omit<BenchJobInput, 'schema'>): Promise<BenchOutcome & { limitsNote?: string }> {
  if (target.transport.kind !== 'local') {
    throw targetError(`hil bench runs on local targets only for now; ${target.name} is reached over ${target.transport.kind}`, 'run hil bench on the board itself (--target local there), or use hil run for a tile');
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hil-bench-'));
  let outcome: BenchOutcome | undefined;
  let error: { kind: string; message: string; fix?: string } | undefined;
  const stderr = tailKeeper();
  const onLine = (l: string) => {
    const ev = parseLine(l);
    if (ev?.ev === 'bench') outcome = { result: ev.result, backend: ev.backend };
    else if (ev?.ev === 'error') error = ev;
  };
  let exit: WorkerExit;
  try {
    const jobPath = path.join(dir, 'bench.json');
    await writeFileAtomic(jobPath, JSON.stringify({ schema: 'hil.bench-job/1', ...job }));
    exit = target.limits ? await inCgroup(target.limits, jobPath, onLine, stderr.push) : await plain(jobPath, onLine, stderr.push);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (error) throw new HilError((['input', 'model', 'output', 'target'].includes(error.kind) ? error.kind : 'internal') as ErrorKind, error.message, error.fix);
  if (!outcome || exit.exitCode !== 0) {
    throw targetError(`the bench worker ended (exit ${exit.exitCode}) without a result: ${stderr.get().split('\n').slice(-3).join(' | ') || 'no output'}`, 'nothing was measured; check memory limits and the model');
  }
  return { ...outcome, limitsNote: exit.limitsNote };
}

function plain(jobPath: string, onLine: (l: string) => void, onStderr: (c: string) => void): Promise<WorkerExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH_WORKER, jobPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.setEncoding('utf8').on('data', onStderr);
    createInterface({ input: child.stdout }).on('line', onLine);
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode }));
  });
}

async function inCgroup(limits: NonNullable<TargetProfile['limits']>, jobPath: string, onLine: (l: string) => void, onStderr: (c: string) => void): Promise<WorkerExit> {
  const support = await detectCgroupSupport();
  if (!support.usable) throw targetError(`cannot emulate the target's limits: ${support.reason ?? 'cgroups are not usable here'}`, support.fix ?? 'run as root on a Linux host with cgroups');
  const r = await runInCgroup(process.execPath, [BENCH_WORKER, jobPath], { limits, onStdoutLine: onLine, onStderr });
  if (r.oomKilled) throw targetError('the bench worker was killed for exceeding the target memory limit', 'use a smaller --patch or --batch; nothing was measured');
  return { exitCode: r.exitCode, limitsNote: `cgroup v${r.version}` };
}
