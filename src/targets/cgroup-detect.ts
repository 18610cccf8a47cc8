/**
 * Finds out whether, and where, this process can create cgroups: v1 or v2, from /proc/self/mountinfo and
 * /proc/self/cgroup, and the directory under which new groups go (a child of our own group, so that any
 * limit above us still applies to what we run).
 */
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { groupDir, parseMountinfo, parseProcCgroup } from '../util/cgroup-paths.js';
import { tryReadTextAsync } from '../util/read-text.js';
import type { CgroupVersion, Controller } from './cgroup-files.js';

export interface CgroupSupport {
  version: CgroupVersion | null;
  usable: boolean;
  reason?: string;
  fix?: string;
  /** Where new groups are created, per controller; on v2 every controller maps to the same directory. */
  parents: Partial<Record<Controller, string>>;
}

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
  if (words(await tryReadTextAsync(path.join(own, 'cgroup.subtree_control'))).length > 0) return own;
  if (words(await tryReadTextAsync(path.join(own, 'cgroup.procs'))).length === 0) return own;
  return path.dirname(own);
}

export async function detectCgroupSupport(opts: { procRoot?: string; sysRoot?: string } = {}): Promise<CgroupSupport> {
  const procRoot = opts.procRoot ?? '/proc';
  const sysRoot = opts.sysRoot ?? '/';
  const [mountinfo, selfCgroup] = await Promise.all([
    tryReadTextAsync(path.join(procRoot, 'self/mountinfo')),
    tryReadTextAsync(path.join(procRoot, 'self/cgroup')),
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
    if (words(await tryReadTextAsync(path.join(own, 'cgroup.controllers'))).includes('memory')) {
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
