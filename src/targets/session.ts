import { cgroupSession } from './cgroup-session.js';
import { localSession } from './local.js';
import type { TargetProfile } from './profile.js';
import { sshSession } from './ssh-session.js';
import type { TargetSession } from './transport.js';

/** Opens the transport a target's profile asks for, with its limits in force. */
export async function openTargetSession(target: TargetProfile): Promise<TargetSession> {
  if (target.transport.kind === 'ssh') return sshSession(target);
  return target.limits ? cgroupSession(target.limits) : localSession();
}
