import { targetError } from '../errors.js';
import type { TargetSession } from './transport.js';

/** Runs the runner's `--probe` on the target (through its transport and limits) and returns what it saw. */
export async function probeTarget(session: Pick<TargetSession, 'runRunner'>, name: string): Promise<Record<string, unknown>> {
  let host: Record<string, unknown> | undefined;
  const exit = await session.runRunner(['--probe'], (ev) => {
    if (ev.ev === 'probe') host = ev.host;
  });
  if (!host || exit.exitCode !== 0) {
    throw targetError(
      `the runner on ${name} could not describe the host (exit ${exit.exitCode ?? exit.signal}): ${exit.stderrTail.split('\n').slice(-2).join(' | ')}`,
      'run hil targets check for details',
    );
  }
  return host;
}
