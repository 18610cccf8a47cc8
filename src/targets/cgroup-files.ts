/**
 * The file-level cgroup logic, shared by the local runner (which writes the files with fs) and the remote
 * script builder (which renders the same writes as sh), so the two can never disagree about which file
 * gets which value or how a counter file is read. Pure functions only: no fs, no processes.
 */
import { z } from 'zod';
import { targetError } from '../errors.js';

export type CgroupVersion = 1 | 2;
/** The controllers hil uses; `memory` is always used (for the peak and the OOM counter). */
export type Controller = 'memory' | 'cpu' | 'cpuset';

export interface CgroupLimits {
  memoryBytes?: number;
  /** CPU quota in CPUs: 4 -> "400000 100000". */
  cpus?: number;
  /** CPU list in kernel syntax, e.g. "0-1" or "0,2". */
  cpuset?: string;
}

const limitsSchema = z.strictObject({
  memoryBytes: z.number().int().min(4 * 1024 * 1024).optional(),
  cpus: z.number().positive().optional(),
  cpuset: z
    .string()
    .regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'a CPU list such as "0-1" or "0,2"')
    .optional(),
});

export function validateLimits(limits: CgroupLimits): CgroupLimits {
  const parsed = limitsSchema.safeParse(limits);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw targetError(
    `invalid cgroup limit ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'unknown problem'}`,
    'use memoryBytes >= 4 MiB (an integer), cpus > 0, and cpuset as a CPU list like "0-1"',
  );
}

/** The limits as they were put in force, for the result record. */
export interface AppliedLimits {
  memoryBytes?: number;
  /** 0 when swap is disabled for the group, null when the kernel offers no file to do so (no swap accounting). */
  swapBytes: 0 | null;
  /** CPU quota in CPUs after capping. */
  cpuQuota?: number;
  cpusCapped?: { requested: number; host: number };
  cpuset?: string;
}

/** One value written into a control file of the new group. */
export interface FileWrite {
  controller: Controller;
  file: string;
  /** A literal value, or "copy this file's value from the parent group" (v1 cpuset.mems). */
  value: string | { copyFromParent: true };
  /** Written only where the kernel offers the file (swap accounting is optional). */
  optional: boolean;
  /** Marks the write that disables swap, so the applied limits can say whether it happened. */
  disablesSwap?: boolean;
}

export interface LimitPlan {
  /** Controllers the group needs, in the order their groups are created. */
  controllers: Controller[];
  /** In write order: the kernel requires memory.limit_in_bytes <= memsw, and cpuset.cpus/mems before tasks join. */
  writes: FileWrite[];
  applied: Omit<AppliedLimits, 'swapBytes'>;
}

export const CPU_PERIOD_US = 100_000;
/** The kernel refuses quotas under 1 ms per period. */
const MIN_QUOTA_US = 1_000;

/** CPUs beyond the host's cores cannot be granted; cap them and say so rather than pretend. */
export function cpuQuota(cpus: number, hostCpus: number): { quotaUs: number; cpus: number; capped?: { requested: number; host: number } } {
  const granted = Math.min(cpus, hostCpus);
  const quotaUs = Math.max(MIN_QUOTA_US, Math.round(granted * CPU_PERIOD_US));
  return { quotaUs, cpus: granted, ...(cpus > hostCpus ? { capped: { requested: cpus, host: hostCpus } } : {}) };
}

export function planLimits(version: CgroupVersion, raw: CgroupLimits, hostCpus: number): LimitPlan {
  const limits = validateLimits(raw);
  const controllers: Controller[] = ['memory'];
  const writes: FileWrite[] = [];
  const applied: LimitPlan['applied'] = {};
  if (limits.cpuset !== undefined) {
    controllers.push('cpuset');
    writes.push({ controller: 'cpuset', file: 'cpuset.cpus', value: limits.cpuset, optional: false });
    // v1 groups start with empty mems and refuse tasks until set; v2 inherits the parent's when empty.
    if (version === 1) writes.push({ controller: 'cpuset', file: 'cpuset.mems', value: { copyFromParent: true }, optional: false });
    applied.cpuset = limits.cpuset;
  }
  if (limits.memoryBytes !== undefined) {
    const bytes = String(limits.memoryBytes);
    writes.push({ controller: 'memory', file: version === 2 ? 'memory.max' : 'memory.limit_in_bytes', value: bytes, optional: false });
    // v1 has no "swap = 0" file: memory+swap limited to the memory limit leaves no room for swap.
    if (version === 1) writes.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: bytes, optional: true, disablesSwap: true });
    applied.memoryBytes = limits.memoryBytes;
  }
  if (version === 2) writes.push({ controller: 'memory', file: 'memory.swap.max', value: '0', optional: true, disablesSwap: true });
  if (limits.cpus !== undefined) {
    controllers.push('cpu');
    const q = cpuQuota(limits.cpus, hostCpus);
    if (version === 2) {
      writes.push({ controller: 'cpu', file: 'cpu.max', value: `${q.quotaUs} ${CPU_PERIOD_US}`, optional: false });
    } else {
      writes.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(CPU_PERIOD_US), optional: false });
      writes.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(q.quotaUs), optional: false });
    }
    applied.cpuQuota = q.cpus;
    if (q.capped) applied.cpusCapped = q.capped;
  }
  return { controllers, writes, applied };
}

/** Counter files read after the run, all in the memory controller's group (the unified group on v2). */
export function counterFiles(version: CgroupVersion): string[] {
  return version === 2
    ? ['memory.peak', 'memory.events']
    : ['memory.max_usage_in_bytes', 'memory.oom_control', 'memory.failcnt'];
}

export interface CgroupCounters {
  peakMemoryBytes: number | null;
  /** Kills by the OOM killer inside the group; null where the kernel does not count them (v1 before 4.13). */
  oomKills: number | null;
  /** v1 only: how often usage hit the limit (memory.failcnt); a hint where oom_kill is not counted. */
  limitHits: number | null;
  underOom: boolean;
}

/** Reads "key value" lines (memory.events, memory.oom_control, cpu.stat). */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

function parseNumber(text: string | undefined): number | null {
  const t = text?.trim();
  return t && /^\d+$/.test(t) ? Number(t) : null;
}

/** `read(file)` returns a counter file's contents, or undefined where the kernel does not offer it. */
export function parseCounters(version: CgroupVersion, read: (file: string) => string | undefined): CgroupCounters {
  if (version === 2) {
    const events = read('memory.events');
    const kv = events === undefined ? undefined : parseKeyValues(events);
    return { peakMemoryBytes: parseNumber(read('memory.peak')), oomKills: kv?.get('oom_kill') ?? null, limitHits: null, underOom: false };
  }
  const oom = read('memory.oom_control');
  const kv = oom === undefined ? undefined : parseKeyValues(oom);
  return {
    peakMemoryBytes: parseNumber(read('memory.max_usage_in_bytes')),
    oomKills: kv?.get('oom_kill') ?? null,
    limitHits: parseNumber(read('memory.failcnt')),
    underOom: (kv?.get('under_oom') ?? 0) > 0,
  };
}

/**
 * The OOM killer cannot be caught, so its only traces are a SIGKILL (137 through a shell or SSH) and the
 * group's counter. Without an oom_kill counter (old v1 kernels), a SIGKILL after hitting the limit is the
 * best evidence there is.
 */
export function wasOomKilled(exitCode: number | null, signal: NodeJS.Signals | null, c: CgroupCounters): boolean {
  const killed = signal === 'SIGKILL' || exitCode === 137;
  if (!killed) return false;
  if (c.oomKills !== null) return c.oomKills > 0;
  return c.underOom || (c.limitHits ?? 0) > 0;
}
