import { cgroupSession } from './cgroup-session.js';
import { localSession } from './local.js';
import { acquireTargetLock, type LockOptions } from './lock.js';
import type { TargetProfile } from './profile.js';
import { sshSession } from './ssh-session.js';
import type { TargetSession } from './transport.js';

export interface SessionOptions {
  /** This machine's cache, where local targets keep their lock. */
  cacheDir: string;
  lock?: Pick<LockOptions, 'waitMs' | 'onWait'>;
}

/**
 * Opens the transport a target's profile asks for, with its limits in force, holding the target's lock
 * so that two coordinators never measure on the same machine at once.
 */
export async function openTargetSession(target: TargetProfile, opts: SessionOptions): Promise<TargetSession> {
  if (target.transport.kind === 'ssh') return sshSession(target, opts.lock);
  const lock = await acquireTargetLock({ kind: 'local', cacheRoot: opts.cacheDir }, target.name, opts.lock);
  try {
    const session = target.limits ? await cgroupSession(target.limits) : localSession();
    return {
      ...session,
      close: async () => {
        await session.close();
        await lock.release();
      },
    };
  } catch (err) {
    await lock.release();
    throw err;
  }
}
