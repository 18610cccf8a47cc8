import { createHash } from 'node:crypto';
import type { ResultRecord } from './schema.js';

/**
 * The parts of an environment that change timings by themselves: two results are comparable only when
 * these agree. The harness version and git sha are left out, because they are what a comparison is about;
 * OS and kernel are left out because a patch-level update is not a different machine (they are still shown
 * as differences when a mismatch is reported).
 */
export interface Fingerprint {
  cpuModel: string | null;
  cores: number | null;
  arch: string | null;
  memoryLimitBytes: number | null;
  cpuLimit: number | null;
  cpuset: string | null;
  node: string | null;
  onnxruntime: string | null;
}

export function fingerprintOf(r: ResultRecord): Fingerprint {
  const env = r.environment;
  const limits = r.target.limits;
  return {
    cpuModel: env?.cpuModel ?? null,
    cores: env?.cores ?? null,
    arch: env?.arch ?? null,
    memoryLimitBytes: limits?.memoryBytes ?? null,
    cpuLimit: limits?.cpus ?? null,
    cpuset: limits?.cpuset ?? null,
    node: env?.node ?? null,
    onnxruntime: env?.onnxruntime ?? null,
  };
}

/** A short stable id of the fingerprint, for grouping and for printing. */
export function fingerprintId(r: ResultRecord): string {
  const f = fingerprintOf(r);
  const canonical = JSON.stringify(Object.keys(f).sort().map((k) => [k, f[k as keyof Fingerprint]]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

export interface EnvDifference {
  field: keyof Fingerprint;
  a: string;
  b: string;
}

/**
 * Why two results are not comparable; empty when they are. A record without an environment (literature)
 * is comparable with nothing measured.
 */
export function environmentDifferences(a: ResultRecord, b: ResultRecord): EnvDifference[] {
  if (!a.environment || !b.environment) {
    if (a.environment === b.environment) return [];
    return [{ field: 'cpuModel', a: a.environment ? a.environment.cpuModel : `unknown (${a.source})`, b: b.environment ? b.environment.cpuModel : `unknown (${b.source})` }];
  }
  const fa = fingerprintOf(a);
  const fb = fingerprintOf(b);
  return (Object.keys(fa) as (keyof Fingerprint)[])
    .filter((k) => fa[k] !== fb[k])
    .map((k) => ({ field: k, a: String(fa[k] ?? 'none'), b: String(fb[k] ?? 'none') }));
}

export function comparable(a: ResultRecord, b: ResultRecord): boolean {
  return environmentDifferences(a, b).length === 0;
}

export function describeDifferences(diffs: readonly EnvDifference[]): string {
  return diffs.map((d) => `${d.field} ${d.a} vs ${d.b}`).join('; ');
}
