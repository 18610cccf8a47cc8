import { existsSync } from 'node:fs';
import path from 'node:path';
import { BACKEND_DEVICES } from '../backends/capabilities.js';
import { BACKEND_KINDS } from '../backends/backend.js';
import type { Config } from '../config/config.js';
import { findTarget } from '../config/config.js';
import { inputError, modelError, targetError, usageError } from '../errors.js';
import type { ModelManifest } from '../models/manifest.js';
import { listModels, resolveModel, type ModelEntry } from '../models/registry.js';
import { parseResolution, type Resolution } from '../raster/bands.js';
import type { ScenarioName } from '../runner/job.js';
import type { TargetProfile } from '../targets/profile.js';
import { intOption } from '../util/int-option.js';

/** Everything `hil run` decided before running anything; --dry-run prints it. */
export interface RunPlan {
  target: TargetProfile;
  scenario: ScenarioName;
  res: Resolution;
  input: { path: string; synthetic: boolean; bands?: string[] };
  models: { sc?: ModelEntry; ac?: ModelEntry };
  devices: { sc?: string; ac?: string };
  repeat: number;
  outDir: string;
  outputsDir: string;
  engine: { patchSize?: number; overlap?: number; batch: number; threads: number };
  /** Why a default was chosen, for the user. */
  notes: string[];
}

export interface PlanOptions {
  target: string;
  res?: string | number;
  scenario: string;
  input?: string;
  bands?: string;
  acModel?: string;
  scModel?: string;
  device?: string;
  repeat: string | number;
  out?: string;
  outputs?: string;
  patch?: string | number;
  overlap?: string | number;
  batch?: string | number;
  threads?: string | number;
}

/** The default AC model: the real DTACSNet corrector when its weights are present, else the no-correction baseline. */
const DEFAULT_AC = 'CNN_corrector';
const FALLBACK_AC = 'no-correction';

export function planRun(config: Config, opts: PlanOptions): RunPlan {
  const notes: string[] = [];
  const target = findTarget(config, opts.target);
  const res = parseResolution(opts.res ?? 10);
  const scenario = opts.scenario as ScenarioName;
  if (!['sc', 'ac', 'both'].includes(scenario)) throw usageError(`--scenario ${opts.scenario} is unknown`, 'use sc, ac or both');

  const models: RunPlan['models'] = {};
  if (scenario !== 'sc') models.ac = pickAcModel(config, opts.acModel, notes);
  if (scenario !== 'ac') models.sc = pickScModel(config, opts.scModel, notes);

  const devices = parseDevices(opts.device, target, Object.keys(models) as ('sc' | 'ac')[]);
  const input = opts.input ? { path: path.resolve(opts.input), synthetic: false } : undefined;
  if (input && !existsSync(input.path)) {
    throw inputError(`input ${opts.input} does not exist`, 'give an existing GeoTIFF with --input, or omit --input to use a synthetic tile');
  }
  const outDir = path.resolve(opts.out ?? config.resultsDir);
  return {
    target,
    scenario,
    res,
    input: input ?? { path: '', synthetic: true },
    models,
    devices,
    repeat: intOption('--repeat', opts.repeat, 1, 3),
    outDir,
    outputsDir: path.resolve(opts.outputs ?? path.join(outDir, 'outputs')),
    engine: {
      patchSize: opts.patch === undefined ? undefined : intOption('--patch', opts.patch, 1, 512),
      overlap: opts.overlap === undefined ? undefined : intOption('--overlap', opts.overlap, 0, 32),
      batch: intOption('--batch', opts.batch ?? 1, 1, 4),
      threads: intOption('--threads', opts.threads ?? 0, 0, 2),
    },
    notes,
  };
}

function pickAcModel(config: Config, ref: string | undefined, notes: string[]): ModelEntry {
  if (ref) return checkTask(resolveModel(ref, config.modelsDir), 'ac');
  const preferred = resolveModel(DEFAULT_AC, config.modelsDir);
  if (preferred.filePath && existsSync(preferred.filePath)) {
    notes.push(`AC model: ${DEFAULT_AC} (real DTACSNet weights from ${config.modelsDir})`);
    return preferred;
  }
  notes.push(`AC model: ${FALLBACK_AC} (the DTACSNet weights are not in a models directory; pass --models-dir to use them)`);
  return resolveModel(FALLBACK_AC, config.modelsDir);
}

/**
 * The default SC model is the DTACSNet network: a real-weight build when one was imported
 * (`hil models build unet-mobilenetv2 --weights X.pt --id dtacsnet`), else the synthetic-weight build,
 * which measures time only. Other SC models (baselines, CloudSEN12 variants) are used only when asked for.
 */
const DEFAULT_SC = ['dtacsnet', 'dtacsnet-synthetic'];

function pickScModel(config: Config, ref: string | undefined, notes: string[]): ModelEntry {
  if (ref) return checkTask(resolveModel(ref, config.modelsDir), 'sc');
  const known = listModels(config.modelsDir);
  const found = DEFAULT_SC.map((id) => known.find((e) => e.manifest.id === id)).find((e) => e !== undefined);
  if (!found) {
    throw modelError(
      'scenarios sc and both need a scene-classification model, and the DTACSNet network is not built',
      'build it with `hil models build unet-mobilenetv2` (synthetic weights, timing only; add --weights FILE.pt --id dtacsnet for real ones), or pass --sc-model ID|FILE',
    );
  }
  notes.push(`SC model: ${found.manifest.id} (${found.manifest.weights} weights${found.manifest.weights === 'synthetic' ? ': timing only, no accuracy' : ''})`);
  return checkTask(found, 'sc');
}

function checkTask(entry: ModelEntry, task: ModelManifest['task']): ModelEntry {
  if (entry.manifest.task !== task) {
    throw modelError(`model ${entry.manifest.id} is an ${entry.manifest.task} model, not ${task}`, `pass an ${task} model (hil models list)`);
  }
  return entry;
}

/**
 * `--device CPU` for every stage, or `--device sc=MYRIAD,ac=CPU` per stage; checked against the target's
 * devices and the backend each is served by, so an impossible plan fails before anything is deployed.
 */
export function parseDevices(spec: string | undefined, target: TargetProfile, stages: ('sc' | 'ac')[]): { sc?: string; ac?: string } {
  const devices: { sc?: string; ac?: string } = {};
  const parts = (spec ?? 'CPU').split(',').map((p) => p.trim()).filter(Boolean);
  for (const stage of stages) devices[stage] = 'CPU';
  const seen = new Set<string>();
  for (const part of parts) {
    const [k, v, extra] = part.includes('=') ? part.split('=') : [undefined, part];
    if (extra !== undefined || !v) throw usageError(`--device ${spec}: cannot read "${part}"`, 'use e.g. --device MYRIAD or --device sc=MYRIAD,ac=CPU');
    if (k !== undefined && k !== 'sc' && k !== 'ac') throw usageError(`--device ${spec}: unknown stage ${k}`, 'use e.g. --device sc=MYRIAD,ac=CPU');
    const key = k ?? '*';
    if (seen.has(key)) throw usageError(`--device ${spec} names ${k ?? 'a device for every stage'} twice`, 'give each stage one device');
    seen.add(key);
    for (const stage of stages) if (k === undefined || k === stage) devices[stage] = v.toUpperCase();
  }
  for (const stage of stages) {
    const device = devices[stage]!;
    const served = target.devices.find((d) => d.name.toUpperCase() === device);
    if (!served) {
      throw targetError(`target ${target.name} has no device ${device}`, `its devices are ${target.devices.map((d) => d.name).join(', ')}`);
    }
    const runtime = BACKEND_DEVICES[served.backend];
    if (runtime !== 'any' && !runtime.includes(device)) {
      throw targetError(`target ${target.name} serves ${device} with the ${served.backend} backend, which cannot drive it`, `serve ${device} with a backend that can (${BACKEND_KINDS.filter((b) => BACKEND_DEVICES[b] === 'any' || BACKEND_DEVICES[b].includes(device)).join(', ')}) in the profile`);
    }
    // The profile schema keeps only what it declares, so an exec device without a command arrives bare.
    if (served.backend === 'exec' && !(served as { exec?: { command?: unknown } }).exec?.command) {
      throw targetError(`device ${device} on ${target.name} is served by an external tool, but the profile gives no command for it`, `add "exec": {"command": ["benchmark_app", "-m", "{model}", "-d", "${device}", ...]} to the device in hil.config.json`);
    }
  }
  return devices;
}

