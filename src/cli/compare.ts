import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { findTarget } from '../config/config.js';
import { compareTargets, comparisonView } from '../report/compare.js';
import { loadResults } from '../results/store.js';
import { markdownTable } from '../report/view.js';
import { configFor } from './options.js';

interface CompareFlags {
  targets: string;
  res: string;
  scenario: string;
  results?: string[];
  json?: boolean;
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('Compare targets for buying hardware: time per tile, tiles per day, memory fit, speed-up over Sen2Cor, cost and energy')
    .requiredOption('--targets <list>', 'comma-separated target names (hil targets list)')
    .option('--res <m>', 'resolution in metres', '10')
    .option('--scenario <name>', 'sc, ac or both', 'both')
    .option('--results <paths...>', 'result folders or files (default: results/)')
    .option('--json', 'print JSON instead of a Markdown table')
    .action((flags: CompareFlags, cmd: Command) => {
      const config = configFor(cmd);
      const names = [...new Set(flags.targets.split(',').map((t) => t.trim()).filter(Boolean))];
      if (names.length === 0) throw usageError('--targets names no target', 'give target names, e.g. --targets flatsat,gcp-vm-cpu');
      const profiles = names.map((n) => findTarget(config, n));
      const res = Number(flags.res);
      if (!Number.isFinite(res) || res <= 0) throw usageError(`--res ${flags.res} is not a resolution`, 'give metres, e.g. --res 10');
      if (!['sc', 'ac', 'both'].includes(flags.scenario)) throw usageError(`unknown scenario "${flags.scenario}"`, 'use --scenario sc, ac or both');
      const inputs = flags.results ?? [config.resultsDir];
      const { records, skipped } = loadResults(inputs);
      for (const s of skipped) process.stderr.write(`hil: skipped ${s.file}: ${s.reason}\n`);
      const comparison = compareTargets(records, profiles, { scenario: flags.scenario as 'sc' | 'ac' | 'both', res });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ schema: 'hil.compare/1', ...comparison }, null, 2)}\n`);
        return;
      }
      const view = comparisonView(comparison);
      process.stdout.write(`${view.caption}\n\n${markdownTable(view)}\n\n${view.notes.join('\n')}\n`);
    });
}
