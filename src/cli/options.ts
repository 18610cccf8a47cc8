import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/config.js';
import { usageError } from '../errors.js';
import { RESOLUTIONS, type Resolution } from '../raster/bands.js';

/** Options every verb accepts, declared on the root program. */
export interface GlobalOptions {
  config?: string;
  modelsDir?: string;
  dataDir?: string;
}

export function addGlobalOptions(program: Command): void {
  program
    .option('--config <file>', 'hil.config.json to use (default: ./hil.config.json when present)')
    .option('--models-dir <dir>', 'folder with downloaded model weights, e.g. shared/models (env HIL_MODELS_DIR)')
    .option('--data-dir <dir>', 'folder with datasets (env HIL_DATA_DIR)');
}

export function configFor(cmd: Command): Config {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return loadConfig({ configPath: g.config, modelsDir: g.modelsDir, dataDir: g.dataDir });
}

/** A --res flag: one of the Sentinel-2 resolutions. */
export function parseResolution(text: string): Resolution {
  const res = Number(text) as Resolution;
  if (!RESOLUTIONS.includes(res)) throw usageError(`--res ${text} is not a Sentinel-2 resolution`, `use --res ${RESOLUTIONS.join(', --res ')}`);
  return res;
}
