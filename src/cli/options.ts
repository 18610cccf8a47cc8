import { Option, type Command } from 'commander';
import { loadConfig, type Config } from '../config/config.js';
import { usageError } from '../errors.js';
import type { LockOptions } from '../targets/lock.js';

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

/** --lock-wait, for the verbs that measure (run, bench): a target busy with another benchmark is waited for. */
export function lockWaitOption(): Option {
  return new Option('--lock-wait <s>', 'how long to wait for a target busy with another benchmark').default('600');
}

/**
 * The target lock's options from --lock-wait. The wait is announced on stderr, or as a `waiting` event
 * where stdout is a stream of JSON lines (`hil run --json`).
 */
export function lockWaitOptions(seconds: string, jsonLines: boolean): Pick<LockOptions, 'waitMs' | 'onWait'> {
  if (!(Number(seconds) >= 0)) throw usageError(`--lock-wait ${seconds} is not a number of seconds`, 'e.g. --lock-wait 600');
  return {
    waitMs: Number(seconds) * 1000,
    onWait: (holder) => {
      if (jsonLines) process.stdout.write(`${JSON.stringify({ ev: 'waiting', holder })}\n`);
      else process.stderr.write(`waiting: ${holder}\n`);
    },
  };
}
