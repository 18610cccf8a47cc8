import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { BACKEND_KINDS } from '../backends/backend.js';
import { HilError, targetError, type ErrorKind } from '../errors.js';
import { USER_ERROR_KINDS, type RunnerEvent } from '../runner/events.js';
import { BenchResultSchema, type Environment } from '../results/schema.js';
import type { TargetProfile } from '../targets/profile.js';
import { openTargetSession, type SessionOptions } from '../targets/session.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { BenchJobInput } from './job.js';
import type { BenchOutcome } from './measure.js';

const BackendSchema = z.object({ backend: z.enum(BACKEND_KINDS), device: z.string(), version: z.string(), precision: z.string().optional(), threads: z.number().int().optional() });

/**
 * Runs the runner's bench mode on the target through its transport — a child process here, inside the
 * target's cgroup when it has limits, or deployed over SSH — exactly where `hil run` would run. Any
 * failure is an error, never a record: a benchmark that did not finish measured nothing.
 */
export async function launchBench(
  target: TargetProfile,
  job: Omit<BenchJobInput, 'schema'>,
  cacheDir: string,
  lock?: SessionOptions['lock'],
): Promise<BenchOutcome & { limitsNote?: string; environment: Environment }> {
  const session = await openTargetSession(target, { cacheDir, lock });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hil-bench-'));
  let bench: Extract<RunnerEvent, { ev: 'bench' }> | undefined;
  let error: Extract<RunnerEvent, { ev: 'error' }> | undefined;
  try {
    const environment = await session.environment();
    const jobPath = path.join(dir, 'bench.json');
    await writeFileAtomic(jobPath, JSON.stringify({ schema: 'hil.bench-job/1', ...job }));
    const exit = await session.runRunner(['--bench', jobPath], (ev) => {
      if (ev.ev === 'bench') bench = ev;
      if (ev.ev === 'error') error = ev;
    });
    if (exit.oomKilled) throw targetError('the benchmark was killed for exceeding the target memory limit', 'use a smaller --patch or --batch; nothing was measured');
    if (error) throw new HilError((USER_ERROR_KINDS.has(error.kind) ? error.kind : 'internal') as ErrorKind, error.message, error.fix);
    if (!bench || exit.exitCode !== 0) {
      throw targetError(`the benchmark ended (exit ${exit.exitCode ?? exit.signal}) without a result: ${exit.stderrTail.split('\n').slice(-3).join(' | ') || 'no output'}`, 'nothing was measured; check memory limits and the model');
    }
    return { result: BenchResultSchema.parse(bench.result), backend: BackendSchema.parse(bench.backend), limitsNote: exit.limits?.note, environment };
  } finally {
    await rm(dir, { recursive: true, force: true });
    await session.close();
  }
}
