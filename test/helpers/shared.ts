import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The read-only `shared/` folder beside the checkout: real data and models. Never copied into the repo. */
export const sharedDir = process.env.HIL_SHARED_DIR
  ? path.resolve(process.env.HIL_SHARED_DIR)
  : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared');

export const sharedModelsDir = path.join(sharedDir, 'models');
export const sharedDataDir = path.join(sharedDir, 'data');

/**
 * Whether tests that need `shared/` can run. Where it is absent they skip with a printed reason; CI sets
 * HIL_REQUIRE_SHARED=1, which turns that skip into a failure so CI can never pass by skipping.
 */
export function haveShared(what = 'models/dtacsnet'): boolean {
  if (existsSync(path.join(sharedDir, what))) return true;
  if (process.env.HIL_REQUIRE_SHARED === '1') {
    throw new Error(`HIL_REQUIRE_SHARED=1 but ${path.join(sharedDir, what)} is missing`);
  }
  console.warn(`skipping: ${path.join(sharedDir, what)} is absent (set HIL_SHARED_DIR to the shared/ folder)`);
  return false;
}

/** Whether a command-line tool is on PATH (GDAL, sshd); tests that need it skip with a reason otherwise. */
export function haveTool(tool: string, packages = 'gdal-bin openssh-server'): boolean {
  const found = (process.env.PATH ?? '')
    .split(path.delimiter)
    .concat(['/usr/sbin', '/sbin'])
    .some((dir) => existsSync(path.join(dir, tool)));
  if (found) return true;
  if (process.env.HIL_REQUIRE_SHARED === '1') throw new Error(`HIL_REQUIRE_SHARED=1 but ${tool} is not installed`);
  console.warn(`skipping: ${tool} is not installed (apt-get install ${packages})`);
  return false;
}

/** Whether this process is root (tests that create cgroups need it); skips with a reason otherwise. */
export function haveRoot(why: string): boolean {
  if (process.getuid?.() === 0) return true;
  if (process.env.HIL_REQUIRE_SHARED === '1') throw new Error(`HIL_REQUIRE_SHARED=1 but ${why} needs root`);
  console.warn(`skipping: ${why} needs root`);
  return false;
}

/** Whether this is Linux with /proc (thread scheduling reads it); skips with a reason otherwise. */
export function haveProc(why: string): boolean {
  if (existsSync('/proc/thread-self')) return true;
  if (process.env.HIL_REQUIRE_SHARED === '1') throw new Error(`HIL_REQUIRE_SHARED=1 but ${why} needs Linux /proc`);
  console.warn(`skipping: ${why} needs Linux /proc`);
  return false;
}
