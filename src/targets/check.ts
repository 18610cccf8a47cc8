import { errorMessage } from '../errors.js';
import { formatBytes } from '../report/format.js';
import { TILE_SIZE_PX, type Resolution } from '../raster/bands.js';
import type { TargetProfile } from './profile.js';

type DeviceProfile = TargetProfile['devices'][number];
import { probeTarget } from './probe.js';
import { openTargetSession } from './session.js';
import type { TargetSession } from './transport.js';

export interface CheckRow {
  check: string;
  ok: boolean;
  detail: string;
}

const MIN_NODE_MAJOR = 20;

/** Disk a run at `res` needs for its outputs: 12 uint16 AC bands and 1 uint8 SC band, uncompressed (the worst case). */
export function outputBytesAt(res: Resolution): number {
  return TILE_SIZE_PX[res] ** 2 * (12 * 2 + 1);
}

/**
 * Everything a run needs from a target, checked through the same transport and runner a run uses:
 * reachability, auth and host key (SSH), limits (cgroup), the runner itself on the target, Node and
 * onnxruntime there, the profile's devices, memory and free disk.
 */
export async function checkTarget(target: TargetProfile, cacheDir: string, res: Resolution = 10): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  const transport = target.transport.kind === 'ssh' ? `ssh ${target.transport.user ? `${target.transport.user}@` : ''}${target.transport.host}` : 'local';
  let session;
  try {
    session = await openTargetSession(target, { cacheDir });
    rows.push({ check: 'connect', ok: true, detail: target.transport.kind === 'ssh' ? `${transport}: reachable, authenticated, host key pinned` : 'this machine' });
  } catch (err) {
    rows.push({ check: 'connect', ok: false, detail: errorMessage(err) });
    return rows;
  }
  try {
    rows.push(...(await checkSession(target, session, res)));
  } finally {
    await session.close();
  }
  return rows;
}

/** The checks that need an open session; `hil run` makes them on its own session before measuring. */
export async function checkSession(
  target: TargetProfile,
  session: TargetSession,
  res: Resolution,
  devices: readonly string[] = target.devices.map((d) => d.name),
): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  let host: Record<string, unknown>;
  try {
    host = await probeTarget(session, target.name);
  } catch (err) {
    rows.push({ check: 'runner', ok: false, detail: errorMessage(err) });
    return rows;
  }
  rows.push({ check: 'runner', ok: true, detail: `${session.kind === 'ssh' ? 'deployed and ran' : 'ran'}${target.limits ? ' inside the cgroup limits' : ''}` });
  if (target.limits) {
    rows.push({ check: 'limits', ok: true, detail: `memory ${target.limits.memoryBytes ? formatBytes(target.limits.memoryBytes) : '-'}, cpus ${target.limits.cpus ?? '-'} (kernel-enforced cgroup)` });
  }
  rows.push({ check: 'platform', ok: true, detail: `${host.os} ${host.arch}, kernel ${host.kernel}` });
  const quota = typeof host.cpuQuota === 'number' ? ` (CPU quota ${host.cpuQuota})` : '';
  rows.push({ check: 'cpu', ok: true, detail: `${host.cpuModel}, ${host.cores} cores; models run on ${host.usableCpus} thread${host.usableCpus === 1 ? '' : 's'}${quota}` });
  const mem = Number(host.memTotalBytes);
  rows.push({
    check: 'memory',
    ok: true,
    detail: `${formatBytes(mem)} total${target.memoryBytes && mem < target.memoryBytes * 0.9 ? ` (profile says ${formatBytes(target.memoryBytes)})` : ''}`,
  });
  const node = String(host.node);
  const major = Number(/^v(\d+)/.exec(node)?.[1]);
  rows.push({ check: 'node', ok: major >= MIN_NODE_MAJOR, detail: major >= MIN_NODE_MAJOR ? node : `${node}: hil needs Node ≥ ${MIN_NODE_MAJOR}` });
  rows.push({ check: 'onnxruntime', ok: typeof host.onnxruntime === 'string', detail: typeof host.onnxruntime === 'string' ? host.onnxruntime : 'onnxruntime-node does not load on the target' });
  for (const name of devices) rows.push(deviceRow(target.devices.find((d) => d.name === name) ?? { name, backend: 'onnxruntime' }, host));
  const free = Number(host.freeDiskBytes);
  const need = outputBytesAt(res);
  rows.push({ check: 'disk', ok: free >= need, detail: `${formatBytes(free)} free in the home folder${free < need ? ` (a ${res} m run may need ${formatBytes(need)})` : ''}` });
  return rows;
}

function deviceRow(device: DeviceProfile, host: Record<string, unknown>): CheckRow {
  const name = device.name;
  if (device.backend === 'exec') {
    // The tool owns the device (a VPU behind OpenVINO 2022.3's benchmark_app, say); a tool that cannot
    // reach it fails the run with its own error, and nothing is measured.
    const seen = name === 'MYRIAD' ? `; Movidius USB devices visible: ${Number(host.myriadDevices)}` : '';
    return { check: `device ${name}`, ok: Boolean(device.exec), detail: device.exec ? `served by ${device.exec.command[0]}${seen}` : 'the profile gives no exec command for it' };
  }
  const gpus = Array.isArray(host.gpus) ? (host.gpus as string[]) : [];
  if (name === 'CPU') return { check: 'device CPU', ok: true, detail: 'always present' };
  if (name === 'GPU') {
    const nvidia = gpus.filter((g) => /nvidia/i.test(g));
    return { check: 'device GPU', ok: nvidia.length > 0, detail: nvidia.length ? nvidia.join(', ') : `no NVIDIA GPU visible (${gpus.join(', ') || 'no display controllers'})` };
  }
  if (name === 'MYRIAD') {
    const n = Number(host.myriadDevices);
    return { check: 'device MYRIAD', ok: n > 0, detail: n > 0 ? `${n} Movidius USB device(s)` : 'no Movidius (USB vendor 03e7) device visible' };
  }
  return { check: `device ${name}`, ok: false, detail: 'hil does not know how to detect this device' };
}

export function checkFailed(rows: readonly CheckRow[]): boolean {
  return rows.some((r) => !r.ok);
}

