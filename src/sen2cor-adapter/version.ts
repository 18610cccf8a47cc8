export interface Sen2CorVersion {
  /** As printed, e.g. "02.10.01". */
  raw: string;
  /** Without leading zeros, e.g. "2.10.01". */
  full: string;
  /** Major.minor as the papers cite it, e.g. "2.10". */
  short: string;
}

/** Finds the banner line ("Sen2Cor. Version: 02.10.01, created: 2022.01.20, ...") in Sen2Cor's output. */
export function parseSen2CorVersion(output: string): Sen2CorVersion | undefined {
  const m = /Sen2Cor\.?\s+Version:\s*(\d+)\.(\d+)(?:\.(\d+))?/i.exec(output);
  if (!m) return undefined;
  const parts = [m[1], m[2], m[3]].filter((p): p is string => p !== undefined);
  const full = [String(Number(parts[0])), ...parts.slice(1)].join('.');
  return { raw: parts.join('.'), full, short: `${Number(parts[0])}.${parts[1]}` };
}
