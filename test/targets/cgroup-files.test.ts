import { describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { cpuQuota, parseCounters, planLimits, wasOomKilled } from '../../src/targets/cgroup-files.js';
import { groupDir, parseMountinfo, parseProcCgroup } from '../../src/util/cgroup-paths.js';
import { buildRemoteCgroupScripts, parseReadout, shellQuote } from '../../src/targets/cgroup-remote.js';

const MiB = 1024 * 1024;
const files = (m: Record<string, string>) => (f: string) => m[f];

describe('planLimits', () => {
  it('v2: memory.max, swap off, cpu.max "quota period", cpuset.cpus', () => {
    const plan = planLimits(2, { memoryBytes: 128 * MiB, cpus: 1.5, cpuset: '0-1' }, 8);
    expect(plan.controllers).toEqual(['memory', 'cpuset', 'cpu']);
    expect(plan.writes.map((w) => [w.file, w.value, w.optional])).toEqual([
      ['cpuset.cpus', '0-1', false],
      ['memory.max', String(128 * MiB), false],
      ['memory.swap.max', '0', true],
      ['cpu.max', '150000 100000', false],
    ]);
    expect(plan.applied).toEqual({ memoryBytes: 128 * MiB, cpuQuota: 1.5, cpuset: '0-1' });
  });

  it('v1: limit before memsw, period before quota, cpuset.mems copied from the parent', () => {
    const plan = planLimits(1, { memoryBytes: 64 * MiB, cpus: 4, cpuset: '1' }, 8);
    expect(plan.writes.map((w) => `${w.controller}/${w.file}=${typeof w.value === 'string' ? w.value : 'parent'}`)).toEqual([
      'cpuset/cpuset.cpus=1',
      'cpuset/cpuset.mems=parent',
      `memory/memory.limit_in_bytes=${64 * MiB}`,
      `memory/memory.memsw.limit_in_bytes=${64 * MiB}`,
      'cpu/cpu.cfs_period_us=100000',
      'cpu/cpu.cfs_quota_us=400000',
    ]);
    expect(plan.writes.find((w) => w.file === 'memory.memsw.limit_in_bytes')).toMatchObject({ optional: true, disablesSwap: true });
  });

  it('without limits still uses the memory controller, for the peak and the OOM counter', () => {
    expect(planLimits(1, {}, 2)).toEqual({ controllers: ['memory'], writes: [], applied: {} });
  });

  it('caps a CPU quota above the host cores and says so', () => {
    expect(cpuQuota(6, 4)).toEqual({ quotaUs: 400000, cpus: 4, capped: { requested: 6, host: 4 } });
    expect(cpuQuota(0.001, 4).quotaUs).toBe(1000);
    expect(planLimits(2, { cpus: 6 }, 4).applied).toEqual({ cpuQuota: 4, cpusCapped: { requested: 6, host: 4 } });
  });

  it('rejects nonsense limits with a HilError naming the fix', () => {
    for (const bad of [{ memoryBytes: 1000 }, { cpus: 0 }, { cpuset: 'all' }, { memoryBytes: 1.5 * MiB * 10.1 }]) {
      expect(() => planLimits(2, bad, 2)).toThrow(HilError);
    }
    expect(() => planLimits(2, { cpuset: 'x' }, 2)).toThrow(/cpuset/);
  });
});

describe('parseCounters and wasOomKilled', () => {
  it('v2: memory.peak and the oom_kill line of memory.events', () => {
    const c = parseCounters(2, files({ 'memory.peak': '134213632\n', 'memory.events': 'low 0\nhigh 0\nmax 412\noom 3\noom_kill 1\noom_group_kill 0\n' }));
    expect(c).toEqual({ peakMemoryBytes: 134213632, oomKills: 1, limitHits: null, underOom: false });
    expect(wasOomKilled(null, 'SIGKILL', c)).toBe(true);
    expect(wasOomKilled(137, null, c)).toBe(true);
    expect(wasOomKilled(1, null, c)).toBe(false);
  });

  it('v2 before 5.19: no memory.peak gives a null peak', () => {
    expect(parseCounters(2, files({ 'memory.events': 'oom_kill 0\n' })).peakMemoryBytes).toBeNull();
  });

  it('a SIGKILL without OOM kills in the group is not an OOM', () => {
    const c = parseCounters(2, files({ 'memory.peak': '1', 'memory.events': 'oom 0\noom_kill 0\n' }));
    expect(wasOomKilled(null, 'SIGKILL', c)).toBe(false);
  });

  it('v1: max_usage_in_bytes, oom_control with oom_kill, failcnt', () => {
    const c = parseCounters(1, files({
      'memory.max_usage_in_bytes': '134217728\n',
      'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
      'memory.failcnt': '17\n',
    }));
    expect(c).toEqual({ peakMemoryBytes: 134217728, oomKills: 2, limitHits: 17, underOom: false });
    expect(wasOomKilled(null, 'SIGKILL', c)).toBe(true);
  });

  it('v1 before 4.13 (no oom_kill line): a SIGKILL after hitting the limit counts as OOM', () => {
    const hit = parseCounters(1, files({ 'memory.max_usage_in_bytes': '5', 'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\n', 'memory.failcnt': '3' }));
    expect(hit.oomKills).toBeNull();
    expect(wasOomKilled(null, 'SIGKILL', hit)).toBe(true);
    const clean = parseCounters(1, files({ 'memory.max_usage_in_bytes': '5', 'memory.oom_control': 'under_oom 0\n', 'memory.failcnt': '0' }));
    expect(wasOomKilled(null, 'SIGKILL', clean)).toBe(false);
  });
});

describe('mountinfo and /proc/self/cgroup', () => {
  const mountinfo = [
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct',
    '35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '41 31 0:38 / /sys/fs/cgroup/uni\\040fied rw,relatime - cgroup2 cgroup2 rw,nsdelegate',
    '50 23 0:40 / /proc rw - proc proc rw',
  ].join('\n');

  it('finds v1 hierarchies with their controllers and the v2 mount, unescaping paths', () => {
    const mounts = parseMountinfo(mountinfo);
    expect(mounts).toEqual([
      { fstype: 'cgroup', root: '/', mountPoint: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] },
      { fstype: 'cgroup', root: '/docker/abc', mountPoint: '/sys/fs/cgroup/memory', controllers: ['memory'] },
      { fstype: 'cgroup2', root: '/', mountPoint: '/sys/fs/cgroup/uni fied', controllers: [] },
    ]);
    // A container sees its own group mounted as the hierarchy root.
    expect(groupDir(mounts[1], '/docker/abc/sub')).toBe('/sys/fs/cgroup/memory/sub');
    expect(groupDir(mounts[0], '/a/b', '/tmp/fake')).toBe('/tmp/fake/sys/fs/cgroup/cpu,cpuacct/a/b');
  });

  it('maps each controller, and "" for v2, to our path', () => {
    const paths = parseProcCgroup('4:memory:/process_api/x\n2:cpu,cpuacct:/\n0::/user.slice/s:1.scope\n');
    expect(paths.get('memory')).toBe('/process_api/x');
    expect(paths.get('cpuacct')).toBe('/');
    expect(paths.get('')).toBe('/user.slice/s:1.scope');
  });
});

describe('remote scripts', () => {
  it('quotes words for sh', () => {
    expect(shellQuote('node')).toBe('node');
    expect(shellQuote("it's a b")).toBe(`'it'\\''s a b'`);
  });

  it('carries the same writes as the local plan for both versions', () => {
    const s = buildRemoteCgroupScripts({ limits: { memoryBytes: 64 * MiB, cpus: 3 }, hostCpus: 2, name: 'hil-1-abc' });
    expect(s.prefix).toContain(`w memory memory.limit_in_bytes ${64 * MiB} 0 0`);
    expect(s.prefix).toContain(`w memory memory.memsw.limit_in_bytes ${64 * MiB} 1 1`);
    expect(s.prefix).toContain(`w memory memory.max ${64 * MiB} 0 0`);
    expect(s.prefix).toMatch(/w cpu cpu\.max \S*200000 100000\S* 0 0/);
    expect(s.wrap('node', ['a b'])).toMatch(/ hil-cgroup node 'a b'$/);
  });

  it('reads the cleanup output back into a run result', () => {
    const s = buildRemoteCgroupScripts({ limits: { memoryBytes: 64 * MiB }, hostCpus: 2 });
    const out = '@hil-cgroup version 2\n@hil-cgroup-file memory.peak\n67108864\n@hil-cgroup-file memory.events\noom 1\noom_kill 1\n@hil-cgroup-end\n';
    expect(parseReadout(out).files.get('memory.events')).toBe('oom 1\noom_kill 1\n');
    expect(s.result(137, null, out)).toEqual({
      exitCode: 137, signal: null, oomKilled: true, peakMemoryBytes: 64 * MiB, peakSource: 'kernel', version: 2,
      limits: { memoryBytes: 64 * MiB, swapBytes: null },
    });
    expect(() => parseReadout('garbage')).toThrow(HilError);
    expect(s.setupError(125, 'hil-cgroup: cannot create cgroup /x\n')?.message).toMatch(/cannot create cgroup \/x/);
    expect(s.setupError(125, 'the command itself said 125\n')).toBeNull();
  });
});
