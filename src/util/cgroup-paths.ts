/**
 * Where a process's cgroups are: the cgroup filesystems mounted (/proc/self/mountinfo), the process's
 * path in each hierarchy (/proc/self/cgroup), and the directory that makes of them. Pure parsing, shared
 * by the coordinator (which creates groups) and the runner (which reads the limits it runs under).
 */
import path from 'node:path';

export interface CgroupMount {
  fstype: 'cgroup' | 'cgroup2';
  /** The cgroup path mounted there (not "/" inside some containers). */
  root: string;
  mountPoint: string;
  /** v1: the controllers bound to this hierarchy (from the super options). */
  controllers: string[];
}

/** mountinfo escapes blanks and backslashes in paths as octal (\040). */
const unescapeOctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

const V1_CONTROLLERS = new Set(['memory', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'devices', 'freezer', 'pids', 'net_cls', 'net_prio', 'perf_event', 'hugetlb', 'rdma', 'misc']);

export function parseMountinfo(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6) continue;
    const fstype = fields[dash + 1];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const superOpts = (fields[dash + 3] ?? '').split(',');
    mounts.push({
      fstype,
      root: unescapeOctal(fields[3]),
      mountPoint: unescapeOctal(fields[4]),
      controllers: fstype === 'cgroup' ? superOpts.filter((o) => V1_CONTROLLERS.has(o)) : [],
    });
  }
  return mounts;
}

/** /proc/self/cgroup: hierarchy id, controller list ("" for v2), path. Keyed by controller, "" for v2. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') out.set('', m[3]);
    else for (const c of m[2].split(',')) out.set(c, m[3]);
  }
  return out;
}

/** The directory of our group: the mount point plus our path below the mounted root. */
export function groupDir(mount: CgroupMount, cgroupPath: string, sysRoot = '/'): string {
  const rel = mount.root === '/' ? cgroupPath : cgroupPath.startsWith(mount.root) ? cgroupPath.slice(mount.root.length) : '/';
  return path.resolve(sysRoot, `.${mount.mountPoint}`, `.${rel}`);
}
