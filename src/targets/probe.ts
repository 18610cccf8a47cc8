import { targetError } from '../errors.js';
import type { TargetSession } from './transport.js';

/** One probe per session: the check before a run and the record's environment both need it. */
const probes = new WeakMap<object, Promise<Record<string, unknown>>>();

/**
 * Runs the runner's `--probe` on the target (through its transport and limits) and returns what it saw;
 * later calls on the same session reuse the answer (over SSH a probe is a deploy check and a run).
 */
export function probeTarget(session: Pick<TargetSession, 'runRunner'>, name: string): Promise<Record<string, unknown>> {
  let probe = probes.get(session);
  if (!probe) {
    probe = runProbe(session, name);
    probes.set(session, probe);
    probe.catch(() => probes.delete(session));
  }
  return probe;
}

async function runProbe(session: Pick<TargetSession, 'runRunner'>, name: string): Promise<Record<string, unknown>> {
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
