/**
 * Runs real processes under real cgroups. Needs root and a writable cgroup hierarchy; elsewhere these
 * tests skip with the reason printed, unless HIL_REQUIRE_SHARED=1 (CI), where skipping is a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { buildRemoteCgroupScripts } from '../../src/targets/cgroup-remote.js';
import { cgroupName, detectCgroupSupport, runInCgroup, type CgroupSupport } from '../../src/targets/cgroup.js';
import { PACKAGE_ROOT } from '../../src/util/package-root.js';

const MiB = 1024 * 1024;
const support: CgroupSupport = await detectCgroupSupport();
const root = process.getuid?.() === 0;

function haveCgroups(): boolean {
  if (support.usable && root) return true;
  const why = !root ? 'not running as root' : `${support.reason} (${support.fix})`;
  if (process.env.HIL_REQUIRE_SHARED === '1') throw new Error(`HIL_REQUIRE_SHARED=1 but real cgroups are unusable: ${why}`);
  console.warn(`skipping real cgroup tests: ${why}`);
  return false;
}

/** Every directory a group of this name could occupy must be gone. */
function expectGone(name: string) {
  for (const parent of new Set(Object.values(support.parents))) {
    expect(existsSync(`${parent}/${name}`), `${parent}/${name}`).toBe(false);
  }
}

/** Touches every page, so the memory is really charged to the group. */
const alloc = (mb: number) =>
  `const a=[];for(let i=0;i<${mb};i++)a.push(Buffer.alloc(1048576,1));console.log(JSON.stringify({ok:${mb}}))`;

describe.runIf(haveCgroups())('runInCgroup with real cgroups', () => {
  it('kills a process that allocates far past the limit and reports the OOM kill', async () => {
    const name = cgroupName();
    const r = await runInCgroup(process.execPath, ['-e', alloc(400)], { limits: { memoryBytes: 128 * MiB }, name });
    expect(r).toMatchObject({ exitCode: null, signal: 'SIGKILL', oomKilled: true, version: support.version });
    expect(r.limits).toMatchObject({ memoryBytes: 128 * MiB });
    expect(r.peakMemoryBytes).toBeGreaterThan(100 * MiB);
    expect(r.peakMemoryBytes).toBeLessThanOrEqual(128 * MiB);
    expectGone(name);
  });

  it('lets a process that fits finish, streaming its stdout lines', async () => {
    const name = cgroupName();
    const lines: string[] = [];
    const r = await runInCgroup(process.execPath, ['-e', alloc(30)], {
      limits: { memoryBytes: 128 * MiB }, name, onStdoutLine: (l) => lines.push(l),
    });
    expect(r).toMatchObject({ exitCode: 0, signal: null, oomKilled: false });
    expect(lines).toEqual(['{"ok":30}']);
    expect(r.peakMemoryBytes).toBeGreaterThan(30 * MiB);
    expect(r.peakMemoryBytes).toBeLessThan(110 * MiB);
    expectGone(name);
  });

  it('holds a busy loop to about half a CPU under cpus=0.5', async () => {
    const busy = 'const t=Date.now();while(Date.now()-t<1000){}const u=process.cpuUsage();console.log((u.user+u.system)/1000)';
    const out: string[] = [];
    const r = await runInCgroup(process.execPath, ['-e', busy], { limits: { cpus: 0.5 }, onStdoutLine: (l) => out.push(l) });
    expect(r.exitCode).toBe(0);
    expect(r.limits.cpuQuota).toBe(0.5);
    const cpuMs = Number(out[0]);
    // Unthrottled this would be ~1000 ms of CPU in 1000 ms of wall time.
    expect(cpuMs).toBeGreaterThan(250);
    expect(cpuMs).toBeLessThan(750);
  });

  it('pins the process to the cpuset', async () => {
    const out: string[] = [];
    const r = await runInCgroup('/bin/sh', ['-c', 'grep Cpus_allowed_list /proc/self/status'], {
      limits: { cpuset: '0' }, onStdoutLine: (l) => out.push(l),
    });
    expect(r.exitCode).toBe(0);
    expect(out[0]).toMatch(/Cpus_allowed_list:\s+0$/);
  });

  it('counts the CPUs a quota or a cpuset leaves the process, as the runtimes are given them', async () => {
    const probe = `import(${JSON.stringify(pathToFileURL(path.join(PACKAGE_ROOT, 'dist/util/usable-cpus.js')).href)}).then((m) => console.log(JSON.stringify(m.usableCpus())))`;
    const under = async (limits: { cpus?: number; cpuset?: string }) => {
      const out: string[] = [];
      const r = await runInCgroup(process.execPath, ['-e', probe], { limits, onStdoutLine: (l) => out.push(l) });
      expect(r.exitCode).toBe(0);
      return JSON.parse(out[0]) as { cpus: number; affinity: number; quota: number | null };
    };
    expect(await under({ cpus: 1 })).toEqual({ cpus: 1, affinity: os.availableParallelism(), quota: 1 });
    expect(await under({ cpus: 0.5 })).toMatchObject({ cpus: 1, quota: 0.5 });
    expect(await under({ cpuset: '0' })).toMatchObject({ cpus: 1, affinity: 1 });
  });

  it('caps a CPU quota above the host cores and reports it', async () => {
    const r = await runInCgroup('/bin/true', [], { limits: { cpus: 1000 } });
    expect(r.limits.cpusCapped).toEqual({ requested: 1000, host: expect.any(Number) });
    expect(r.limits.cpuQuota).toBe(r.limits.cpusCapped?.host);
  });

  it('kills the whole group and removes it when aborted', async () => {
    const name = cgroupName();
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stop')), 300);
    const started = Date.now();
    await expect(runInCgroup('/bin/sh', ['-c', 'sleep 30 & sleep 30'], { limits: { memoryBytes: 64 * MiB }, name, signal: ac.signal })).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(5000);
    expectGone(name);
  });

  it('kills stragglers that outlive the command and still removes the group', async () => {
    const name = cgroupName();
    const started = Date.now();
    const r = await runInCgroup('/bin/sh', ['-c', 'sleep 30 & echo started'], { limits: {}, name });
    expect(r.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expectGone(name);
  });

  it('refuses a command that does not exist, and leaves no group behind', async () => {
    const name = cgroupName();
    const err = await runInCgroup('hil-no-such-command', [], { limits: { memoryBytes: 64 * MiB }, name }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HilError);
    expect((err as HilError).message).toMatch(/command not found: hil-no-such-command/);
    expectGone(name);
  });

  it('refuses a cpuset outside the allowed CPUs instead of running unlimited', async () => {
    const name = cgroupName();
    const err = await runInCgroup('/bin/true', [], { limits: { cpuset: '999' }, name }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HilError);
    expect((err as HilError).oneLine()).toMatch(/cpuset\.cpus.* — choose CPUs within the allowed set \(\d/);
    expectGone(name);
  });
});

describe.runIf(haveCgroups())('remote cgroup scripts, run locally with /bin/sh', () => {
  const sh = (script: string) => spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
  const stateFile = (name: string) => `${process.env.TMPDIR ?? '/tmp'}/${name}.cgroup`;

  it('OOM: the setup enforces the limit, the cleanup reads the kill and removes the group', () => {
    const s = buildRemoteCgroupScripts({ limits: { memoryBytes: 128 * MiB, cpus: 1 }, hostCpus: 2 });
    const run = sh(s.wrap(process.execPath, ['-e', alloc(400)]));
    expect(run.status).toBe(137);
    const clean = sh(s.cleanup);
    expect(clean.status, clean.stderr).toBe(0);
    const r = s.result(run.status, run.signal as NodeJS.Signals | null, clean.stdout);
    expect(r).toMatchObject({ oomKilled: true, version: support.version, limits: { memoryBytes: 128 * MiB, cpuQuota: 1 } });
    expect(r.peakMemoryBytes).toBeGreaterThan(100 * MiB);
    expectGone(s.name);
    expect(existsSync(stateFile(s.name))).toBe(false);
  });

  it('a run that fits: exit 0, plausible peak, output passes through', () => {
    const s = buildRemoteCgroupScripts({ limits: { memoryBytes: 128 * MiB }, hostCpus: 2 });
    const run = sh(s.wrap(process.execPath, ['-e', alloc(30)]));
    expect(run.stdout).toBe('{"ok":30}\n');
    const r = s.result(run.status, null, sh(s.cleanup).stdout);
    expect(r).toMatchObject({ exitCode: 0, oomKilled: false });
    expect(r.peakMemoryBytes).toBeGreaterThan(30 * MiB);
    expectGone(s.name);
  });

  it('a setup that cannot apply a limit fails before the command runs, and cleans up', () => {
    const s = buildRemoteCgroupScripts({ limits: { cpuset: '999' }, hostCpus: 2 });
    const run = sh(s.wrap('/bin/echo', ['should not run']));
    expect(run.stdout).toBe('');
    expect(s.setupError(run.status, run.stderr)?.message).toMatch(/cannot write 999 to .*cpuset\.cpus/);
    expectGone(s.name);
    expect(readdirSync(process.env.TMPDIR ?? '/tmp').includes(`${s.name}.cgroup`)).toBe(false);
  });
});
