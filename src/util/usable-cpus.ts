/**
 * How many CPUs this process can keep busy: those its affinity mask allows (what `os.availableParallelism`
 * counts), capped by a CPU quota on its cgroup or on any group above it (cgroup v1 `cpu.cfs_quota_us` /
 * `cpu.cfs_period_us`, v2 `cpu.max`), rounded up. A quota is what `hil`'s cgroup targets set ("4 CPUs"
 * on a host of any size), and what containers usually get; neither Node nor onnxruntime looks at it.
 */
import os from 'node:os';
import path from 'node:path';
import { groupDir, parseMountinfo, parseProcCgroup, type CgroupMount } from './cgroup-paths.js';
import { tryReadText } from './read-text.js';

export interface UsableCpus {
  cpus: number;
  /** CPUs the affinity mask allows. */
  affinity: number;
  /** The tightest CPU quota found, in CPUs (1.5 = 150 ms per 100 ms); null where there is none. */
  quota: number | null;
}

export interface CpuProbeRoots {
  procRoot?: string;
  sysRoot?: string;
  /** Stands in for `os.availableParallelism()` (tests). */
  affinity?: number;
}

export function usableCpus(roots: CpuProbeRoots = {}): UsableCpus {
  const affinity = roots.affinity ?? os.availableParallelism();
  const quota = cgroupCpuQuota(roots.procRoot ?? '/proc', roots.sysRoot ?? '/');
  return { cpus: Math.max(1, quota === null ? affinity : Math.min(affinity, Math.ceil(quota))), affinity, quota };
}

/** The smallest quota from the process's own group up to the hierarchy's root, or null. */
function cgroupCpuQuota(procRoot: string, sysRoot: string): number | null {
  const mountinfo = tryReadText(path.join(procRoot, 'self/mountinfo'));
  const selfCgroup = tryReadText(path.join(procRoot, 'self/cgroup'));
  if (mountinfo === undefined || selfCgroup === undefined) return null;
  const mounts = parseMountinfo(mountinfo);
  const paths = parseProcCgroup(selfCgroup);
  // Where the cpu controller is bound to a v1 hierarchy, v2 (if mounted too) holds no CPU limits.
  const v1 = mounts.find((m) => m.fstype === 'cgroup' && m.controllers.includes('cpu'));
  const v1Path = paths.get('cpu');
  if (v1 && v1Path !== undefined) return smallestUpward(v1, v1Path, sysRoot, v1Quota);
  const v2 = mounts.find((m) => m.fstype === 'cgroup2');
  const v2Path = paths.get('');
  if (v2 && v2Path !== undefined) return smallestUpward(v2, v2Path, sysRoot, v2Quota);
  return null;
}

function smallestUpward(mount: CgroupMount, cgroupPath: string, sysRoot: string, quotaOf: (dir: string) => number | null): number | null {
  const top = path.resolve(sysRoot, `.${mount.mountPoint}`);
  let smallest: number | null = null;
  for (let dir = groupDir(mount, cgroupPath, sysRoot); ; dir = path.dirname(dir)) {
    const q = quotaOf(dir);
    if (q !== null && (smallest === null || q < smallest)) smallest = q;
    if (dir === top || !dir.startsWith(`${top}/`)) return smallest;
  }
}

/** v1: quota and period in microseconds; a quota of -1 is none. */
function v1Quota(dir: string): number | null {
  const quota = Number(tryReadText(path.join(dir, 'cpu.cfs_quota_us')));
  const period = Number(tryReadText(path.join(dir, 'cpu.cfs_period_us')));
  return quota > 0 && period > 0 ? quota / period : null;
}

/** v2: "max 100000" (none) or "150000 100000". */
function v2Quota(dir: string): number | null {
  const [quota, period] = (tryReadText(path.join(dir, 'cpu.max')) ?? '').trim().split(/\s+/).map(Number);
  return quota > 0 && period > 0 ? quota / period : null;
}
