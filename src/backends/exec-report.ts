import type { ToolTiming } from './backend.js';

/**
 * Reads the statistics benchmark_app prints at its last step (OpenVINO 2022.x C++ and Python; older
 * releases print one "Latency: X ms" line, newer ones a Median/Average/Min/Max block). Returns undefined
 * unless both the iteration count and a latency were found: a partial report is not a measurement.
 */
export function parseBenchmarkAppReport(text: string): ToolTiming | undefined {
  let iterations: number | undefined;
  let durationMs: number | undefined;
  let throughputFps: number | undefined;
  let firstInferenceMs: number | undefined;
  let readMs: number | undefined;
  let compileMs: number | undefined;
  const latency: Partial<Record<'median' | 'mean' | 'min' | 'max', number>> = {};
  let inLatency = false;
  let latencyDone = false;
  const num = (s: string) => Number.parseFloat(s);
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s*\[\s*\w+\s*\]\s*/, '').trim();
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^Count:\s*(\d+)\s*iterations/i))) iterations = Number(m[1]);
    else if ((m = line.match(/^Duration:\s*([\d.]+)\s*ms/i))) durationMs = num(m[1]);
    else if ((m = line.match(/^Throughput:\s*([\d.]+)\s*FPS/i))) throughputFps = num(m[1]);
    else if ((m = line.match(/First inference took\s*([\d.]+)\s*ms/i))) firstInferenceMs = num(m[1]);
    else if ((m = line.match(/(?:Read model|Read network) took\s*([\d.]+)\s*ms/i))) readMs = num(m[1]);
    else if ((m = line.match(/(?:Compile model|Load network|Load model) took\s*([\d.]+)\s*ms/i))) compileMs = num(m[1]);
    else if ((m = line.match(/^Latency:\s*([\d.]+)\s*ms/i))) {
      if (!latencyDone) latency.median = num(m[1]);
      latencyDone = true;
    } else if (/^Latency:\s*$/i.test(line)) inLatency = !latencyDone;
    else if (inLatency && (m = line.match(/^(Median|Average|AVG|Min|Max):\s*([\d.]+)\s*ms/i))) {
      const key = ({ median: 'median', average: 'mean', avg: 'mean', min: 'min', max: 'max' } as const)[m[1].toLowerCase() as 'median'];
      latency[key] = num(m[2]);
    } else if (inLatency) {
      // The first latency block is the overall one; per-shape groups follow it.
      inLatency = false;
      latencyDone = true;
    }
  }
  if (iterations === undefined || latency.median === undefined || !Number.isFinite(latency.median)) return undefined;
  const loadMs = readMs === undefined && compileMs === undefined ? undefined : (readMs ?? 0) + (compileMs ?? 0);
  return { iterations, latencyMs: { ...latency, median: latency.median }, loadMs, firstInferenceMs, throughputFps, durationMs };
}
