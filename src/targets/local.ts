import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseEvent, type RunnerEvent } from '../runner/events.js';
import { localEnvironment } from '../results/environment.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { RUNNER_ENV, RUNNER_NODE_ARGS } from './runner-env.js';
import type { RunnerExit, TargetSession } from './transport.js';

export const RUNNER_ENTRY = path.join(PACKAGE_ROOT, 'dist', 'runner', 'main.js');

/** Keeps the last few KB of a stream, for error messages. */
export function tailKeeper(limit = 4096) {
  let tail = '';
  return {
    push(chunk: string) {
      tail = (tail + chunk).slice(-limit);
    },
    get: () => tail.trim(),
  };
}

/** Runs the runner as a plain child process of the coordinator. */
export function localSession(): TargetSession {
  return {
    kind: 'local',
    runRunner(args: string[], onEvent: (ev: RunnerEvent) => void, signal?: AbortSignal): Promise<RunnerExit> {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [...RUNNER_NODE_ARGS, RUNNER_ENTRY, ...args], { stdio: ['ignore', 'pipe', 'pipe'], signal, env: { ...process.env, ...RUNNER_ENV } });
        const stderr = tailKeeper();
        child.stderr.setEncoding('utf8').on('data', (c: string) => stderr.push(c));
        createInterface({ input: child.stdout }).on('line', (line) => {
          const ev = parseEvent(line);
          if (ev) onEvent(ev);
        });
        child.on('error', (err) => {
          if ((err as NodeJS.ErrnoException).code === 'ABORT_ERR') return;
          reject(err);
        });
        child.on('close', (exitCode, sig) =>
          resolve({ exitCode, signal: sig, oomKilled: false, cgroupPeakBytes: null, stderrTail: stderr.get() }),
        );
      });
    },
    environment: localEnvironment,
    close: async () => undefined,
  };
}
