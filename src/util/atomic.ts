import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { outputError } from '../errors.js';

/**
 * A temporary sibling of `finalPath`. It lives in the same folder so the final rename is atomic, and its
 * name says it is partial, so nobody mistakes it for a finished file if the process dies.
 */
export function tempPathFor(finalPath: string): string {
  const dir = path.dirname(finalPath);
  const base = path.basename(finalPath);
  return path.join(dir, `.${base}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Makes `dir` (and parents) and checks it is writable, with an error that says how to fix it. */
export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
    await fs.access(dir, fs.constants.W_OK);
  } catch (err) {
    throw outputError(
      `output folder ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      'choose a writable folder with --out, or fix its permissions',
    );
  }
}

/** Writes a whole file atomically: temp file, fsync, rename. Readers see the old file or the new one. */
export async function writeFileAtomic(finalPath: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(finalPath);
  const handle = await fs.open(tmp, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(tmp, finalPath);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Renames a finished temp file onto its final name. */
export async function commitTemp(tmpPath: string, finalPath: string): Promise<void> {
  await fs.rename(tmpPath, finalPath);
}

/** Removes a temp file after a failure; never throws. */
export async function discardTemp(tmpPath: string): Promise<void> {
  await fs.rm(tmpPath, { force: true }).catch(() => undefined);
}
