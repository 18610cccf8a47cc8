import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { findTarget } from '../config/config.js';
import { ExitCode, inputError } from '../errors.js';
import { parseResolution } from '../raster/bands.js';
import { renderTable1Markdown } from '../report/table1.js';
import { localEnvironment } from '../results/environment.js';
import { recordStamp, writeRecord } from '../scenarios/execute.js';
import { runSen2CorOnTarget } from '../scenarios/sen2cor.js';
import { ensureWritableDir } from '../util/atomic.js';
import { configFor } from './options.js';

interface Sen2CorFlags {
  safe: string;
  res: string;
  target: string;
  l2aProcess?: string;
  bashrc?: string;
  out?: string;
  products?: string;
  json?: boolean;
}

export function registerSen2Cor(program: Command): void {
  program
    .command('sen2cor')
    .description('Run ESA Sen2Cor (L2A_Process) on an L1C SAFE as the baseline, measuring wall time and peak memory; writes a result record')
    .requiredOption('--safe <dir>', 'the unzipped S2X_MSIL1C_*.SAFE folder')
    .option('--res <m>', 'resolution: 10, 20 or 60', '10')
    .option('--target <name>', 'a local target; one with limits (flatsat-emu) runs Sen2Cor inside them', 'local')
    .option('--l2a-process <path>', 'L2A_Process to run (default: found on PATH)')
    .option('--bashrc <path>', "Sen2Cor's L2A_Bashrc, sourced before L2A_Process")
    .option('--out <dir>', 'folder for the result record (default: results/)')
    .option('--products <dir>', 'folder for the L2A product (default: <out>/sen2cor)')
    .option('--json', 'print the record as JSON')
    .action(async (flags: Sen2CorFlags, cmd: Command) => {
      const config = configFor(cmd);
      const res = parseResolution(flags.res);
      if (!existsSync(flags.safe)) throw inputError(`${flags.safe} does not exist`, 'give the unzipped L1C .SAFE folder');
      const target = findTarget(config, flags.target);
      const outDir = path.resolve(flags.out ?? config.resultsDir);
      const products = path.resolve(flags.products ?? path.join(outDir, 'sen2cor'));
      await ensureWritableDir(outDir);
      await ensureWritableDir(products);
      const { record, run } = await runSen2CorOnTarget(
        { target, safe: path.resolve(flags.safe), res, outputDir: products, l2aProcess: flags.l2aProcess, bashrc: flags.bashrc },
        await localEnvironment(),
        `${recordStamp()}-${target.name}-sen2cor-${res}m`,
      );
      const file = await writeRecord(record, outDir);
      if (flags.json) process.stdout.write(`${JSON.stringify({ file, record })}\n`);
      else {
        process.stdout.write(`${renderTable1Markdown([record])}\n\nstatus: ${record.status}${run.message ? ` (${run.message})` : ''}\nresult: ${file}\n`);
        if (run.product) process.stdout.write(`L2A product: ${run.product}\n`);
      }
      if (record.status !== 'ok') process.exitCode = ExitCode.failed;
    });
}
