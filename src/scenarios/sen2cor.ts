import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Resolution } from '../raster/bands.js';
import { RESULT_SCHEMA, recordTarget, type Environment, type ResultRecord } from '../results/schema.js';
import { runSen2Cor, type Sen2CorRun } from '../sen2cor-adapter/run.js';
import { cgroupCounters, createCgroup, detectCgroupSupport, removeCgroup, spawnInCgroup } from '../targets/cgroup.js';
import { wasOomKilled } from '../targets/cgroup-files.js';
import type { TargetProfile } from '../targets/profile.js';
import { targetError } from '../errors.js';

export interface Sen2CorPlan {
  target: TargetProfile;
  safe: string;
  res: Resolution;
  outputDir: string;
  l2aProcess?: string;
  bashrc?: string;
}

/**
 * Runs Sen2Cor as the baseline on a local target, inside the target's cgroup where it has limits (so a
 * Sen2Cor that does not fit in the flatsat's 1.7 GB is killed and recorded as "Memory crash", as in the
 * paper), and returns a result record that Table 1 shows beside DTACSNet.
 */
export async function runSen2CorOnTarget(plan: Sen2CorPlan, environment: Environment, id: string): Promise<{ record: ResultRecord; run: Sen2CorRun }> {
  if (plan.target.transport.kind !== 'local') {
    throw targetError(`Sen2Cor runs on local targets in this version, not over ${plan.target.transport.kind}`, 'run hil sen2cor on the board itself, or use --target local / flatsat-emu');
  }
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'hil-sen2cor-'));
  const base = { safe: plan.safe, resolution: plan.res, outputDir: plan.outputDir, workDir, l2aProcess: plan.l2aProcess, bashrc: plan.bashrc };
  let run: Sen2CorRun;
  let cgroupPeak: number | null = null;
  try {
    const limits = plan.target.limits;
    if (!limits) {
      run = await runSen2Cor(base);
    } else {
      const support = await detectCgroupSupport();
      if (!support.usable) throw targetError(`cannot emulate ${plan.target.name}'s limits: ${support.reason ?? 'cgroups are not usable'}`, support.fix ?? 'run as root');
      const handle = await createCgroup(support, limits);
      try {
        run = await runSen2Cor({
          ...base,
          spawn: (cmd, args, opts) => spawnInCgroup(handle, cmd, args, opts),
          cgroupDir: handle.dirs.memory,
          memoryLimitBytes: limits.memoryBytes,
        });
        const counters = await cgroupCounters(handle);
        cgroupPeak = counters.peakMemoryBytes;
        if (wasOomKilled(run.exitCode, run.signal, counters)) run = { ...run, status: 'oom', message: 'killed by the kernel for exceeding the memory limit' };
      } finally {
        await removeCgroup(handle);
      }
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const model = `Sen2Cor v${run.version?.short ?? '?'}`;
  const ref = { id: model, sha256: null, weights: 'real' as const, format: 'sen2cor', precision: 'fp32', device: 'CPU', backend: 'sen2cor' };
  const sample = { totalMs: run.wallMs, stages: {}, modelLoadMs: 0, firstInferenceMs: 0, peakRssBytes: run.peakRssBytes, cgroupPeakBytes: cgroupPeak };
  const record: ResultRecord = {
    schema: RESULT_SCHEMA,
    id,
    createdAt: new Date().toISOString(),
    source: 'measured',
    status: run.status,
    error: run.message && run.status !== 'ok' ? { kind: run.status, message: run.message } : undefined,
    target: recordTarget(plan.target, environment, plan.target.limits),
    scenario: { name: 'both', res: plan.res, devices: { sc: 'CPU', ac: 'CPU' } },
    models: { sc: ref, ac: ref },
    timings: { totalMs: run.status === 'ok' ? run.wallMs : null, stages: {}, modelLoadMs: null, firstInferenceMs: null },
    memory: { peakRssBytes: run.peakRssBytes, cgroupPeakBytes: cgroupPeak },
    repeats: { requested: 1, completed: run.status === 'ok' ? 1 : 0 },
    samples: run.status === 'ok' ? [sample] : [],
    outputs: run.product ? { l2a: run.product } : {},
    environment,
  };
  return { record, run };
}
