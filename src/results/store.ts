import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { RESULT_SCHEMA, ResultRecordSchema, type ResultRecord } from './schema.js';

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface LoadedResults {
  records: ResultRecord[];
  /** Files that could not be read as hil.result/1, with why: reported, never fatal. */
  skipped: SkippedFile[];
}

/**
 * Loads every result record under the given files or folders. Folders are read non-recursively, so
 * `outputs/` and other working folders beside the records are never mistaken for results.
 */
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
      const loaded = readRecord(file);
      if ('record' in loaded) out.records.push(loaded.record);
      else out.skipped.push({ file, reason: loaded.reason });
    }
  }
  return out;
}

function readRecord(file: string): { record: ResultRecord } | { reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { reason: `unreadable JSON (${(err as Error).message})` };
  }
  const schema = typeof raw === 'object' && raw !== null ? (raw as { schema?: unknown }).schema : undefined;
  if (typeof schema === 'string' && schema !== RESULT_SCHEMA) {
    return schema.startsWith('hil.result/')
      ? { reason: `written with schema ${schema}; this hil reads ${RESULT_SCHEMA} (re-run it with this version of hil)` }
      : { reason: `not a result record (schema ${schema})` };
  }
  if (schema === undefined) return { reason: `not a result record (no "schema": "${RESULT_SCHEMA}")` };
  const parsed = ResultRecordSchema.safeParse(raw);
  if (parsed.success) return { record: parsed.data };
  const issue = parsed.error.issues[0];
  return { reason: `not a valid ${RESULT_SCHEMA} record (${issue.path.join('.') || 'schema'}: ${issue.message})` };
}
