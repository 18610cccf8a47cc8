import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveModel } from '../../src/models/registry.js';
import { writeSyntheticTile } from '../../src/raster/synth.js';
import type { RunnerEvent } from '../../src/runner/events.js';
import { JobSchema } from '../../src/runner/job.js';
import { SCHED_IDLE, processThreads } from '../../src/runner/thread-priority.js';
import { runAttempt } from '../../src/scenarios/execute.js';
import { localSession } from '../../src/targets/local.js';
import { haveProc, haveRoot, haveShared, sharedModelsDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('hil-floor-');

/** The corrector's floor on a 1200 px 60 m tile (written once): 3 × 3 patches of 512 px. */
async function floorJob(engine: Record<string, unknown> = {}) {
  const input = path.join(dir, 'in.tif');
  if (!existsSync(input)) await writeSyntheticTile({ out: input, res: 60, size: 1200, seed: 3 });
  const e = resolveModel('CNN_corrector', sharedModelsDir);
  return JobSchema.parse({
    schema: 'hil.job/1',
    scenario: 'ac',
    input: { path: input, scale: 1e-4, offset: 0 },
    models: { ac: { manifest: e.manifest, path: e.filePath, backend: 'onnxruntime', device: 'CPU' } },
    output: { ac: path.join(dir, 'ac.tif'), discard: true },
    engine,
  });
}

describe('inference floor (bench:tile)', () => {
  it("runs the model once per patch on the inference thread, the runner's other threads behind it, and writes nothing", async () => {
    if (!haveShared() || !haveProc('the floor\'s thread scheduling') || !haveRoot('SCHED_IDLE through chrt')) return;
    const job = await floorJob();
    // The runner's threads, sampled while it runs the floor: which were moved behind inference.
    let pid: number | undefined;
    const policies = new Map<number, number>();
    const events: RunnerEvent[] = [];
    const attempt = await runAttempt(
      localSession(),
      job,
      (ev) => {
        events.push(ev);
        if (ev.ev === 'start') pid = ev.pid;
        if (ev.ev === 'progress' && pid !== undefined) for (const t of processThreads(pid)) policies.set(t.tid, t.policy);
      },
      undefined,
      'floor',
    );
    if (!attempt.ok) throw new Error(`the floor failed: ${attempt.message}`);
    const { summary } = attempt;
    // 1200 px in the corrector's 512 px patches without overlap: 3 × 3, the first timed apart.
    expect(summary.patches).toBe(9);
    expect(summary.firstInferenceMs.ac).toBeGreaterThan(0);
    expect(summary.stages.ac).toBeGreaterThan(0);
    expect(summary.stages.ac + summary.firstInferenceMs.ac).toBeLessThan(summary.totalMs);
    expect(events.filter((ev) => ev.ev === 'progress').at(-1)).toMatchObject({ done: summary.patches, total: summary.patches });
    // Inference kept normal priority, everything else went to SCHED_IDLE, as in the engine.
    const idle = [...policies.values()].filter((p) => p === SCHED_IDLE).length;
    expect(idle).toBeGreaterThan(0);
    expect(policies.size - idle).toBeGreaterThan(0);
    expect(readdirSync(dir)).toEqual(['in.tif']);
  });

  it('runs only its part of the patches with engine.floorPart, the parts adding up to all of them', async () => {
    if (!haveShared()) return;
    const parts = [];
    for (const index of [0, 1]) {
      const job = await floorJob({ floorPart: { index, of: 2 } });
      const progress: RunnerEvent[] = [];
      const attempt = await runAttempt(localSession(), job, (ev) => ev.ev === 'progress' && progress.push(ev), undefined, 'floor');
      if (!attempt.ok) throw new Error(`the floor failed: ${attempt.message}`);
      expect(progress.at(-1)).toMatchObject({ done: attempt.summary.patches, total: attempt.summary.patches });
      parts.push(attempt.summary.patches);
    }
    // Nine batches of one: the first half has four, the second five.
    expect(parts).toEqual([4, 5]);
    await expect(floorJob({ floorPart: { index: 2, of: 2 } })).rejects.toThrow(/floorPart.index/);
  });
});
