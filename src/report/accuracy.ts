import { z } from 'zod';
import { deviceLabel, modelLabel } from '../results/query.js';
import type { ResultRecord } from '../results/schema.js';

/**
 * The accuracy block of a result record (`hil eval` / `hil run --reference`), read leniently: the record
 * keeps it as a free object, so each half is checked on its own and a shape this code does not know is
 * left out of the report rather than misread.
 */
// A band or mask with nothing to compare is null in the record; the report leaves it out.
const Numbers = z
  .record(z.string(), z.number().nullable())
  .transform((r) => Object.fromEntries(Object.entries(r).filter((e): e is [string, number] => e[1] !== null)));

const AcAccuracySchema = z.object({
  rmse: Numbers,
  baselineRmse: Numbers.optional(),
  bias: Numbers.optional(),
  /** Pixels compared, per band (`hil eval`, `hil run --reference`). */
  pixels: z.record(z.string(), z.number()).optional(),
});
const ScAccuracySchema = z.object({ f2: Numbers, precision: Numbers.optional(), recall: Numbers.optional() });

export type AcAccuracy = z.infer<typeof AcAccuracySchema>;
export type ScAccuracy = z.infer<typeof ScAccuracySchema>;

/** The papers' line for AC: 2 % reflectance RMSE against Sen2Cor. */
export const RMSE_LINE = 0.02;

export function acAccuracy(r: ResultRecord): AcAccuracy | undefined {
  const parsed = AcAccuracySchema.safeParse(r.accuracy?.ac);
  return parsed.success ? parsed.data : undefined;
}

export function scAccuracy(r: ResultRecord): ScAccuracy | undefined {
  const parsed = ScAccuracySchema.safeParse(r.accuracy?.sc);
  return parsed.success ? parsed.data : undefined;
}

/** The binary masks scored for SC, in the order the report prints them. */
export const SC_CLASSES = ['cloud', 'shadow', 'cloudOrShadow'] as const;
export const SC_CLASS_LABEL: Record<string, string> = { cloud: 'cloud', shadow: 'shadow', cloudOrShadow: 'cloud or shadow' };

/** "CNN_corrector · local CPU 60 m", the row label of a record in accuracy tables and charts. */
export function runLabel(r: ResultRecord): string {
  return `${modelLabel(r)} · ${r.target.name} ${deviceLabel(r)} ${r.scenario.res} m`;
}

/**
 * One row per distinct run configuration, in label order: accuracy is deterministic for a build and input,
 * so repeats add nothing and only the newest record of each is shown.
 */
export function newestPerRun<T>(records: readonly ResultRecord[], pick: (r: ResultRecord) => T | undefined): { record: ResultRecord; value: T }[] {
  const seen = new Map<string, { record: ResultRecord; value: T }>();
  for (const r of [...records].sort((a, b) => b.createdAt.localeCompare(a.createdAt))) {
    const value = pick(r);
    if (value === undefined || seen.has(runLabel(r))) continue;
    seen.set(runLabel(r), { record: r, value });
  }
  return [...seen.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
}
