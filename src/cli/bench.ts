import path from 'node:path';
import type { Command } from 'commander';
import { jobModelFor, type ServedDevice } from '../backends/job-model.js';
import { launchBench } from '../bench/launch.js';
import { benchRecord } from '../bench/record.js';
import { findTarget } from '../config/config.js';
import { resolveModel, verifyModel } from '../models/registry.js';
import { recordStamp, writeRecord } from '../scenarios/execute.js';
import { parseDevices } from '../scenarios/plan.js';
import { ensureWritableDir } from '../util/atomic.js';
import { intOption } from '../util/int-option.js';
import { configFor, lockWaitOption, lockWaitOptions } from './options.js';

interface BenchFlags {
  model: string;
  device: string;
  target: string;
  patch?: string;
  batch: string;
  threads: string;
  time: string;
  out?: string;
  lockWait: string;
  json?: boolean;
}

const ms = (v: number | null) => (v === null ? '-' : `${v.toFixed(2)} ms`);

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('Per-patch latency of one model on one device: cold start apart from steady state (tinybench), written as a result record')
    .requiredOption('--model <id|file>', 'model to time (hil models list)')
    .option('--device <name>', 'device of the target (its profile says which backend serves it)', 'CPU')
    .option('--target <name>', 'target profile (local transports)', 'local')
    .option('--patch <px>', 'patch side in pixels (default: the model manifest)')
    .option('--batch <n>', 'patches per call', '1')
    .option('--threads <n>', 'inference threads for the runtime (0 = one per CPU the runner may use: its affinity, capped by a cgroup CPU quota)', '0')
    .option('--time <ms>', 'steady-state time budget for tinybench', '2000')
    .option('--out <dir>', 'folder for the record (default: <results>/bench, apart from tile runs)')
    .addOption(lockWaitOption())
    .option('--json', 'print the record as JSON')
    .action(async (flags: BenchFlags, cmd: Command) => {
      // --json prints one JSON document, so the wait is announced on stderr either way.
      const lock = lockWaitOptions(flags.lockWait, false);
      const config = configFor(cmd);
      const target = findTarget(config, flags.target);
      const entry = resolveModel(flags.model, config.modelsDir);
      const task = entry.manifest.task;
      // The same check as a run's plan: a device the target lacks, or cannot drive, fails here.
      const device = parseDevices(flags.device, target, [task])[task]!;
      const served = target.devices.find((d) => d.name.toUpperCase() === device) as ServedDevice;
      await verifyModel(entry, config.modelsDir);
      const m = entry.manifest;
      const patch = flags.patch === undefined ? (m.spatial.kind === 'fixed' ? m.spatial.width : m.patchSize) : intOption('--patch', flags.patch, 1, 512);
      const outDir = path.resolve(flags.out ?? path.join(config.resultsDir, 'bench'));
      await ensureWritableDir(outDir);
      const outcome = await launchBench(
        target,
        {
        model: jobModelFor(m, entry.filePath, served),
        patch,
        batch: intOption('--batch', flags.batch, 1, 4),
        threads: intOption('--threads', flags.threads, 0, 2),
        timeMs: intOption('--time', flags.time, 1, 2000),
        },
        config.cacheDir,
        lock,
      );
      const record = benchRecord({ id: `${recordStamp()}-${target.name}-bench-${m.id}-${device}`, target, entry, device, outcome, environment: outcome.environment, limitsNote: outcome.limitsNote });
      const file = await writeRecord(record, outDir);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ file, record }, null, 2)}\n`);
        return;
      }
      const { cold, steady } = outcome.result;
      process.stdout.write(
        [
          `${m.id} (${m.precision}) on ${target.name} ${device} via ${outcome.backend.backend} ${outcome.backend.version}: ${outcome.result.batch}×${patch}×${patch} px per call`,
          `cold start  model load ${ms(cold.sessionMs)}, first inference ${ms(cold.firstInferenceMs)}`,
          `steady      ${steady.source === 'tool' ? 'measured by the tool' : 'tinybench'}, ${steady.iterations} calls: mean ${ms(steady.meanMs)}, p50 ${ms(steady.p50Ms)}, p99 ${ms(steady.p99Ms)}, ±${steady.rmePct === null ? '-' : steady.rmePct.toFixed(2)} %`,
          `throughput  ${steady.mpxPerS.toFixed(2)} Mpx/s`,
          `result: ${file}`,
        ].join('\n') + '\n',
      );
    });
}
