import type { ResultRecord } from '../results/schema.js';
import { formatBytes, formatDuration } from './format.js';

/** One row of Table 1: a model (pair) on a computer, device and resolution, with a cell per scenario. */
export interface Table1Row {
  model: string;
  computer: string;
  device: string;
  res: number;
  cells: { sc?: ResultRecord; ac?: ResultRecord; both?: ResultRecord };
  peakBytes: number | null;
}

export function deviceLabel(r: ResultRecord): string {
  const { sc, ac } = r.scenario.devices;
  return sc && ac && sc !== ac ? `${sc}/${ac}` : (sc ?? ac ?? 'CPU');
}

/**
 * Groups records into rows. A `both` record defines a row for its model pair; `sc` and `ac` records join
 * the row that uses the same model for that stage on the same computer, device and resolution. Within a
 * cell the newest record wins.
 */
export function table1Rows(records: readonly ResultRecord[]): Table1Row[] {
  const rows: Table1Row[] = [];
  const sorted = [...records].sort((a, b) => order(a.scenario.name) - order(b.scenario.name) || a.createdAt.localeCompare(b.createdAt));
  for (const r of sorted) {
    const sc = r.models.sc?.id;
    const ac = r.models.ac?.id;
    const same = (row: Table1Row) => row.computer === r.target.computer && row.device === deviceLabel(r) && row.res === r.scenario.res;
    let row = rows.find(
      (row) =>
        same(row) &&
        (r.scenario.name === 'both'
          ? row.cells.both?.models.sc?.id === sc && row.cells.both?.models.ac?.id === ac
          : r.scenario.name === 'sc'
            ? rowModel(row, 'sc') === sc
            : rowModel(row, 'ac') === ac),
    );
    if (!row) {
      row = { model: [sc, ac].filter(Boolean).join(' + '), computer: r.target.computer, device: deviceLabel(r), res: r.scenario.res, cells: {}, peakBytes: null };
      rows.push(row);
    }
    row.cells[r.scenario.name] = r;
    const peak = r.memory.cgroupPeakBytes ?? r.memory.peakRssBytes;
    if (peak !== null) row.peakBytes = Math.max(row.peakBytes ?? 0, peak);
  }
  return rows;
}

function rowModel(row: Table1Row, stage: 'sc' | 'ac'): string | undefined {
  return row.cells.both?.models[stage]?.id ?? row.cells[stage]?.models[stage]?.id;
}

function order(s: string): number {
  return s === 'both' ? 0 : s === 'sc' ? 1 : 2;
}

export function cellText(r: ResultRecord | undefined): string {
  if (!r) return '-';
  if (r.status === 'oom') return 'Memory crash';
  if (r.status === 'error' || r.timings.totalMs === null) return 'error';
  const t = formatDuration(r.timings.totalMs);
  return r.status === 'partial' ? `${t} (partial)` : t;
}

export function renderTable1Markdown(records: readonly ResultRecord[]): string {
  const header = '| Model | Computer | Device | Res | Scene Classification | Atmospheric Correction | Both | Peak memory |';
  const rule = '|---|---|---|---|---|---|---|---|';
  const lines = table1Rows(records).map(
    (row) =>
      `| ${row.model} | ${row.computer} | ${row.device} | ${row.res} m | ${cellText(row.cells.sc)} | ${cellText(row.cells.ac)} | ${cellText(row.cells.both)} | ${row.peakBytes === null ? '-' : formatBytes(row.peakBytes)} |`,
  );
  return [header, rule, ...lines].join('\n');
}
