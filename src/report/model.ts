import { PUBLISHED_ACCURACY } from '../results/literature.js';
import { deviceLabel, modelLabel } from '../results/query.js';
import type { ResultRecord } from '../results/schema.js';
import type { SkippedFile } from '../results/store.js';
import { RMSE_LINE, SC_CLASSES, SC_CLASS_LABEL, acAccuracy, newestPerRun, runLabel, scAccuracy } from './accuracy.js';
import { f2VsTimeChart, rmseBarsChart, stageStackChart } from './charts.js';
import { buildTable1s, type Table1 } from './table1.js';
import { table1View } from './table1.js';
import type { CellView, TableView } from './view.js';

export const REPORT_SCHEMA = 'hil.report/1';

export interface ChartView {
  id: string;
  title: string;
  /** The SVG, or null with `missing` saying which records would draw it. */
  svg: string | null;
  missing?: string;
}

/** Everything a report says, before it is printed as Markdown, HTML or JSON. */
export interface ReportModel {
  schema: typeof REPORT_SCHEMA;
  generatedAt: string;
  inputs: string[];
  counts: { measured: number; literature: number; skipped: number };
  skipped: SkippedFile[];
  table1: Table1[];
  tables: { table1: TableView[]; rmse: TableView | null; sc: TableView | null; published: TableView[] };
  charts: ChartView[];
}

/** Stages in pipeline order, as the stacked chart draws them. */
const STAGE_ORDER = ['load', 'read', 'prepare', 'sc', 'ac', 'write'];

const rmseText = (v: number | undefined): CellView =>
  v === undefined ? { text: '-' } : { text: v.toFixed(4), ...(v > RMSE_LINE ? { italic: true, cls: 'over' } : {}) };

function rmseTable(records: readonly ResultRecord[]): TableView | null {
  const rows = newestPerRun(records, acAccuracy);
  if (rows.length === 0) return null;
  const bands = [...new Set(rows.flatMap((r) => Object.keys(r.value.rmse)))];
  const body: CellView[][] = [];
  for (const { record, value } of rows) {
    body.push([{ text: runLabel(record) }, { text: 'model' }, ...bands.map((b) => rmseText(value.rmse[b]))]);
    if (value.baselineRmse) body.push([{ text: '' }, { text: 'no correction' }, ...bands.map((b) => rmseText(value.baselineRmse![b]))]);
  }
  return {
    id: 'accuracy-rmse',
    caption: 'Atmospheric correction: RMSE per band against Sen2Cor L2A (reflectance), beside the no-correction baseline (TOA against L2A)',
    header: ['Run', 'Output', ...bands],
    rows: body,
    notes: [`Italic: above the ${RMSE_LINE} (2 %) reflectance line. Pixels: ${rows.map((r) => `${runLabel(r.record)} ${r.value.pixels ? Math.max(...Object.values(r.value.pixels)) : 'not stated'}`).join('; ')}.`],
  };
}

function scTable(records: readonly ResultRecord[]): TableView | null {
  const rows = newestPerRun(records, scAccuracy);
  if (rows.length === 0) return null;
  const f = (v: number | undefined) => ({ text: v === undefined ? '-' : v.toFixed(3) });
  return {
    id: 'accuracy-sc',
    caption: 'Scene classification: F2, precision and recall per class against the reference labels',
    header: ['Run', 'Class', 'F2', 'Precision', 'Recall'],
    rows: rows.flatMap(({ record, value }) =>
      SC_CLASSES.filter((c) => value.f2[c] !== undefined).map((c, i) => [{ text: i === 0 ? runLabel(record) : '' }, { text: SC_CLASS_LABEL[c] }, f(value.f2[c]), f(value.precision?.[c]), f(value.recall?.[c])]),
    ),
    notes: ['F2 weighs recall twice as much as precision (β = 2), as the papers score cloud masks.'],
  };
}

/** The published accuracy figures, shown only with the published Table 1 rows (--include-literature). */
function publishedTables(): TableView[] {
  const { rmse, f2 } = PUBLISHED_ACCURACY;
  const bands = [...new Set(Object.values(rmse.models).flatMap((m) => Object.keys(m)))];
  return [
    {
      id: 'published-rmse',
      caption: `As published: RMSE per band against Sen2Cor (reflectance). ${rmse.source}`,
      header: ['Model', ...bands],
      rows: Object.entries(rmse.models).map(([model, values]) => [{ text: model }, ...bands.map((b) => rmseText(values[b]))]),
      notes: [],
    },
    {
      id: 'published-f2',
      caption: `As published: F2 of cloud and shadow masks. ${f2.source}`,
      header: ['Model', 'F2'],
      rows: Object.entries(f2.models).map(([model, v]) => [{ text: model }, { text: v.toFixed(2) }]),
      notes: [],
    },
  ];
}

function charts(measured: readonly ResultRecord[]): ChartView[] {
  const f2 = newestPerRun(measured, (r) => {
    const v = scAccuracy(r)?.f2.cloudOrShadow;
    // Figure 1 plots accuracy against inference time: the SC stage where it was timed apart.
    const ms = r.timings.stages.sc ?? r.timings.totalMs;
    return v !== undefined && ms ? { f2: v, ms } : undefined;
  }).map(({ record, value }) => ({ label: runLabel(record), ...value }));
  const rmse = newestPerRun(measured, acAccuracy);
  const bands = [...new Set(rmse.flatMap((r) => Object.keys(r.value.rmse)))];
  const series = rmse.flatMap(({ record, value }) => [
    { label: runLabel(record), values: value.rmse },
    ...(value.baselineRmse ? [{ label: `no correction (${record.target.name} ${record.scenario.res} m)`, values: value.baselineRmse }] : []),
  ]);
  const stages = newestPerRun(measured, (r) => (r.status === 'ok' || r.status === 'partial') && r.timings.totalMs !== null ? r : undefined).map(({ record }) => {
    const st = Object.fromEntries(STAGE_ORDER.filter((s) => record.timings.stages[s] !== undefined).map((s) => [s, record.timings.stages[s]]));
    const sum = Object.values(st).reduce((a, v) => a + v, 0);
    return { label: `${modelLabel(record)} · ${record.target.name} ${deviceLabel(record)} ${record.scenario.res} m ${record.scenario.name}`, stages: { ...st, other: Math.max(0, record.timings.totalMs! - sum) } };
  });
  return [
    f2.length
      ? { id: 'chart-f2-time', title: 'F2 versus time per model and target', svg: f2VsTimeChart(f2) }
      : { id: 'chart-f2-time', title: 'F2 versus time per model and target', svg: null, missing: 'no measured run carries an SC accuracy (run with --reference)' },
    series.length
      ? { id: 'chart-rmse', title: 'Per-band RMSE against Sen2Cor', svg: rmseBarsChart(series, bands, RMSE_LINE) }
      : { id: 'chart-rmse', title: 'Per-band RMSE against Sen2Cor', svg: null, missing: 'no measured run carries an AC accuracy (run with --reference)' },
    stages.length
      ? { id: 'chart-stages', title: 'Time per stage per target', svg: stageStackChart(stages, [...STAGE_ORDER, 'other']) }
      : { id: 'chart-stages', title: 'Time per stage per target', svg: null, missing: 'no completed measured run' },
  ];
}

export function buildReport(records: readonly ResultRecord[], opts: { inputs: string[]; skipped: SkippedFile[]; now?: Date }): ReportModel {
  const measured = records.filter((r) => r.source === 'measured');
  const table1 = buildTable1s(records);
  return {
    schema: REPORT_SCHEMA,
    generatedAt: (opts.now ?? new Date()).toISOString(),
    inputs: opts.inputs,
    counts: { measured: measured.length, literature: records.length - measured.length, skipped: opts.skipped.length },
    skipped: opts.skipped,
    table1,
    tables: {
      table1: table1.map(table1View),
      rmse: rmseTable(measured),
      sc: scTable(measured),
      published: records.some((r) => r.source === 'literature') ? publishedTables() : [],
    },
    charts: charts(measured),
  };
}
