import { targetError } from '../errors.js';
import { cgroupSession } from './cgroup-session.js';
import { localSession } from './local.js';
import type { TargetProfile } from './profile.js';
import type { TargetSession } from './transport.js';

/** Opens the transport a target's profile asks for, with its limits in force. */
export async function openTargetSession(target: TargetProfile): Promise<TargetSession> {
  if (target.transport.kind === 'local') {
    return target.limits ? cgroupSession(target.limits) : localSession();
  }
  throw targetError(`target ${target.name} is not available yet: transport ${target.transport.kind} is not implemented in this version`, 'use --target local or flatsat-emu');
}
