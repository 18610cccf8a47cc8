/** Durations as Table 1 prints them: "40s", "1m 49s", "1h 1m 27s" (rounded to whole seconds). */
export function formatDuration(ms: number): string {
  let s = Math.round(ms / 1000);
  if (ms > 0 && s === 0) return `${(ms / 1000).toFixed(1)}s`;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** Parses Table 1's duration format back to seconds; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(?:(\d+)h\s*)?(?:(\d+)m\s*)?(?:(\d+(?:\.\d+)?)s)?\s*$/.exec(text);
  if (!m || (!m[1] && !m[2] && !m[3])) return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** Bytes in decimal units, as RAM is sold: "812 MB", "1.7 GB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(bytes >= 1e10 ? 0 : 1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} kB`;
  return `${bytes} B`;
}
