import { median } from '../metrics/stats.js';
import { TILE_SIZE_PX } from '../raster/bands.js';
import { comparable } from '../results/fingerprint.js';
import { deviceLabel, modelLabel, newestFirst, peakBytes, queryResults } from '../results/query.js';
import type { ResultRecord } from '../results/schema.js';
import type { TargetProfile } from '../targets/profile.js';
import { formatBytes, formatDuration } from './format.js';
import type { CellView, TableView } from './view.js';

/** The procurement view of one model on one target, from full-tile runs only. */
export interface CompareRow {
  target: string;
  computer: string;
  model: string;
  device: string;
  status: 'ok' | 'oom';
  /** Median full-tile time over the pooled repeats; null for a Memory crash. */
  tileMs: number | null;
  repeats: number;
  tilesPerDay: number | null;
  peakBytes: number | null;
  /** The board's memory: its limit where one is enforced, else its RAM. */
  boardBytes: number | null;
  fits: boolean | null;
  headroomBytes: number | null;
  /** Sen2Cor's time over this time, with Sen2Cor measured on the same computer and resolution. */
  speedupOverSen2Cor: number | null;
  tilesPerDayPerKUsd: number | null;
  energyWhPerTile: number | null;
  /** Records left out because they ran in another environment than the newest. */
  excluded: number;
}

export interface CompareMissing {
  target: string;
  reason: string;
}

export interface Comparison {
  scenario: ResultRecord['scenario']['name'];
  res: number;
  rows: CompareRow[];
  missing: CompareMissing[];
}

const DAY_MS = 86_400_000;
const isSen2Cor = (r: ResultRecord) => /^sen2cor/i.test(modelLabel(r));

function isFullTile(r: ResultRecord): boolean {
  const side = TILE_SIZE_PX[r.scenario.res as keyof typeof TILE_SIZE_PX];
  return !r.input || side === undefined || (r.input.width >= side && r.input.height >= side);
}

function rowFor(profile: TargetProfile, records: ResultRecord[], sen2corMs: number | null): CompareRow {
  const newest = newestFirst(records)[0];
  const same = records.filter((r) => comparable(r, newest));
  const done = same.filter((r) => (r.status === 'ok' || r.status === 'partial') && r.samples.length > 0);
  const times = done.flatMap((r) => r.samples.map((s) => s.totalMs));
  const peaks = done.flatMap((r) => r.samples.map(peakBytes)).filter((p): p is number => p !== null);
  const tileMs = times.length ? median(times) : null;
  const peak = peaks.length ? Math.max(...peaks) : null;
  const board = profile.limits?.memoryBytes ?? profile.memoryBytes ?? newest.target.limits?.memoryBytes ?? newest.target.memoryBytes;
  const tilesPerDay = tileMs === null ? null : DAY_MS / tileMs;
  return {
    target: profile.name,
    computer: newest.target.computer,
    model: modelLabel(newest),
    device: deviceLabel(newest),
    status: tileMs === null ? 'oom' : 'ok',
    tileMs,
    repeats: times.length,
    tilesPerDay,
    peakBytes: peak,
    boardBytes: board,
    // A run the kernel killed for memory does not fit, whatever was sampled before it died.
    fits: tileMs === null ? false : peak === null || board === null ? null : peak <= board,
    headroomBytes: peak === null || board === null || tileMs === null ? null : board - peak,
    speedupOverSen2Cor: tileMs === null || sen2corMs === null || isSen2Cor(newest) ? null : sen2corMs / tileMs,
    tilesPerDayPerKUsd: tilesPerDay === null || !profile.priceUsd ? null : tilesPerDay / (profile.priceUsd / 1000),
    energyWhPerTile: tileMs === null || profile.powerW === undefined ? null : (profile.powerW * tileMs) / 3_600_000,
    excluded: records.length - same.length,
  };
}

/**
 * Per target, every model measured for the scenario at the resolution on a full tile. A target without
 * such a run is listed as missing with the command that would measure it; nothing is interpolated.
 */
export function compareTargets(records: readonly ResultRecord[], profiles: readonly TargetProfile[], opts: { scenario: ResultRecord['scenario']['name']; res: number }): Comparison {
  const out: Comparison = { scenario: opts.scenario, res: opts.res, rows: [], missing: [] };
  for (const profile of profiles) {
    const mine = queryResults(records, { target: profile.name, res: opts.res, source: 'measured', status: ['ok', 'partial', 'oom'] });
    const sen2cor = queryResults(records, { computer: profile.computer, res: opts.res, source: 'measured', status: ['ok', 'partial'] }).filter((r) => isSen2Cor(r) && isFullTile(r));
    const sen2corTimes = sen2cor.flatMap((r) => r.samples.map((s) => s.totalMs));
    const sen2corMs = sen2corTimes.length ? median(sen2corTimes) : null;
    const forScenario = mine.filter((r) => r.scenario.name === opts.scenario || (isSen2Cor(r) && r.scenario.name === 'both'));
    const tiles = forScenario.filter(isFullTile);
    if (tiles.length === 0) {
      const crop = forScenario.find((r) => !isFullTile(r));
      out.missing.push({
        target: profile.name,
        reason: crop
          ? `only runs on a ${crop.input!.width} × ${crop.input!.height} px crop, not a full tile: hil run --target ${profile.name} --res ${opts.res} --scenario ${opts.scenario}`
          : `no ${opts.scenario} run at ${opts.res} m: hil run --target ${profile.name} --res ${opts.res} --scenario ${opts.scenario}`,
      });
      continue;
    }
    const byModel = new Map<string, ResultRecord[]>();
    for (const r of tiles) byModel.set(`${modelLabel(r)} ${deviceLabel(r)}`, [...(byModel.get(`${modelLabel(r)} ${deviceLabel(r)}`) ?? []), r]);
    for (const rs of byModel.values()) out.rows.push(rowFor(profile, rs, sen2corMs));
  }
  return out;
}

const num = (v: number | null, digits = 1, unit = '') => (v === null ? '-' : `${v.toFixed(digits)}${unit}`);

export function comparisonView(c: Comparison): TableView {
  const rows: CellView[][] = c.rows.map((r) => [
    { text: r.target },
    { text: r.model },
    { text: r.device },
    { text: r.tileMs === null ? 'Memory crash' : formatDuration(r.tileMs), ...(r.tileMs === null ? { cls: 'crash' } : {}) },
    { text: r.tilesPerDay === null ? '-' : r.tilesPerDay.toFixed(r.tilesPerDay >= 100 ? 0 : 1) },
    { text: r.peakBytes === null ? '-' : formatBytes(r.peakBytes) },
    {
      text:
        r.fits === null
          ? r.boardBytes === null ? 'board memory unknown' : 'peak unknown'
          : r.fits
            ? `fits (${formatBytes(r.headroomBytes!)} headroom of ${formatBytes(r.boardBytes!)})`
            : r.headroomBytes === null
              ? `does not fit (Memory crash${r.boardBytes === null ? '' : ` in ${formatBytes(r.boardBytes)}`})`
              : `does not fit (${formatBytes(-r.headroomBytes)} over ${formatBytes(r.boardBytes!)})`,
    },
    { text: num(r.speedupOverSen2Cor, 1, '×') },
    { text: num(r.tilesPerDayPerKUsd) },
    { text: num(r.energyWhPerTile, 2, ' Wh') },
  ]);
  const notes = [
    'Tiles per day assume back-to-back full tiles at the median time. Speed-up is over Sen2Cor measured on the same computer at the same resolution.',
    ...c.missing.map((m) => `Missing ${m.target}: ${m.reason}.`),
    ...c.rows.filter((r) => r.excluded > 0).map((r) => `${r.target} ${r.model}: ${r.excluded} older record(s) from another environment left out.`),
  ];
  return {
    id: 'compare',
    caption: `Targets for ${c.scenario} at ${c.res} m, per full tile`,
    header: ['Target', 'Model', 'Device', 'Time per tile', 'Tiles per day', 'Peak memory', 'Board memory', 'vs Sen2Cor', 'Tiles/day per 1000 USD', 'Energy per tile'],
    rows,
    notes,
  };
}
