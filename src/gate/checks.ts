import { median } from '../metrics/stats.js';
import { acAccuracy, scAccuracy, SC_CLASS_LABEL } from '../report/accuracy.js';
import { formatBytes } from '../report/format.js';
import { newestFirst, peakBytes } from '../results/query.js';
import type { ResultRecord } from '../results/schema.js';
import type { GateConfig } from './config.js';
import { speedVerdict, type SpeedVerdict } from './speed.js';

export type CheckStatus = 'pass' | 'fail' | 'inconclusive' | 'skipped';

export interface Check {
  /** The configuration compared: target, scenario, resolution, devices. */
  group: string;
  /** speed, memory.limit, memory.growth, accuracy.rmse.B02, accuracy.f2.cloud, run ... */
  name: string;
  status: CheckStatus;
  message: string;
  speed?: SpeedVerdict;
}

const completed = (records: readonly ResultRecord[]) => records.filter((r) => r.status === 'ok' || r.status === 'partial');

/** The repeat samples of the metric: the total, or one stage. */
export function metricSamples(records: readonly ResultRecord[], metric: string): number[] {
  return completed(records).flatMap((r) =>
    r.samples.map((s) => (metric === 'totalMs' ? s.totalMs : s.stages[metric])).filter((v): v is number => typeof v === 'number'),
  );
}

/** The candidate's own runs: a crashed or failed candidate is a failure whatever its times say. */
export function runCheck(group: string, candidate: readonly ResultRecord[]): Check {
  const bad = candidate.filter((r) => r.status !== 'ok');
  if (bad.length === 0) return { group, name: 'run', status: 'pass', message: `${candidate.length} run(s) completed every repeat` };
  const what = bad.map((r) => `${r.id}: ${r.status === 'oom' ? 'Memory crash' : r.status}${r.error ? ` (${r.error.message})` : ''}`).join('; ');
  return { group, name: 'run', status: 'fail', message: `candidate runs did not complete: ${what}` };
}

export function speedCheck(group: string, baseline: readonly ResultRecord[], candidate: readonly ResultRecord[], cfg: GateConfig['speed']): Check {
  const b = metricSamples(baseline, cfg.metric);
  const c = metricSamples(candidate, cfg.metric);
  if (c.length === 0) return { group, name: 'speed', status: 'skipped', message: `no candidate samples of ${cfg.metric}` };
  const v = speedVerdict(b, c, cfg.alpha, cfg.minEffect);
  const status = v.status === 'regression' ? 'fail' : v.status === 'inconclusive' ? (cfg.failOnInconclusive ? 'fail' : 'inconclusive') : 'pass';
  return { group, name: cfg.metric === 'totalMs' ? 'speed' : `speed.${cfg.metric}`, status, message: v.message, speed: v };
}

function samplePeaks(records: readonly ResultRecord[]): number[] {
  return completed(records).flatMap((r) => r.samples.map(peakBytes).filter((p): p is number => p !== null));
}

export function memoryChecks(group: string, baseline: readonly ResultRecord[], candidate: readonly ResultRecord[], cfg: GateConfig['memory']): Check[] {
  const checks: Check[] = [];
  const target = newestFirst(candidate)[0].target;
  const limit = cfg.budgetBytes ?? target.limits?.memoryBytes ?? target.memoryBytes;
  const limitName = cfg.budgetBytes !== undefined ? 'the budget' : target.limits?.memoryBytes !== undefined ? "the target's memory limit" : "the target's RAM";
  const cPeaks = samplePeaks(candidate);
  const ooms = candidate.filter((r) => r.status === 'oom').length;
  if (ooms > 0) {
    checks.push({ group, name: 'memory.limit', status: 'fail', message: `${ooms} candidate run(s) were killed for memory (Memory crash)` });
  } else if (cPeaks.length === 0) {
    checks.push({ group, name: 'memory.limit', status: 'skipped', message: 'the candidate recorded no peak memory' });
  } else if (limit === null) {
    checks.push({ group, name: 'memory.limit', status: 'skipped', message: 'no memory limit known: set memory.budgetBytes in the gate config' });
  } else {
    const top = Math.max(...cPeaks);
    checks.push({
      group,
      name: 'memory.limit',
      status: top > limit ? 'fail' : 'pass',
      message: `peak ${formatBytes(top)} ${top > limit ? 'above' : 'within'} ${limitName} of ${formatBytes(limit)}`,
    });
  }
  const bPeaks = samplePeaks(baseline);
  if (cPeaks.length === 0 || bPeaks.length === 0) {
    checks.push({ group, name: 'memory.growth', status: 'skipped', message: 'peak memory missing on one side' });
  } else {
    const growth = median(cPeaks) / median(bPeaks) - 1;
    const text = `median peak ${formatBytes(median(bPeaks))} → ${formatBytes(median(cPeaks))} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)} %, limit +${(cfg.maxGrowth * 100).toFixed(1)} %)`;
    checks.push({ group, name: 'memory.growth', status: growth > cfg.maxGrowth ? 'fail' : 'pass', message: text });
  }
  return checks;
}

const limitFor = (spec: number | Record<string, number> | undefined, key: string) => (typeof spec === 'number' ? spec : spec?.[key]);

export function accuracyChecks(group: string, baseline: readonly ResultRecord[], candidate: readonly ResultRecord[], cfg: GateConfig['accuracy']): Check[] {
  const checks: Check[] = [];
  const newest = <T>(records: readonly ResultRecord[], pick: (r: ResultRecord) => T | undefined) => newestFirst(records).map(pick).find((v) => v !== undefined);
  const bAc = newest(baseline, acAccuracy);
  const cAc = newest(candidate, acAccuracy);
  const bSc = newest(baseline, scAccuracy);
  const cSc = newest(candidate, scAccuracy);

  if (cAc) {
    for (const [band, v] of Object.entries(cAc.rmse)) {
      const max = limitFor(cfg.rmseMax, band);
      const before = bAc?.rmse[band];
      const problems: string[] = [];
      if (max !== undefined && v > max) problems.push(`above the ceiling ${max}`);
      if (before !== undefined && v - before > cfg.rmseTolerance) problems.push(`worse than the baseline's ${before.toFixed(4)} by more than ${cfg.rmseTolerance}`);
      const was = before !== undefined ? ` (baseline ${before.toFixed(4)})` : '';
      checks.push({ group, name: `accuracy.rmse.${band}`, status: problems.length ? 'fail' : 'pass', message: `RMSE ${v.toFixed(4)}${was}${problems.length ? `: ${problems.join(', ')}` : ''}` });
    }
  } else if (bAc || cfg.rmseMax !== undefined) {
    checks.push({ group, name: 'accuracy.rmse', status: 'fail', message: `the candidate has no AC accuracy ${bAc ? 'but the baseline has' : 'but the config sets rmseMax'}: run it with --reference` });
  }

  if (cSc) {
    for (const [cls, v] of Object.entries(cSc.f2)) {
      const min = limitFor(cfg.f2Min, cls);
      const before = bSc?.f2[cls];
      const problems: string[] = [];
      if (min !== undefined && v < min) problems.push(`below the floor ${min}`);
      if (before !== undefined && before - v > cfg.f2Tolerance) problems.push(`lower than the baseline's ${before.toFixed(3)} by more than ${cfg.f2Tolerance}`);
      const was = before !== undefined ? ` (baseline ${before.toFixed(3)})` : '';
      checks.push({ group, name: `accuracy.f2.${cls}`, status: problems.length ? 'fail' : 'pass', message: `F2 ${SC_CLASS_LABEL[cls] ?? cls} ${v.toFixed(3)}${was}${problems.length ? `: ${problems.join(', ')}` : ''}` });
    }
  } else if (bSc || cfg.f2Min !== undefined) {
    checks.push({ group, name: 'accuracy.f2', status: 'fail', message: `the candidate has no SC accuracy ${bSc ? 'but the baseline has' : 'but the config sets f2Min'}: run it with --reference` });
  }
  return checks;
}
