import { targetError } from '../errors.js';
import { localSession } from './local.js';
import type { TargetProfile } from './profile.js';
import type { TargetSession } from './transport.js';

/** Opens the transport a target's profile asks for. */
export async function openTargetSession(target: TargetProfile): Promise<TargetSession> {
  if (target.transport.kind === 'local' && !target.limits) return localSession();
  throw targetError(
    `target ${target.name} is not available yet: transport ${target.transport.kind}${target.limits ? ' with cgroup limits' : ''} is not implemented in this version`,
    'use --target local',
  );
}
