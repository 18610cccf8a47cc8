import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { renderTable1Markdown } from '../report/table1.js';
import { loadResults } from '../results/store.js';
import { configFor } from './options.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Render result records as the Table 1 of the DTACSNet paper (Markdown)')
    .option('--results <dir...>', 'result folders or files (default: results/)')
    .action((flags: { results?: string[] }, cmd: Command) => {
      const config = configFor(cmd);
      const { records, skipped } = loadResults(flags.results ?? [config.resultsDir]);
      for (const s of skipped) process.stderr.write(`skipped ${s.file}: ${s.reason}\n`);
      if (records.length === 0) {
        throw usageError(`no result records in ${(flags.results ?? [config.resultsDir]).join(', ')}`, 'run `hil run` first, or point --results at a folder of records');
      }
      process.stdout.write(`${renderTable1Markdown(records)}\n`);
    });
}
