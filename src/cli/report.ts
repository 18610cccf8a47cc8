import path from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { buildReport } from '../report/model.js';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../report/render.js';
import { literatureRecords } from '../results/literature.js';
import { queryResults } from '../results/query.js';
import { loadResults } from '../results/store.js';
import { ensureWritableDir, writeFileAtomic } from '../util/atomic.js';
import { configFor } from './options.js';
import { queryFromFlags, registerQueryOptions, type QueryFlags } from './query-flags.js';

interface ReportFlags extends QueryFlags {
  results?: string[];
  format: string;
  out?: string;
  includeLiterature?: boolean;
}

export function registerReport(program: Command): void {
  const cmd = program
    .command('report')
    .description('Render result records: Table 1, accuracy tables and charts, as Markdown, self-contained HTML or JSON')
    .option('--results <paths...>', 'result folders or files (default: results/)')
    .option('--format <fmt>', 'md, html or json', 'md')
    .option('--out <dir>', 'write report.<fmt> (and, for Markdown, the charts as SVG files) into this folder instead of printing')
    .option('--include-literature', "add the paper's Table 1 rows, in a table of their own labelled with the citation");
  registerQueryOptions(cmd);
  cmd.action(async (flags: ReportFlags, c: Command) => {
    const format = flags.format as ReportFormat;
    if (!REPORT_FORMATS.includes(format)) throw usageError(`unknown report format "${flags.format}"`, `use --format ${REPORT_FORMATS.join(', --format ')}`);
    const inputs = flags.results ?? [configFor(c).resultsDir];
    const { records, skipped } = loadResults(inputs);
    for (const s of skipped) process.stderr.write(`hil: skipped ${s.file}: ${s.reason}\n`);
    const selected = queryResults(records, queryFromFlags(flags));
    if (selected.length === 0 && !flags.includeLiterature) {
      const why = records.length > 0 ? `none of the ${records.length} result records in ${inputs.join(', ')} match the filters` : `no result records in ${inputs.join(', ')}`;
      throw usageError(why, 'run `hil run` first, point --results at a folder of records, or add --include-literature for the published rows alone');
    }
    const model = buildReport(flags.includeLiterature ? [...selected, ...literatureRecords()] : selected, { inputs, skipped });
    if (!flags.out) {
      process.stdout.write(renderReport(model, format));
      return;
    }
    await ensureWritableDir(flags.out);
    const chartFiles: Record<string, string> = {};
    if (format === 'md') {
      for (const chart of model.charts.filter((ch) => ch.svg !== null)) {
        chartFiles[chart.id] = `${chart.id}.svg`;
        await writeFileAtomic(path.join(flags.out, `${chart.id}.svg`), `${chart.svg}\n`);
      }
    }
    const file = path.join(flags.out, `report.${format}`);
    await writeFileAtomic(file, renderReport(model, format, chartFiles));
    process.stdout.write(`${file}\n`);
  });
}
