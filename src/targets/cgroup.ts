/**
 * Runs a command inside a fresh cgroup whose limits the kernel enforces, and reports how it ended (exit,
 * signal, OOM kill) and its peak memory from the group's own counters. The group is always removed, and
 * the command never starts outside it: the limits are written before the process joins, and the process
 * joins before it runs a single instruction of its own.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { access, mkdir, rmdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HilError, targetError } from '../errors.js';
import { tryReadTextAsync } from '../util/read-text.js';
import { detectCgroupSupport, type CgroupSupport } from './cgroup-detect.js';
import {
  counterFiles,
  parseCounters,
  planLimits,
  wasOomKilled,
  type AppliedLimits,
  type CgroupLimits,
  type CgroupVersion,
  type Controller,
} from './cgroup-files.js';

export { detectCgroupSupport, type CgroupSupport } from './cgroup-detect.js';
export type { AppliedLimits, CgroupLimits, CgroupVersion } from './cgroup-files.js';

export interface CgroupRunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  oomKilled: boolean;
  peakMemoryBytes: number | null;
  /**
   * "kernel": the group's own high-water mark; "polled": v2 before 5.19 has no memory.peak, so memory.current
   * was sampled (short spikes can be missed); "unavailable": no peak could be read (remote v2 before 5.19).
   */
  peakSource: 'kernel' | 'polled' | 'unavailable';
  version: CgroupVersion;
  limits: AppliedLimits;
}

export interface CgroupHandle {
  version: CgroupVersion;
  name: string;
  /** The new group's directory per controller (one shared directory on v2). */
  dirs: Partial<Record<Controller, string>>;
  applied: AppliedLimits;
}

const exists = (file: string) => access(file).then(() => true, () => false);
const uniqueDirs = (h: CgroupHandle) => [...new Set(Object.values(h.dirs))];

export function cgroupName(): string {
  return `hil-${process.pid}-${randomBytes(4).toString('hex')}`;
}

const ENABLE_FIX =
  'run hil from a group that holds no processes of its own (e.g. systemd-run --scope -p Delegate=yes -- hil ...), or enable the controller in that cgroup.subtree_control as root';

/** v2 controllers are only usable in a child once the parent lists them in cgroup.subtree_control. */
async function enableV2Controllers(parent: string, wanted: Controller[]): Promise<void> {
  const file = path.join(parent, 'cgroup.subtree_control');
  const enabled = ((await tryReadTextAsync(file)) ?? '').trim().split(/\s+/);
  const missing = wanted.filter((c) => !enabled.includes(c));
  if (missing.length === 0) return;
  try {
    await writeFile(file, missing.map((c) => `+${c}`).join(' '));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EBUSY' ? 'the group holds processes itself (cgroup v2 "no internal processes" rule)' : String(code);
    throw targetError(`cannot enable the ${missing.join(', ')} controller(s) in ${file}: ${why}`, ENABLE_FIX);
  }
}

/**
 * Creates the group and writes every limit. Takes a CgroupSupport (from detectCgroupSupport, possibly
 * pointed at a fake tree for tests); on any failure removes what it made and throws a HilError.
 */
export async function createCgroup(
  support: CgroupSupport,
  limits: CgroupLimits,
  opts: { name?: string; hostCpus?: number } = {},
): Promise<CgroupHandle> {
  if (!support.usable || support.version === null) {
    throw targetError(`cannot run under cgroup limits: ${support.reason ?? 'cgroups are unavailable'}`, support.fix);
  }
  const version = support.version;
  const name = opts.name ?? cgroupName();
  const plan = planLimits(version, limits, opts.hostCpus ?? os.cpus().length);
  const dirs: CgroupHandle['dirs'] = {};
  for (const c of plan.controllers) {
    const parent = support.parents[c];
    if (!parent) {
      throw targetError(
        `the ${c} cgroup controller is not mounted, so the ${c} limit cannot be enforced`,
        `mount it as root (mkdir -p /sys/fs/cgroup/${c} && mount -t cgroup -o ${c} none /sys/fs/cgroup/${c}), or drop that limit`,
      );
    }
    dirs[c] = path.join(parent, name);
  }
  if (version === 2) await enableV2Controllers(support.parents.memory!, plan.controllers);

  const handle: CgroupHandle = { version, name, dirs, applied: { ...plan.applied, swapBytes: null } };
  const created: string[] = [];
  try {
    for (const dir of uniqueDirs(handle)) {
      await mkdir(dir);
      created.push(dir);
    }
    for (const w of plan.writes) {
      const dir = dirs[w.controller]!;
      const file = path.join(dir, w.file);
      if (w.optional && !(await exists(file))) continue;
      const value = typeof w.value === 'string' ? w.value : ((await tryReadTextAsync(path.join(path.dirname(dir), w.file))) ?? '').trim();
      try {
        await writeFile(file, value);
      } catch (err) {
        const hint =
          w.file === 'cpuset.cpus'
            ? `choose CPUs within the allowed set (${((await tryReadTextAsync(path.join(path.dirname(dir), 'cpuset.cpus'))) ?? '?').trim()})`
            : 'check the limit value and that the controller is writable (run as root)';
        throw targetError(`cannot write "${value}" to ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, hint);
      }
      if (w.disablesSwap) handle.applied.swapBytes = 0;
    }
    return handle;
  } catch (err) {
    for (const dir of created.reverse()) await rmdir(dir).catch(() => undefined);
    if (err instanceof HilError) throw err;
    throw targetError(`cannot create cgroup ${name}: ${(err as Error).message}`, 'run hil as root (sudo), or delegate a cgroup v2 subtree to your user');
  }
}

async function groupPids(handle: CgroupHandle): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of uniqueDirs(handle)) {
    for (const w of ((await tryReadTextAsync(path.join(dir, 'cgroup.procs'))) ?? '').split('\n')) if (/^\d+$/.test(w)) pids.add(Number(w));
  }
  return [...pids];
}

/** Kills everything in the group: one write to cgroup.kill where the kernel has it (v2, 5.14+), else SIGKILL each pid. */
export async function killCgroup(handle: CgroupHandle): Promise<void> {
  const killFile = handle.version === 2 ? path.join(handle.dirs.memory!, 'cgroup.kill') : null;
  if (killFile && (await exists(killFile))) {
    await writeFile(killFile, '1').catch(() => undefined);
    return;
  }
  for (const pid of await groupPids(handle)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone between reading cgroup.procs and the kill: that is the outcome we want.
    }
  }
}

/** Kills any stragglers, waits for the group to empty, and removes its directories. */
export async function removeCgroup(handle: CgroupHandle, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await groupPids(handle)).length > 0 && Date.now() < deadline) {
    await killCgroup(handle);
    await sleep(20);
  }
  for (const dir of uniqueDirs(handle)) {
    // A group can report EBUSY for a moment after its last task is reaped.
    for (;;) {
      try {
        await rmdir(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || Date.now() >= deadline) {
          throw targetError(`cannot remove cgroup ${dir}: ${code}`, `remove it by hand once its processes are gone: rmdir ${dir}`);
        }
        await sleep(20);
      }
    }
  }
}

/** The group's peak memory and OOM counters, as the kernel keeps them. */
export async function cgroupCounters(handle: CgroupHandle) {
  const dir = handle.dirs.memory!;
  const files = new Map<string, string>();
  for (const f of counterFiles(handle.version)) {
    const text = await tryReadTextAsync(path.join(dir, f));
    if (text !== undefined) files.set(f, text);
  }
  return parseCounters(handle.version, (f) => files.get(f));
}

/**
 * Joins every group (writing its own pid to each cgroup.procs), checks the command exists, reports "ok"
 * on fd 3 and closes it, then execs the command: the process is inside the limits before it runs any of
 * the command's code, and fd 3 tells us whether that happened.
 */
const JOIN_SCRIPT = `n=$1; shift
while [ "$n" -gt 0 ]; do
  { echo $$ > "$1"; } 2>&3 || { echo "cannot join $1" >&3; exit 125; }
  shift; n=$((n - 1))
done
command -v "$1" >/dev/null 2>&1 || { echo "command not found: $1" >&3; exit 127; }
echo ok >&3
exec 3>&-
exec "$@"`;

/**
 * Spawns a command that joins an existing group before it runs any of its own code, for callers that
 * need the ChildProcess itself (the Sen2Cor adapter measures the process tree and parses its output).
 * A failed join exits 125 before the command starts, so nothing ever runs outside the limits.
 */
export function spawnInCgroup(handle: CgroupHandle, command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const procsFiles = uniqueDirs(handle).map((d) => path.join(d, 'cgroup.procs'));
  const join = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; exec "$@"';
  return spawn('/bin/sh', ['-c', join, 'hil-cgroup', String(procsFiles.length), ...procsFiles, command, ...args], options);
}

export interface RunInCgroupOptions {
  limits: CgroupLimits;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  onStdoutLine?: (line: string) => void;
  onStderr?: (chunk: string) => void;
  /** Aborting kills everything in the group, removes it, and rejects with the signal's reason. */
  signal?: AbortSignal;
  name?: string;
}

/** Spawns `command args` inside a new cgroup with the limits; always removes the group afterwards. */
export async function runInCgroup(command: string, args: string[], opts: RunInCgroupOptions): Promise<CgroupRunResult> {
  opts.signal?.throwIfAborted();
  const handle = await createCgroup(await detectCgroupSupport(), opts.limits, { name: opts.name });
  let result: CgroupRunResult;
  try {
    result = await runInGroup(handle, command, args, opts);
  } catch (err) {
    await removeCgroup(handle).catch(() => undefined);
    throw err;
  }
  await removeCgroup(handle);
  return result;
}

async function runInGroup(handle: CgroupHandle, command: string, args: string[], opts: RunInCgroupOptions): Promise<CgroupRunResult> {
  const procsFiles = uniqueDirs(handle).map((d) => path.join(d, 'cgroup.procs'));
  const child = spawn('/bin/sh', ['-c', JOIN_SCRIPT, 'hil-cgroup', String(procsFiles.length), ...procsFiles, command, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });

  let control = '';
  (child.stdio[3] as Readable).setEncoding('utf8').on('data', (d: string) => (control += d));
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const lines = (pending + d).split('\n');
    pending = lines.pop()!;
    for (const line of lines) opts.onStdoutLine?.(line);
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => opts.onStderr?.(d));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));

  const peakFile = path.join(handle.dirs.memory!, 'memory.peak');
  const poll = handle.version === 2 && !(await exists(peakFile)) ? pollPeak(path.join(handle.dirs.memory!, 'memory.current')) : null;

  const onAbort = () => {
    child.kill('SIGKILL');
    void killCgroup(handle);
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // An abort that landed while the group was being created has no event left to fire.
  if (opts.signal?.aborted) onAbort();
  try {
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, sig) => resolve([code, sig]));
    });
    const counters = await cgroupCounters(handle);
    // Stragglers (children of the command) keep its pipes open; end them so the output can be drained.
    await killCgroup(handle);
    await Promise.race([closed, sleep(5_000)]);
    if (pending) opts.onStdoutLine?.(pending);
    opts.signal?.throwIfAborted();
    if (!control.includes('ok')) {
      const said = control.trim() || `the wrapper shell exited with ${exitCode ?? signal}`;
      if (said.startsWith('command not found')) throw targetError(`${said}`, 'install it on this machine or give its full path');
      throw targetError(`could not start ${command} inside cgroup ${handle.name}: ${said}`, 'run hil as root (sudo) so it can move processes into cgroups');
    }
    const peak = poll ? poll.stop() : counters.peakMemoryBytes;
    return {
      exitCode,
      signal,
      oomKilled: wasOomKilled(exitCode, signal, counters),
      peakMemoryBytes: peak,
      peakSource: poll ? 'polled' : 'kernel',
      version: handle.version,
      limits: handle.applied,
    };
  } finally {
    poll?.stop();
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** Samples memory.current where the kernel keeps no peak; misses spikes shorter than the interval. */
function pollPeak(file: string, intervalMs = 50): { stop: () => number | null } {
  let peak: number | null = null;
  const sample = () =>
    void tryReadTextAsync(file).then((t) => {
      const v = t && /^\d+$/.test(t.trim()) ? Number(t.trim()) : null;
      if (v !== null && (peak === null || v > peak)) peak = v;
    });
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}
