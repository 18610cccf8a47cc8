import type { ResultRecord } from './schema.js';

/** Every field optional; a record matches when it satisfies all that are given. */
export interface ResultQuery {
  target?: string;
  computer?: string;
  scenario?: ResultRecord['scenario']['name'];
  /** Matches the model of either stage. */
  model?: string;
  res?: number;
  /** A prefix of the harness's git sha, as `git log --oneline` prints it. */
  gitSha?: string;
  source?: ResultRecord['source'];
  status?: readonly ResultRecord['status'][];
}

export function matches(r: ResultRecord, q: ResultQuery): boolean {
  if (q.target !== undefined && r.target.name !== q.target) return false;
  if (q.computer !== undefined && r.target.computer !== q.computer) return false;
  if (q.scenario !== undefined && r.scenario.name !== q.scenario) return false;
  if (q.model !== undefined && r.models.sc?.id !== q.model && r.models.ac?.id !== q.model) return false;
  if (q.res !== undefined && r.scenario.res !== q.res) return false;
  if (q.gitSha !== undefined && !(r.environment?.gitSha ?? '').startsWith(q.gitSha)) return false;
  if (q.source !== undefined && r.source !== q.source) return false;
  if (q.status !== undefined && !q.status.includes(r.status)) return false;
  return true;
}

export function queryResults(records: readonly ResultRecord[], q: ResultQuery): ResultRecord[] {
  return records.filter((r) => matches(r, q));
}

/** The model column: the distinct model ids of the stages, SC first ("DTACSNet", "unet + CNN_corrector"). */
export function modelLabel(r: ResultRecord): string {
  return [...new Set([r.models.sc?.id, r.models.ac?.id].filter((x): x is string => Boolean(x)))].join(' + ');
}

/** The device column: one device, or SC/AC when the stages ran on different devices (MYRIAD/CPU). */
export function deviceLabel(r: ResultRecord): string {
  const { sc, ac } = r.scenario.devices;
  return sc && ac && sc !== ac ? `${sc}/${ac}` : (sc ?? ac ?? 'CPU');
}

/**
 * What a gate compares like with like: the same target, scenario, resolution and device per stage. The
 * model build is deliberately left out, since a new build is exactly what a gate is asked about.
 */
export function comparisonKey(r: ResultRecord): string {
  return `${r.target.name} ${r.scenario.name} ${r.scenario.res} m ${deviceLabel(r)}`;
}

/** Peak memory of one run: the cgroup's peak where a cgroup was used (it sees the whole tree), else VmHWM. */
export function peakBytes(m: { peakRssBytes: number | null; cgroupPeakBytes?: number | null }): number | null {
  return m.cgroupPeakBytes ?? m.peakRssBytes;
}

/** Newest first, by creation time. */
export function newestFirst(records: readonly ResultRecord[]): ResultRecord[] {
  return [...records].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
