import { medianCI, median } from '../metrics/stats.js';
import { TILE_SIZE_PX } from '../raster/bands.js';
import { fingerprintId } from '../results/fingerprint.js';
import { deviceLabel, newestFirst, peakBytes } from '../results/query.js';
import type { ResultRecord } from '../results/schema.js';
import { formatBytes, formatDuration } from './format.js';
import { markdownTable, type CellView, type TableView } from './view.js';

/**
 * Table 1 of the D-TACS report (REFERENCE.md) from result records: a row per model pair on a computer,
 * device and resolution, with a cell per scenario. Measured and published records never share a table.
 */

export type Stage = 'sc' | 'ac' | 'both';
export const STAGES: readonly Stage[] = ['sc', 'ac', 'both'];

export interface Table1Cell {
  /** What the cell prints: "4m 15s", "Memory crash", "error", "-". */
  text: string;
  /** Median wall time; null for an empty, failed or crashed cell. */
  ms: number | null;
  status: ResultRecord['status'] | 'empty';
  /** Spread of the repeats: a 95 % CI of the median from 6 repeats on, the range below that. */
  spread: { lower: number; upper: number; n: number; kind: 'ci95' | 'range' } | null;
  bold: boolean;
  /** Ids of the records behind the cell (several records of one configuration are pooled). */
  records: string[];
  /** Older records of the configuration left out: another build (git sha) or another environment. */
  older: number;
}

export interface Table1Row {
  model: string;
  computer: string;
  device: string;
  res: number;
  scModel?: string;
  acModel?: string;
  cells: Record<Stage, Table1Cell>;
  peakBytes: number | null;
  /** A composite row built from the fastest device per stage, not from one run of the pair. */
  derived: boolean;
  /** Input smaller than a full tile: the times are not per tile. */
  crop: { width: number; height: number } | null;
}

export interface Table1 {
  source: ResultRecord['source'];
  rows: Table1Row[];
  showPeak: boolean;
  citation?: string;
}

const EMPTY: Table1Cell = { text: '-', ms: null, status: 'empty', spread: null, bold: false, records: [], older: 0 };

/** The records of the newest build in the newest environment: repeats of one thing, safe to pool. */
function newestBuild(records: readonly ResultRecord[]): ResultRecord[] {
  const newest = newestFirst(records)[0];
  return records.filter((r) => r.environment?.gitSha === newest.environment?.gitSha && fingerprintId(r) === fingerprintId(newest));
}

/** The Table 1 text of a cell's records: pooled repeats' median, or how the runs failed. */
export function cellOf(all: readonly ResultRecord[]): Table1Cell {
  if (all.length === 0) return { ...EMPTY };
  const records = newestBuild(all);
  const older = all.length - records.length;
  const ids = records.map((r) => r.id);
  const done = records.filter((r) => (r.status === 'ok' || r.status === 'partial') && r.timings.totalMs !== null);
  if (done.length === 0) {
    const oom = records.some((r) => r.status === 'oom');
    return { ...EMPTY, text: oom ? 'Memory crash' : 'error', status: oom ? 'oom' : 'error', records: ids, older };
  }
  const samples = done.flatMap((r) => r.samples.map((s) => s.totalMs));
  // Published figures carry no samples: their single value is the figure.
  const values = samples.length > 0 ? samples : done.map((r) => r.timings.totalMs as number);
  const ms = median(values);
  const status = done.some((r) => r.status === 'partial') ? 'partial' : 'ok';
  let spread: Table1Cell['spread'] = null;
  if (values.length >= 2) {
    const ci = medianCI(values);
    spread =
      ci.lower !== null && ci.upper !== null
        ? { lower: ci.lower, upper: ci.upper, n: values.length, kind: 'ci95' }
        : { lower: Math.min(...values), upper: Math.max(...values), n: values.length, kind: 'range' };
  }
  return { text: formatDuration(ms), ms, status, spread, bold: false, records: ids, older };
}

/** "4m 15s (4m 10s–4m 21s, n=5)" where there are repeats; "(partial)" where some repeats failed. */
export function cellText(cell: Table1Cell): string {
  let t = cell.text;
  if (cell.spread) t += ` (${formatDuration(cell.spread.lower)}–${formatDuration(cell.spread.upper)}, n=${cell.spread.n})`;
  if (cell.status === 'partial') t += ' (partial)';
  return t;
}

interface Draft {
  computer: string;
  device: string;
  res: number;
  scModel?: string;
  acModel?: string;
  records: Record<Stage, ResultRecord[]>;
}

function cropOf(r: ResultRecord): Table1Row['crop'] {
  const full = TILE_SIZE_PX[r.scenario.res as keyof typeof TILE_SIZE_PX];
  if (!r.input || full === undefined || (r.input.width >= full && r.input.height >= full)) return null;
  return { width: r.input.width, height: r.input.height };
}

/**
 * Groups records into rows. A record joins the row on its computer, device and resolution whose model for
 * each of the record's stages is the same or not yet known, so that separate SC and AC runs of one device
 * share a row, as in the paper. `both` records are placed first, so they define the pairs.
 */
function draftRows(records: readonly ResultRecord[]): Draft[] {
  const drafts: Draft[] = [];
  const order = (s: Stage) => (s === 'both' ? 0 : s === 'sc' ? 1 : 2);
  const sorted = [...records].sort((a, b) => order(a.scenario.name) - order(b.scenario.name) || a.createdAt.localeCompare(b.createdAt));
  for (const r of sorted) {
    const sc = r.models.sc?.id;
    const ac = r.models.ac?.id;
    const fits = (d: Draft) =>
      d.computer === r.target.computer &&
      d.device === deviceLabel(r) &&
      d.res === r.scenario.res &&
      (sc === undefined || d.scModel === undefined || d.scModel === sc) &&
      (ac === undefined || d.acModel === undefined || d.acModel === ac) &&
      // A second pair of models on the same device gets its own row rather than filling a half-known one.
      (r.scenario.name !== 'both' || d.records.both.length === 0 || (d.scModel === sc && d.acModel === ac));
    let d = drafts.find(fits);
    if (!d) {
      d = { computer: r.target.computer, device: deviceLabel(r), res: r.scenario.res, records: { sc: [], ac: [], both: [] } };
      drafts.push(d);
    }
    d.scModel ??= sc;
    d.acModel ??= ac;
    d.records[r.scenario.name].push(r);
  }
  return drafts;
}

function toRow(d: Draft): Table1Row {
  const cells = { sc: cellOf(d.records.sc), ac: cellOf(d.records.ac), both: cellOf(d.records.both) };
  // Memory, like time, from the records the cells pooled.
  const pooled = new Set(STAGES.flatMap((s) => cells[s].records));
  const all = [...d.records.sc, ...d.records.ac, ...d.records.both].filter((r) => pooled.has(r.id));
  const peaks = all.map((r) => peakBytes(r.memory)).filter((p): p is number => p !== null);
  const label = [...new Set([d.scModel, d.acModel].filter((x): x is string => Boolean(x)))].join(' + ');
  return {
    model: label,
    computer: d.computer,
    device: d.device,
    res: d.res,
    scModel: d.scModel,
    acModel: d.acModel,
    cells,
    peakBytes: peaks.length ? Math.max(...peaks) : null,
    derived: false,
    crop: all.map(cropOf).find((c) => c !== null) ?? null,
  };
}

/**
 * Table 1's MYRIAD/CPU rows: for a model pair on a computer and resolution, SC on the device where SC was
 * fastest and AC on the device where AC was fastest. Added only where those devices differ and no run of
 * that combination exists; Both is the sum of the two stage times, since no run measured it.
 */
function derivedRows(rows: readonly Table1Row[]): Table1Row[] {
  const out: Table1Row[] = [];
  const groups = new Map<string, Table1Row[]>();
  for (const row of rows) {
    if (!row.scModel || !row.acModel) continue;
    const key = `${row.computer}\u0000${row.res}\u0000${row.scModel}\u0000${row.acModel}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  for (const group of groups.values()) {
    const best = (stage: 'sc' | 'ac') =>
      group.filter((r) => r.cells[stage].ms !== null && !r.device.includes('/')).sort((a, b) => a.cells[stage].ms! - b.cells[stage].ms!)[0];
    const sc = best('sc');
    const ac = best('ac');
    if (!sc || !ac || sc.device === ac.device) continue;
    const device = `${sc.device}/${ac.device}`;
    if (group.some((r) => r.device === device)) continue;
    const bothMs = sc.cells.sc.ms! + ac.cells.ac.ms!;
    out.push({
      ...sc,
      device,
      cells: {
        sc: { ...sc.cells.sc },
        ac: { ...ac.cells.ac },
        both: { text: formatDuration(bothMs), ms: bothMs, status: 'ok', spread: null, bold: false, records: [...sc.cells.sc.records, ...ac.cells.ac.records], older: 0 },
      },
      peakBytes: Math.max(sc.peakBytes ?? 0, ac.peakBytes ?? 0) || null,
      derived: true,
      crop: sc.crop ?? ac.crop,
    });
  }
  return out;
}

/** Bold: the fastest Both per computer and resolution (published tables keep their own bolding). */
function markBold(rows: readonly Table1Row[], source: ResultRecord['source'], records: readonly ResultRecord[]): void {
  if (source === 'literature') {
    const bold = new Set(records.filter((r) => r.published?.bold).map((r) => r.id));
    for (const row of rows) row.cells.both.bold = row.cells.both.records.some((id) => bold.has(id));
    return;
  }
  const groups = new Map<string, Table1Row[]>();
  for (const row of rows) groups.set(`${row.computer}\u0000${row.res}`, [...(groups.get(`${row.computer}\u0000${row.res}`) ?? []), row]);
  for (const group of groups.values()) {
    const timed = group.filter((r) => r.cells.both.ms !== null);
    if (timed.length === 0) continue;
    const fastest = Math.min(...timed.map((r) => r.cells.both.ms!));
    for (const r of timed) r.cells.both.bold = r.cells.both.ms === fastest;
  }
}

/** Rows in the paper's order: by model and computer as they first appear, then resolution, then device. */
function sortRows(rows: Table1Row[]): Table1Row[] {
  const firstSeen = (key: (r: Table1Row) => string) => {
    const m = new Map<string, number>();
    rows.forEach((r, i) => m.has(key(r)) || m.set(key(r), i));
    return (r: Table1Row) => m.get(key(r))!;
  };
  const model = firstSeen((r) => r.model);
  const computer = firstSeen((r) => `${r.model}\u0000${r.computer}`);
  return [...rows].sort((a, b) => model(a) - model(b) || computer(a) - computer(b) || a.res - b.res || a.device.localeCompare(b.device));
}

/** One Table 1 for the records of one source. */
export function buildTable1(records: readonly ResultRecord[], source: ResultRecord['source']): Table1 {
  const mine = records.filter((r) => r.source === source);
  const base = draftRows(mine).map(toRow);
  const rows = sortRows(source === 'measured' ? [...base, ...derivedRows(base)] : base);
  markBold(rows, source, mine);
  const citation = mine.find((r) => r.citation)?.citation;
  return { source, rows, showPeak: rows.some((r) => r.peakBytes !== null), ...(citation ? { citation } : {}) };
}

/** Table 1s for the sources present, measured first. */
export function buildTable1s(records: readonly ResultRecord[]): Table1[] {
  return (['measured', 'literature'] as const).filter((s) => records.some((r) => r.source === s)).map((s) => buildTable1(records, s));
}

export const DERIVED_MARK = '†';
export const CROP_MARK = '‡';

/** The table as printed, blank model and computer cells continuing the row above as in the paper. */
export function table1View(table: Table1): TableView {
  let prev: Table1Row | undefined;
  const rows = table.rows.map((row) => {
    const sameModel = prev?.model === row.model;
    const sameComputer = sameModel && prev?.computer === row.computer;
    prev = row;
    const marks = `${row.derived ? ` ${DERIVED_MARK}` : ''}${row.crop ? ` ${CROP_MARK}` : ''}`;
    const cells: CellView[] = [
      { text: sameModel ? '' : row.model },
      { text: sameComputer ? '' : row.computer },
      { text: `${row.device}${marks}` },
      { text: `${row.res} m` },
      ...STAGES.map((s): CellView => {
        const c = row.cells[s];
        return {
          text: cellText(c),
          ...(c.bold ? { bold: true } : {}),
          ...(c.status === 'oom' ? { cls: 'crash' } : {}),
          ...(c.ms !== null ? { title: `${(c.ms / 1000).toFixed(3)} s` } : {}),
        };
      }),
    ];
    if (table.showPeak) cells.push({ text: row.peakBytes === null ? '-' : formatBytes(row.peakBytes) });
    return cells;
  });
  const header = ['Model', 'Computer', 'Device', 'Res', 'Scene Classification', 'Atmospheric Correction', 'Both'];
  return {
    id: `table1-${table.source}`,
    caption: table.source === 'literature' ? `Table 1 as published: ${table.citation ?? 'literature'}` : 'Table 1, measured by hil: wall time per run, reading the input and writing the output included',
    header: table.showPeak ? [...header, 'Peak memory'] : header,
    rows,
    notes: table1Notes(table),
  };
}

/** Footnotes for the marks used in the table. */
export function table1Notes(table: Table1): string[] {
  const notes: string[] = [];
  if (table.rows.some((r) => r.derived)) {
    notes.push(`${DERIVED_MARK} derived from separate stage runs: each stage on its fastest device; Both is the sum of the two stage times, not a measured run.`);
  }
  for (const r of table.rows.filter((r) => r.crop)) {
    notes.push(`${CROP_MARK} ${r.model} on ${r.computer} ${r.device} at ${r.res} m ran on a ${r.crop!.width} × ${r.crop!.height} px input, not a full tile.`);
  }
  const older = table.rows.reduce((n, r) => n + STAGES.reduce((m, s) => m + r.cells[s].older, 0), 0);
  if (older > 0) {
    notes.push(`Each cell pools the repeats of its newest build and environment; ${older} older record(s) are left out (choose a build with --git-sha).`);
  }
  if (table.rows.some((r) => STAGES.some((s) => r.cells[s].spread))) {
    notes.push('Times are medians of the repeats; in parentheses the 95 % confidence interval of the median (6 repeats or more) or the range (fewer), and the number of repeats.');
  }
  return [...new Set(notes)];
}

export function table1Markdown(table: Table1): string {
  const view = table1View(table);
  return [markdownTable(view), ...(view.notes.length ? ['', ...view.notes] : [])].join('\n');
}

/** Table 1 in Markdown for the records, one table per source (measured first). */
export function renderTable1Markdown(records: readonly ResultRecord[]): string {
  return buildTable1s(records).map(table1Markdown).join('\n\n');
}
