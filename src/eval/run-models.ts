import path from 'node:path';
import { ExitCode, HilError, type ErrorKind } from '../errors.js';
import type { ModelEntry } from '../models/registry.js';
import { USER_ERROR_KINDS, type RunnerEvent } from '../runner/events.js';
import type { JobInput } from '../runner/job.js';
import { JobSchema } from '../runner/job.js';
import { runAttempt } from '../scenarios/execute.js';
import type { TargetSession } from '../targets/transport.js';
import type { DatasetRaster } from '../sen2cor-adapter/dataset.js';
import type { ModelOutput } from './accuracy.js';

export interface EvalModels {
  sc?: ModelEntry;
  ac?: ModelEntry;
}

/**
 * Runs the models on one input through the runner, exactly as `hil run` does (same job format, engine and
 * backends), writing the outputs into `outDir`. A failure of the runner becomes a HilError: bad input or
 * model as exit 2, anything else (a crash, an OOM kill) as a failed evaluation.
 */
export async function runModels(session: TargetSession, input: DatasetRaster, models: EvalModels, outDir: string, onEvent: (ev: RunnerEvent) => void = () => undefined): Promise<{ sc?: ModelOutput; ac?: ModelOutput }> {
  const stages = (['sc', 'ac'] as const).filter((k) => models[k]);
  const output = Object.fromEntries(stages.map((k) => [k, path.join(outDir, `${k}.tif`)]));
  const job: JobInput = {
    schema: 'hil.job/1',
    scenario: stages.length === 2 ? 'both' : stages[0],
    input: { path: input.path, bands: input.bands, scale: input.scale, offset: input.offset, ...(input.nodata === null || input.nodata === undefined ? {} : { nodata: input.nodata }) },
    models: Object.fromEntries(
      stages.map((k) => {
        const e = models[k]!;
        return [k, { manifest: e.manifest, path: e.filePath, backend: e.manifest.format === 'builtin' ? 'builtin' : 'onnxruntime', device: 'CPU' }];
      }),
    ),
    output,
  };
  const attempt = await runAttempt(session, JobSchema.parse(job), onEvent);
  if (!attempt.ok) {
    const kind = (USER_ERROR_KINDS.has(attempt.kind) ? attempt.kind : attempt.status === 'oom' ? 'oom' : 'internal') as ErrorKind;
    throw new HilError(kind, `running ${stages.map((k) => models[k]!.manifest.id).join(' + ')} on ${input.path} failed: ${attempt.message}`, undefined, USER_ERROR_KINDS.has(kind) ? ExitCode.badInput : ExitCode.failed);
  }
  return Object.fromEntries(stages.map((k) => [k, { path: attempt.summary.outputs[k], manifest: models[k]!.manifest }]));
}
