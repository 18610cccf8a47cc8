import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ExitCode, targetError } from '../errors.js';
import { accuracyForOutputs } from '../eval/accuracy.js';
import { resolveReference } from '../eval/reference.js';
import { verifyModel } from '../models/registry.js';
import { RESOLUTIONS, TILE_SIZE_PX, type Resolution } from '../raster/bands.js';
import { openRaster } from '../raster/tiff-reader.js';
import { writeSyntheticTile } from '../raster/synth.js';
import { renderTable1Markdown } from '../report/table1.js';
import { checkJob } from '../runner/prepare.js';
import { buildJob, executePlan, writeRecord, type ResolvedInput } from '../scenarios/execute.js';
import { planRun, type PlanOptions, type RunPlan } from '../scenarios/plan.js';
import { checkSession } from '../targets/check.js';
import { openTargetSession } from '../targets/session.js';
import { ensureWritableDir } from '../util/atomic.js';
import { cachedSha256 } from '../util/hash-cache.js';
import { configFor, lockWaitOption, lockWaitOptions } from './options.js';
import { createProgress } from './progress.js';

interface RunFlags extends PlanOptions {
  lockWait: string;
  reference?: string;
  json?: boolean;
  dryRun?: boolean;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run a full-tile scenario on a target and record time, peak memory and outputs')
    .option('--target <name>', 'target profile (hil targets list)', 'local')
    .option('--res <m>', 'resolution in metres: 10, 20 or 60 (default: the pixel size of --input, else 10)')
    .option('--scenario <name>', 'sc (scene classification), ac (atmospheric correction) or both', 'ac')
    .option('--input <file>', 'input L1C GeoTIFF (default: a synthetic full tile for --res, generated once into the cache)')
    .option('--bands <list>', 'band names of --input in file order, where the file does not describe them')
    .option('--ac-model <id|file>', 'atmospheric-correction model (default: CNN_corrector when its weights are present, else no-correction)')
    .option('--sc-model <id|file>', 'scene-classification model (default: the DTACSNet network: a real-weight build with id dtacsnet, else dtacsnet-synthetic)')
    .option('--device <spec>', 'device for every stage (CPU) or per stage (sc=MYRIAD,ac=CPU)', 'CPU')
    .option('--repeat <n>', 'number of runs; every sample is kept, the record shows medians', '1')
    .option('--patch <px>', 'model input side in pixels (default: the model manifest)')
    .option('--overlap <px>', 'overlap margin per side for patches (default: the model manifest)')
    .option('--batch <n>', 'patches per inference call', '1')
    .option('--threads <n>', 'inference threads for the runtime (0 = one per CPU the runner may use: its affinity, capped by a cgroup CPU quota)', '0')
    .option('--out <dir>', 'folder for result records (default: results/)')
    .option('--outputs <dir>', 'folder for output rasters (default: <out>/outputs)')
    .option('--reference <dataset|file>', 'score the outputs: a dataset holding --input as a sample (its labels, SCL and L2A), or an L2A GeoTIFF on the input grid')
    .addOption(lockWaitOption())
    .option('--json', 'print JSON-lines events and the record instead of a progress bar and a table')
    .option('--dry-run', 'print the plan and run nothing')
    .action(async (flags: RunFlags, cmd: Command) => {
      const config = configFor(cmd);
      const plan = planRun(config, flags);
      const lock = lockWaitOptions(flags.lockWait, Boolean(flags.json));
      if (flags.bands) plan.input.bands = flags.bands.split(',').map((b) => b.trim());
      if (flags.res === undefined && !plan.input.synthetic) plan.res = (await pixelResolution(plan.input.path)) ?? plan.res;
      if (flags.dryRun) {
        printPlan(plan, Boolean(flags.json));
        return;
      }
      for (const entry of Object.values(plan.models)) await verifyModel(entry, config.modelsDir);
      await ensureWritableDir(plan.outDir);
      await ensureWritableDir(plan.outputsDir);

      const progress = createProgress({ json: Boolean(flags.json) });
      const input = await resolveInput(plan, config.cacheDir, progress.update);
      // Resolved before running so a bad reference costs no measurement, and so a dataset sample lends
      // the input its band names and scaling.
      const reference = flags.reference
        ? await resolveReference(flags.reference, { path: input.path, bands: input.bands ?? [], scale: 1e-4, offset: 0 }, { dataDir: config.dataDir })
        : undefined;
      if (reference) {
        Object.assign(input, {
          bands: reference.input.bands.length ? reference.input.bands : input.bands,
          scale: reference.input.scale,
          offset: reference.input.offset,
          nodata: reference.input.nodata ?? undefined,
        });
      }
      // Everything that can be refused without running (bands, data type, patch grid, model sizes) is,
      // before the target is locked or anything is deployed.
      await checkJob(buildJob(plan, input, {}));
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      const session = await openTargetSession(plan.target, {
        cacheDir: config.cacheDir,
        lock,
      });
      let record;
      try {
        const failed = (await checkSession(plan.target, session, plan.res, [...new Set(Object.values(plan.devices))])).filter((r) => !r.ok);
        if (failed.length > 0) {
          throw targetError(`target ${plan.target.name} fails its check: ${failed.map((r) => `${r.check}: ${r.detail}`).join('; ')}`, `fix it and see hil targets check ${plan.target.name}`);
        }
        const environment = await session.environment();
        record = await executePlan(plan, session, input, environment, {
          signal: abort.signal,
          onEvent: (ev, repeat) => {
            if (flags.json) process.stdout.write(`${JSON.stringify({ ...ev, repeat })}\n`);
            else if (ev.ev === 'progress') progress.update(plan.repeat > 1 ? `run ${repeat + 1}/${plan.repeat}` : plan.scenario, ev.done, ev.total);
          },
        });
      } finally {
        process.off('SIGINT', onSigint);
        progress.stop();
        await session.close();
      }
      if (reference && record.status === 'ok') {
        const acc = await accuracyForOutputs({
          input: { ...reference.input, bands: reference.input.bands.length ? reference.input.bands : record.input!.bands },
          reference: reference.reference,
          outputs: Object.fromEntries(
            (['sc', 'ac'] as const).filter((k) => record.outputs[k]).map((k) => [k, { path: record.outputs[k], manifest: plan.models[k]!.manifest }]),
          ),
        });
        record.accuracy = { reference: flags.reference, ac: acc.ac, sc: acc.sc };
      }
      const file = await writeRecord(record, plan.outDir);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ev: 'result', file, record })}\n`);
      } else {
        for (const note of plan.notes) process.stderr.write(`${note}\n`);
        process.stdout.write(`${renderTable1Markdown([record])}\n\n`);
        process.stdout.write(`status: ${record.status}${record.error ? ` (${record.error.message})` : ''}\nresult: ${file}\n`);
        for (const [stage, out] of Object.entries(record.outputs)) process.stdout.write(`${stage} output: ${out}\n`);
      }
      if (abort.signal.aborted) process.exitCode = 130;
      else if (record.status !== 'ok') process.exitCode = ExitCode.failed;
    });
}

/** The input file, or the cached synthetic tile for the resolution (generated on first use). */
async function resolveInput(plan: RunPlan, cacheDir: string, onProgress: (stage: string, done: number, total: number) => void): Promise<ResolvedInput> {
  if (!plan.input.synthetic) {
    return { path: plan.input.path, sha256: await cachedSha256(plan.input.path, cacheDir), synthetic: false, bands: plan.input.bands };
  }
  const size = TILE_SIZE_PX[plan.res];
  const file = path.join(cacheDir, 'synth', `l1c13-${plan.res}m-${size}px-seed1.tif`);
  if (!existsSync(file)) {
    await ensureWritableDir(path.dirname(file));
    await writeSyntheticTile({ out: file, res: plan.res, size, seed: 1, onProgress: (done, total) => onProgress('synth', done, total) });
  }
  return { path: file, sha256: await cachedSha256(file, cacheDir), synthetic: true };
}

function printPlan(plan: RunPlan, json: boolean): void {
  const summary = {
    target: plan.target.name,
    transport: plan.target.transport.kind,
    limits: plan.target.limits ?? null,
    scenario: plan.scenario,
    res: plan.res,
    input: plan.input.synthetic ? `synthetic ${TILE_SIZE_PX[plan.res]}x${TILE_SIZE_PX[plan.res]} L1C tile (cached)` : plan.input.path,
    models: Object.fromEntries(Object.entries(plan.models).map(([k, e]) => [k, { id: e.manifest.id, file: e.filePath ?? null, weights: e.manifest.weights }])),
    devices: plan.devices,
    repeat: plan.repeat,
    // 0 is resolved by the runner on the target, from the CPUs it may use there (src/util/usable-cpus.ts).
    engine: { ...plan.engine, threads: plan.engine.threads || 'one per usable CPU on the target' },
    results: plan.outDir,
    outputs: plan.outputsDir,
    notes: plan.notes,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify({ ev: 'plan', plan: summary })}\n`);
    return;
  }
  process.stdout.write('Plan (dry run, nothing was run):\n');
  for (const [k, v] of Object.entries(summary)) process.stdout.write(`  ${k.padEnd(10)} ${typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v)}\n`);
}

/** The Sentinel-2 resolution an input is at, from its pixel size; undefined when it is not 10, 20 or 60 m. */
async function pixelResolution(file: string): Promise<Resolution | undefined> {
  const reader = await openRaster(file);
  const size = reader.info.geo.geoTransform?.[1];
  await reader.close();
  return RESOLUTIONS.find((r) => size !== undefined && Math.abs(size - r) < 0.01 * r);
}
