import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configError } from '../errors.js';

const PerKey = z.union([z.number(), z.record(z.string(), z.number())]);

/**
 * gate.json. Every level is strict: a misspelt key would silently fall back to a default and gate
 * something other than what was meant, so unknown keys are refused.
 */
export const GateConfigSchema = z
  .object({
    speed: z
      .object({
        /** Significance level of the one-sided Mann–Whitney U test. */
        alpha: z.number().gt(0).lt(1).default(0.01),
        /** The median must slow by more than this fraction as well (0.05 = 5 %). */
        minEffect: z.number().min(0).default(0.05),
        /** Which time to compare: the end-to-end total, or one stage (read, sc, ac, write). */
        metric: z.string().default('totalMs'),
        /** Treat "inconclusive" (too few repeats) as a failure instead of a pass with a warning. */
        failOnInconclusive: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    memory: z
      .object({
        /** A peak above this fails; default: the target's memory limit, else its RAM. */
        budgetBytes: z.number().positive().optional(),
        /** Growth of the median peak over the baseline's that fails (0.1 = 10 %). */
        maxGrowth: z.number().min(0).default(0.1),
      })
      .strict()
      .prefault({}),
    accuracy: z
      .object({
        /** Ceiling on per-band RMSE (reflectance): one number for every band, or per band. */
        rmseMax: PerKey.optional(),
        /** How much worse than the baseline a band's RMSE may get (reflectance). */
        rmseTolerance: z.number().min(0).default(0.001),
        /** Floor on F2: one number for every class, or per class (cloud, shadow, cloudOrShadow). */
        f2Min: PerKey.optional(),
        /** How much lower than the baseline's an F2 may get. */
        f2Tolerance: z.number().min(0).default(0.01),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type GateConfig = z.infer<typeof GateConfigSchema>;

export const DEFAULT_GATE_CONFIG: GateConfig = GateConfigSchema.parse({});

export function parseGateConfig(raw: unknown, source: string): GateConfig {
  const parsed = GateConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const at = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (at ? `${at}.${k}` : k)).join(', ');
    const shape = at ? (GateConfigSchema.shape[at as keyof typeof GateConfigSchema.shape].unwrap() as z.ZodObject).shape : GateConfigSchema.shape;
    throw configError(`gate config ${source} has unknown key ${keys}`, `use only ${Object.keys(shape).map((k) => (at ? `${at}.${k}` : k)).join(', ')}`);
  }
  throw configError(`gate config ${source} is invalid at ${at || '(top)'}: ${issue.message}`, 'fix the value (see the README for the gate config)');
}

export function loadGateConfig(file: string): GateConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw configError(`cannot read gate config ${file}: ${(err as Error).message}`, 'give a JSON file with --config, or leave it out for the defaults');
  }
  return parseGateConfig(raw, file);
}
