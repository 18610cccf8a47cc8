import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { configError } from '../errors.js';
import { BUILTIN_PROFILES } from '../targets/builtin-profiles.js';
import { TargetProfileSchema, type TargetProfile } from '../targets/profile.js';

/**
 * hil.config.json: optional; whatever it sets is merged over the built-in defaults. Unknown keys are
 * errors, because a misspelt key silently ignored would measure the wrong thing.
 */
const TargetOverrideSchema = TargetProfileSchema.omit({ name: true }).partial().strict();

export const ConfigFileSchema = z
  .object({
    modelsDir: z.string().optional(),
    dataDir: z.string().optional(),
    resultsDir: z.string().optional(),
    cacheDir: z.string().optional(),
    targets: z.record(z.string(), TargetOverrideSchema).optional(),
  })
  .strict();

export interface Config {
  /** Where the config came from (for messages), or undefined for defaults only. */
  source?: string;
  modelsDir?: string;
  dataDir?: string;
  resultsDir: string;
  cacheDir: string;
  targets: TargetProfile[];
}

export interface ConfigOverrides {
  configPath?: string;
  modelsDir?: string;
  dataDir?: string;
}

export function loadConfig(overrides: ConfigOverrides = {}, cwd = process.cwd()): Config {
  const file = overrides.configPath ?? (existsSync(path.join(cwd, 'hil.config.json')) ? path.join(cwd, 'hil.config.json') : undefined);
  let parsed: z.infer<typeof ConfigFileSchema> = {};
  if (file) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw configError(`cannot read config ${file}: ${(err as Error).message}`, 'fix the JSON or remove the file');
    }
    const result = ConfigFileSchema.safeParse(raw);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw configError(
        `config ${file} is invalid at ${issue.path.join('.') || '(top)'}: ${issue.message}`,
        'see hil.config.example.json for the accepted keys',
      );
    }
    parsed = result.data;
  }
  const base = file ? path.dirname(file) : cwd;
  const resolve = (p: string | undefined) => (p ? path.resolve(base, p) : undefined);
  return {
    source: file,
    modelsDir: overrides.modelsDir ? path.resolve(overrides.modelsDir) : (process.env.HIL_MODELS_DIR ? path.resolve(process.env.HIL_MODELS_DIR) : resolve(parsed.modelsDir)),
    dataDir: overrides.dataDir ? path.resolve(overrides.dataDir) : (process.env.HIL_DATA_DIR ? path.resolve(process.env.HIL_DATA_DIR) : resolve(parsed.dataDir)),
    resultsDir: resolve(parsed.resultsDir) ?? path.resolve(cwd, 'results'),
    cacheDir: resolve(parsed.cacheDir) ?? process.env.HIL_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'hil'),
    targets: mergeTargets(parsed.targets ?? {}, file ?? 'hil.config.json'),
  };
}

function mergeTargets(overrides: Record<string, z.infer<typeof TargetOverrideSchema>>, file: string): TargetProfile[] {
  const merged = new Map(BUILTIN_PROFILES.map((p) => [p.name, p]));
  for (const [name, override] of Object.entries(overrides)) {
    const base = merged.get(name);
    const candidate = {
      ...base,
      ...override,
      name,
      transport: override.transport && base?.transport.kind === override.transport.kind ? { ...base.transport, ...override.transport } : (override.transport ?? base?.transport),
      limits: override.limits ? { ...base?.limits, ...override.limits } : base?.limits,
    };
    const result = TargetProfileSchema.safeParse(candidate);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw configError(
        `target ${name} in ${file} is incomplete or invalid at ${issue.path.join('.')}: ${issue.message}`,
        base ? 'fix the value' : 'a new target needs description, computer, cpus, memoryBytes, devices and transport',
      );
    }
    merged.set(name, result.data);
  }
  return [...merged.values()];
}

export function findTarget(config: Config, name: string): TargetProfile {
  const target = config.targets.find((t) => t.name === name);
  if (!target) {
    throw configError(`unknown target ${name}`, `choose one of ${config.targets.map((t) => t.name).join(', ')} (hil targets list), or add it to hil.config.json`);
  }
  return target;
}
