import { readFileSync } from 'node:fs';

export interface MemorySample {
  rssBytes: number;
  hwmBytes: number;
}

/**
 * VmRSS and VmHWM of this process from /proc. VmHWM is the kernel's own high-water mark, so it catches
 * peaks between samples; on systems without /proc it falls back to Node's counters (then HWM is our max).
 */
let fallbackMax = 0;
export function sampleMemory(): MemorySample {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    return { rssBytes: kib(status, 'VmRSS'), hwmBytes: kib(status, 'VmHWM') };
  } catch {
    const rss = process.memoryUsage.rss();
    fallbackMax = Math.max(fallbackMax, rss);
    return { rssBytes: rss, hwmBytes: fallbackMax };
  }
}

function kib(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Samples memory every `intervalMs` and reports each sample; stop() returns the peak seen. */
export function startMemorySampler(intervalMs: number, onSample: (s: MemorySample) => void): { stop(): MemorySample } {
  let last = sampleMemory();
  onSample(last);
  const timer = setInterval(() => {
    last = sampleMemory();
    onSample(last);
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      last = sampleMemory();
      onSample(last);
      return last;
    },
  };
}
