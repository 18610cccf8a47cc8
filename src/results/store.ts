import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ResultRecordSchema, type ResultRecord } from './schema.js';

export interface LoadedResults {
  records: ResultRecord[];
  /** Files that could not be read as hil.result/1, with why: reported, never fatal. */
  skipped: { file: string; reason: string }[];
}

/** Loads every result record under the given files or folders (folders are read non-recursively). */
export function loadResults(paths: readonly string[]): LoadedResults {
  const out: LoadedResults = { records: [], skipped: [] };
  for (const p of paths) {
    if (!existsSync(p)) {
      out.skipped.push({ file: p, reason: 'does not exist' });
      continue;
    }
    const files = statSync(p).isDirectory()
      ? readdirSync(p).filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort().map((f) => path.join(p, f))
      : [p];
    for (const file of files) {
      try {
        const parsed = ResultRecordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
        if (parsed.success) out.records.push(parsed.data);
        else {
          const issue = parsed.error.issues[0];
          out.skipped.push({ file, reason: `not a hil.result/1 record (${issue.path.join('.') || 'schema'}: ${issue.message})` });
        }
      } catch (err) {
        out.skipped.push({ file, reason: `unreadable JSON (${(err as Error).message})` });
      }
    }
  }
  return out;
}
