import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { usableCpus } from '../../src/util/usable-cpus.js';
import { tempDir } from '../helpers/temp.js';

/** A fake /proc/self and /sys/fs/cgroup under one folder: `files` maps paths below it to contents. */
function fakeRoots(files: Record<string, string>): { procRoot: string; sysRoot: string } {
  const root = tempDir('hil-cpus-');
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return { procRoot: path.join(root, 'proc'), sysRoot: root };
}

const V1_MOUNTS = [
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
].join('\n');
const V2_MOUNTS = '41 31 0:38 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw,nsdelegate';

describe('usableCpus', () => {
  it('takes the affinity where no group sets a quota', () => {
    const roots = fakeRoots({
      'proc/self/mountinfo': V2_MOUNTS,
      'proc/self/cgroup': '0::/a/b\n',
      'sys/fs/cgroup/a/b/cpu.max': 'max 100000\n',
      'sys/fs/cgroup/a/cpu.max': 'max 100000\n',
    });
    expect(usableCpus({ ...roots, affinity: 8 })).toEqual({ cpus: 8, affinity: 8, quota: null });
  });

  it('caps the affinity by the tightest v2 quota from the group up, rounded up', () => {
    const roots = fakeRoots({
      'proc/self/mountinfo': V2_MOUNTS,
      'proc/self/cgroup': '0::/a/b\n',
      'sys/fs/cgroup/a/b/cpu.max': '400000 100000\n',
      'sys/fs/cgroup/a/cpu.max': '150000 100000\n',
    });
    expect(usableCpus({ ...roots, affinity: 64 })).toEqual({ cpus: 2, affinity: 64, quota: 1.5 });
    // A quota above the affinity changes nothing.
    expect(usableCpus({ ...roots, affinity: 1 }).cpus).toBe(1);
  });

  it('reads v1 quotas from the cpu hierarchy, where -1 is none, and never goes below one CPU', () => {
    const roots = fakeRoots({
      'proc/self/mountinfo': V1_MOUNTS,
      'proc/self/cgroup': '4:memory:/x\n2:cpu,cpuacct:/hil/run-1\n',
      'sys/fs/cgroup/cpu,cpuacct/hil/run-1/cpu.cfs_quota_us': '25000\n',
      'sys/fs/cgroup/cpu,cpuacct/hil/run-1/cpu.cfs_period_us': '100000\n',
      'sys/fs/cgroup/cpu,cpuacct/hil/cpu.cfs_quota_us': '-1\n',
      'sys/fs/cgroup/cpu,cpuacct/hil/cpu.cfs_period_us': '100000\n',
    });
    expect(usableCpus({ ...roots, affinity: 4 })).toEqual({ cpus: 1, affinity: 4, quota: 0.25 });
  });

  it('prefers the v1 cpu hierarchy on a hybrid host, and takes the affinity where cgroups are unreadable', () => {
    const hybrid = fakeRoots({
      'proc/self/mountinfo': `${V1_MOUNTS}\n41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw`,
      'proc/self/cgroup': '2:cpu,cpuacct:/g\n0::/g\n',
      'sys/fs/cgroup/cpu,cpuacct/g/cpu.cfs_quota_us': '300000',
      'sys/fs/cgroup/cpu,cpuacct/g/cpu.cfs_period_us': '100000',
      'sys/fs/cgroup/unified/g/cpu.max': '100000 100000',
    });
    expect(usableCpus({ ...hybrid, affinity: 8 }).quota).toBe(3);
    expect(usableCpus({ procRoot: '/nonexistent', sysRoot: '/nonexistent', affinity: 3 })).toEqual({ cpus: 3, affinity: 3, quota: null });
  });
});
