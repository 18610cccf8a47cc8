import { parseEvent, type RunnerEvent } from '../runner/events.js';
import { detectCgroupSupport, runInCgroup, type CgroupLimits } from './cgroup.js';
import { RUNNER_ENTRY, tailKeeper } from './local.js';
import { RUNNER_ENV, RUNNER_NODE_ARGS } from './runner-env.js';
import type { RunnerExit, TargetSession } from './transport.js';
import { targetError } from '../errors.js';
import { localEnvironment } from '../results/environment.js';

/**
 * Runs the runner on this machine inside a fresh cgroup per run, so an emulated board's memory and CPU
 * limits are enforced by the kernel. Refuses to start where cgroups cannot be used: an "emulated" run
 * without its limit would measure the wrong machine.
 */
export async function cgroupSession(limits: CgroupLimits): Promise<TargetSession> {
  const support = await detectCgroupSupport();
  if (!support.usable) {
    throw targetError(`cannot emulate the target's limits: ${support.reason ?? 'cgroups are not usable here'}`, support.fix ?? 'run as root on a Linux host with cgroups');
  }
  return {
    kind: 'local',
    async runRunner(args: string[], onEvent: (ev: RunnerEvent) => void, signal?: AbortSignal): Promise<RunnerExit> {
      const stderr = tailKeeper();
      try {
        const r = await runInCgroup(process.execPath, [...RUNNER_NODE_ARGS, RUNNER_ENTRY, ...args], {
          limits,
          signal,
          env: { ...process.env, ...RUNNER_ENV },
          onStdoutLine: (line) => {
            const ev = parseEvent(line);
            if (ev) onEvent(ev);
          },
          onStderr: (chunk) => stderr.push(chunk),
        });
        const capped = r.limits.cpusCapped;
        return {
          exitCode: r.exitCode,
          signal: r.signal,
          oomKilled: r.oomKilled,
          cgroupPeakBytes: r.peakMemoryBytes,
          stderrTail: stderr.get(),
          limits: {
            memoryBytes: r.limits.memoryBytes,
            cpus: r.limits.cpuQuota,
            cpuset: r.limits.cpuset,
            note: [
              `cgroup v${r.version}`,
              r.limits.swapBytes === 0 ? 'swap off' : 'swap not controllable',
              capped ? `CPU quota capped at the host's ${capped.host} cores (profile asks for ${capped.requested})` : undefined,
              r.peakSource !== 'kernel' ? `peak ${r.peakSource}` : undefined,
            ]
              .filter(Boolean)
              .join('; '),
          },
        };
      } catch (err) {
        if (signal?.aborted) return { exitCode: null, signal: 'SIGKILL', oomKilled: false, cgroupPeakBytes: null, stderrTail: stderr.get() };
        throw err;
      }
    },
    environment: localEnvironment,
    close: async () => undefined,
  };
}
