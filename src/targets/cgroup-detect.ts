/**
 * Finds out whether, and where, this process can create cgroups: v1 or v2, from /proc/self/mountinfo and
 * /proc/self/cgroup, and the directory under which new groups go (a child of our own group, so that any
 * limit above us still applies to what we run).
 */
import { access, constants, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CgroupVersion, Controller } from './cgroup-files.js';

export interface CgroupSupport {
  version: CgroupVersion | null;
  usable: boolean;
  reason?: string;
  fix?: string;
  /** Where new groups are created, per controller; on v2 every controller maps to the same directory. */
  parents: Partial<Record<Controller, string>>;
}

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

const readText = (file: string) => readFile(file, 'utf8').then((t) => t, () => undefined);
const words = (text: string | undefined) => (text ?? '').trim().split(/\s+/).filter(Boolean);

async function writable(dir: string): Promise<string | null> {
  try {
    await access(dir, constants.W_OK);
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'unknown error';
  }
}

const ROOT_FIX =
  'run hil as root (sudo), or delegate a cgroup v2 subtree to your user: systemd-run --user --scope -p Delegate=yes -- hil ...';

/**
 * v2's "no internal processes" rule: a non-root group whose cgroup.subtree_control enables a controller
 * may not hold processes itself. Our own group holds us, so if it enables nothing yet we cannot switch
 * controllers on there; the new group then goes beside ours, under our parent, which already enables
 * every controller listed in our cgroup.controllers (that is what makes them available to us).
 */
async function v2Parent(own: string, isRoot: boolean): Promise<string> {
  if (isRoot) return own;
  if (words(await readText(path.join(own, 'cgroup.subtree_control'))).length > 0) return own;
  if (words(await readText(path.join(own, 'cgroup.procs'))).length === 0) return own;
  return path.dirname(own);
}

export async function detectCgroupSupport(opts: { procRoot?: string; sysRoot?: string } = {}): Promise<CgroupSupport> {
  const procRoot = opts.procRoot ?? '/proc';
  const sysRoot = opts.sysRoot ?? '/';
  const [mountinfo, selfCgroup] = await Promise.all([
    readText(path.join(procRoot, 'self/mountinfo')),
    readText(path.join(procRoot, 'self/cgroup')),
  ]);
  if (mountinfo === undefined || selfCgroup === undefined) {
    return {
      version: null, usable: false, parents: {},
      reason: `cgroups are not available here (${procRoot}/self/mountinfo or ${procRoot}/self/cgroup is missing: not Linux?)`,
      fix: 'run the cgroup target on a Linux host, or use the local target without limits',
    };
  }
  const mounts = parseMountinfo(mountinfo);
  const paths = parseProcCgroup(selfCgroup);

  const unified = mounts.find((m) => m.fstype === 'cgroup2');
  const unifiedPath = paths.get('');
  if (unified && unifiedPath !== undefined) {
    const own = groupDir(unified, unifiedPath, sysRoot);
    // On hybrid hosts the v2 mount exists but the controllers stay bound to v1; only use v2 if memory is there.
    if (words(await readText(path.join(own, 'cgroup.controllers'))).includes('memory')) {
      const parent = await v2Parent(own, unifiedPath === '/' && unified.root === '/');
      const denied = await writable(parent);
      const parents = { memory: parent, cpu: parent, cpuset: parent };
      if (denied) {
        return { version: 2, usable: false, parents, reason: `cannot create cgroups under ${parent} (${denied})`, fix: ROOT_FIX };
      }
      return { version: 2, usable: true, parents };
    }
  }

  const parents: CgroupSupport['parents'] = {};
  for (const c of ['memory', 'cpu', 'cpuset'] as const) {
    const mount = mounts.find((m) => m.fstype === 'cgroup' && m.controllers.includes(c));
    const p = paths.get(c);
    if (mount && p !== undefined) parents[c] = groupDir(mount, p, sysRoot);
  }
  if (!parents.memory) {
    const none = mounts.length === 0;
    return {
      version: none ? null : 1, usable: false, parents,
      reason: none ? 'no cgroup filesystem is mounted' : 'the memory cgroup controller is not mounted',
      fix: none
        ? 'mount one: mount -t cgroup2 none /sys/fs/cgroup (as root)'
        : 'mount it: mkdir -p /sys/fs/cgroup/memory && mount -t cgroup -o memory none /sys/fs/cgroup/memory (as root; boot with cgroup_enable=memory if the kernel disabled it)',
    };
  }
  for (const [c, dir] of Object.entries(parents)) {
    const denied = await writable(dir);
    if (denied) return { version: 1, usable: false, parents, reason: `cannot create ${c} cgroups under ${dir} (${denied})`, fix: ROOT_FIX };
  }
  return { version: 1, usable: true, parents };
}
