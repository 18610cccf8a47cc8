import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import si from 'systeminformation';
import { onnxruntimeVersion } from '../backends/onnxruntime.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import type { Environment } from './schema.js';

export function hilVersion(): string {
  return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

export function gitSha(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

/** The environment of the machine that ran the runner (for local targets, this one). */
export async function localEnvironment(): Promise<Environment> {
  const [cpu, mem, osInfo] = await Promise.all([si.cpu(), si.mem(), si.osInfo()]);
  return {
    cpuModel: `${cpu.manufacturer} ${cpu.brand}`.trim(),
    cores: os.availableParallelism(),
    memTotalBytes: mem.total,
    os: `${osInfo.distro} ${osInfo.release}`.trim(),
    kernel: osInfo.kernel,
    arch: process.arch,
    node: process.version,
    onnxruntime: (await onnxruntimeVersion()) ?? null,
    hil: hilVersion(),
    gitSha: gitSha(),
  };
}
