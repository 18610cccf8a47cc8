import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { detectCgroupSupport } from '../../src/targets/cgroup-detect.js';
import { createCgroup } from '../../src/targets/cgroup.js';
import { tempDir } from '../helpers/temp.js';

const MiB = 1024 * 1024;
const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
});

/** A fake /proc/self and cgroup tree: `tree` maps paths below the fake root to file contents. */
function fake(mountinfo: string[], selfCgroup: string, tree: Record<string, string>) {
  const root = tempDir('hil-cgfake-');
  temps.push(root);
  const procRoot = path.join(root, 'proc');
  mkdirSync(path.join(procRoot, 'self'), { recursive: true });
  writeFileSync(path.join(procRoot, 'self/mountinfo'), mountinfo.join('\n') + '\n');
  writeFileSync(path.join(procRoot, 'self/cgroup'), selfCgroup);
  for (const [file, text] of Object.entries(tree)) {
    mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return { root, procRoot, sysRoot: root };
}

const V2_MOUNT = '30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';
const SCOPE = 'sys/fs/cgroup/user.slice/session-1.scope';

describe('detectCgroupSupport on fake trees', () => {
  it('v2, own group holds processes and enables nothing: new groups go beside it (no internal processes)', async () => {
    const f = fake([V2_MOUNT], '0::/user.slice/session-1.scope\n', {
      [`${SCOPE}/cgroup.controllers`]: 'cpuset cpu io memory pids\n',
      [`${SCOPE}/cgroup.subtree_control`]: '\n',
      [`${SCOPE}/cgroup.procs`]: '1234\n',
      'sys/fs/cgroup/user.slice/cgroup.subtree_control': 'memory pids\n',
    });
    const s = await detectCgroupSupport(f);
    const parent = path.join(f.root, 'sys/fs/cgroup/user.slice');
    expect(s).toEqual({ version: 2, usable: true, parents: { memory: parent, cpu: parent, cpuset: parent } });

    const h = await createCgroup(s, { memoryBytes: 96 * MiB, cpus: 8, cpuset: '0' }, { name: 'hil-test', hostCpus: 4 });
    const dir = path.join(parent, 'hil-test');
    expect(h.dirs).toEqual({ memory: dir, cpu: dir, cpuset: dir });
    // Only the controllers the parent lacked are switched on.
    expect(readFileSync(path.join(parent, 'cgroup.subtree_control'), 'utf8')).toBe('+cpuset +cpu');
    expect(readFileSync(path.join(dir, 'memory.max'), 'utf8')).toBe(String(96 * MiB));
    expect(readFileSync(path.join(dir, 'cpu.max'), 'utf8')).toBe('400000 100000');
    expect(readFileSync(path.join(dir, 'cpuset.cpus'), 'utf8')).toBe('0');
    // The kernel offers memory.swap.max only with swap accounting; this tree has none, and the record says so.
    expect(existsSync(path.join(dir, 'memory.swap.max'))).toBe(false);
    expect(h.applied).toEqual({ memoryBytes: 96 * MiB, cpuQuota: 4, cpusCapped: { requested: 8, host: 4 }, cpuset: '0', swapBytes: null });
  });

  it('v2, own group already delegates controllers: new groups nest inside it', async () => {
    const f = fake([V2_MOUNT], '0::/hil.slice\n', {
      'sys/fs/cgroup/hil.slice/cgroup.controllers': 'cpu memory\n',
      'sys/fs/cgroup/hil.slice/cgroup.subtree_control': 'cpu memory\n',
    });
    const s = await detectCgroupSupport(f);
    expect(s.parents.memory).toBe(path.join(f.root, 'sys/fs/cgroup/hil.slice'));
  });

  it('hybrid host: a v2 mount without the memory controller means v1', async () => {
    const f = fake(
      [
        '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
        '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
        '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
      ],
      '4:memory:/job\n1:cpu:/\n0::/\n',
      { 'sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb\n', 'sys/fs/cgroup/memory/job/tasks': '', 'sys/fs/cgroup/cpu/tasks': '' },
    );
    const s = await detectCgroupSupport(f);
    expect(s).toEqual({
      version: 1,
      usable: true,
      parents: { memory: path.join(f.root, 'sys/fs/cgroup/memory/job'), cpu: path.join(f.root, 'sys/fs/cgroup/cpu') },
    });
    // A limit whose controller is not mounted is refused, never silently dropped.
    await expect(createCgroup(s, { cpuset: '0' })).rejects.toThrow(/cpuset cgroup controller is not mounted/);
  });

  it('no cgroup filesystem, or no memory controller: unusable, with a reason and a fix', async () => {
    const none = await detectCgroupSupport(fake(['50 23 0:40 / /proc rw - proc proc rw'], '', {}));
    expect(none).toMatchObject({ version: null, usable: false, reason: expect.stringMatching(/no cgroup filesystem/), fix: expect.stringMatching(/mount/) });
    const noMem = await detectCgroupSupport(fake(['32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu'], '1:cpu:/\n', {}));
    expect(noMem).toMatchObject({ version: 1, usable: false, reason: expect.stringMatching(/memory cgroup controller/) });
    const err = await createCgroup(noMem, { memoryBytes: 64 * MiB }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HilError);
    expect((err as HilError).oneLine()).toMatch(/cannot run under cgroup limits: .*memory.* — mount it/);
  });

  it('no /proc at all (not Linux): unusable', async () => {
    const s = await detectCgroupSupport({ procRoot: '/nonexistent-proc' });
    expect(s).toMatchObject({ version: null, usable: false });
  });
});
