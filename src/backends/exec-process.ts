import { spawn } from 'node:child_process';

export interface ToolRun {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The command could not start at all (not found, not executable). */
  spawnError?: string;
}

const KEEP_CHARS = 64 * 1024;

/**
 * Runs a tool in its own process group and kills the whole group on timeout: a wrapper script that hangs
 * on a wedged device must not leave its children holding the device after hil has given up.
 */
export function runTool(argv: string[], opts: { timeoutMs: number; env?: Record<string, string> }): Promise<ToolRun> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let spawnError: string | undefined;
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout = (stdout + c).slice(-KEEP_CHARS)));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-KEEP_CHARS)));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone between the timer firing and the kill.
        }
      }
    }, opts.timeoutMs);
    child.on('error', (err) => (spawnError = err.message));
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, stdout, stderr, timedOut, spawnError });
    });
  });
}
