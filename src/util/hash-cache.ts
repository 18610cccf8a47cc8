import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { sha256File } from './hash.js';

/**
 * sha256 of a large file, remembered by path, size and mtime so a multi-GB tile is hashed once, not per run.
 * The cache entry is written atomically, so a killed run leaves either no entry or a complete one.
 */
export async function cachedSha256(file: string, cacheDir: string): Promise<string> {
  const st = statSync(file);
  const key = createHash('sha256').update(`${path.resolve(file)}\0${st.size}\0${st.mtimeMs}`).digest('hex');
  const entry = path.join(cacheDir, 'sha256', key);
  if (existsSync(entry)) {
    const cached = readFileSync(entry, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(cached)) return cached;
  }
  const digest = await sha256File(file);
  await mkdir(path.dirname(entry), { recursive: true });
  await writeFileAtomic(entry, digest);
  return digest;
}
