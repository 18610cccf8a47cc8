import type { RunnerEvent } from '../runner/events.js';
import type { Environment } from '../results/schema.js';

/** What a transport reports about one runner process, beyond the runner's own events. */
export interface RunnerExit {
  exitCode: number | null;
  signal: string | null;
  /** The kernel killed the runner for memory (cgroup OOM counter), which the runner itself cannot report. */
  oomKilled: boolean;
  /** The cgroup's peak memory, where the run was in one. */
  cgroupPeakBytes: number | null;
  /** The last lines the runner wrote on stderr, for error messages. */
  stderrTail: string;
  /** Limits that were in force, as the record should state them. */
  limits?: { memoryBytes?: number; cpus?: number; cpuset?: string; note?: string };
  /** What a remote deploy sent and reused (content-addressed cache on the target). */
  deploy?: { sentFiles: number; sentBytes: number; reusedFiles: number; bundleId: string };
}

/** A connection to a target, able to run the runner on a job. */
export interface TargetSession {
  readonly kind: 'local' | 'ssh';
  /** Runs the runner with its arguments: a job file, or `--floor <job>`, or `--probe`. */
  runRunner(args: string[], onEvent: (ev: RunnerEvent) => void, signal?: AbortSignal): Promise<RunnerExit>;
  /** The machine the runner runs on, as result records must state it. */
  environment(): Promise<Environment>;
  close(): Promise<void>;
}
