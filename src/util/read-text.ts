import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * A file's text, or undefined where it cannot be read. For /proc, /sys and cgroup files, where a file
 * that is missing or gone (a process that exited, a controller not mounted) is an answer, not an error.
 */
export function tryReadText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** tryReadText, without blocking. */
export const tryReadTextAsync = (file: string): Promise<string | undefined> => readFile(file, 'utf8').then((t) => t, () => undefined);
