import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cliEntry = path.join(repoRoot, 'dist', 'cli', 'main.js');

/** A cache shared by the test files, so the synthetic tiles are generated once per machine. */
export const testCacheDir = path.join(os.tmpdir(), 'hil-test-cache');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (npm test builds it first) as a user would. */
export function hil(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  if (!existsSync(cliEntry)) throw new Error(`${cliEntry} is missing: run npm run build (npm test does)`);
  mkdirSync(testCacheDir, { recursive: true });
  const r = spawnSync(process.execPath, [cliEntry, ...args], {
    encoding: 'utf8',
    env: { ...process.env, HIL_CACHE_DIR: testCacheDir, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a GDAL command-line tool and returns its stdout; throws with its stderr on failure. */
export function gdal(tool: string, args: string[]): string {
  const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
