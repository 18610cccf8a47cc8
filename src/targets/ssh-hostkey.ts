import { createHash, createHmac } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { type HilError, targetError } from '../errors.js';
import { hostLineMatches } from './ssh-config.js';

/** How the server's key is pinned: an OpenSSH known_hosts file, or a single `SHA256:...` fingerprint. */
export type HostKeyPin = { knownHostsFile: string } | { fingerprint: string };

/** `SHA256:<base64 without padding>` of a raw SSH public key blob, exactly as `ssh-keygen -lf` prints it. */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written inside an SSH key blob (its first length-prefixed string). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

/** The name known_hosts uses for a host: bare on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

interface KnownKey {
  type: string;
  blob: Buffer;
}

function hashedMatches(field: string, name: string): boolean {
  const [, magic, salt, hash] = field.split('|');
  if (magic !== '1' || !salt || !hash) return false;
  const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return mac === hash;
}

/**
 * Keys known_hosts holds for `host`:`port`, plain or hashed (`|1|salt|hash`). Revoked keys come back separately
 * so a revoked key is refused even when another line would accept it. `@cert-authority` lines are ignored: hil
 * does not verify host certificates.
 */
export function findKnownKeys(text: string, host: string, port: number): { keys: KnownKey[]; revoked: Buffer[] } {
  const name = knownHostsName(host, port);
  const keys: KnownKey[] = [];
  const revoked: Buffer[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0].startsWith('@')) marker = fields.shift();
    if (marker === '@cert-authority' || fields.length < 3) continue;
    const [hostsField, type, b64] = fields;
    const matches = hostsField.startsWith('|')
      ? hashedMatches(hostsField, name)
      : hostLineMatches(hostsField.split(','), name);
    if (!matches) continue;
    const blob = Buffer.from(b64, 'base64');
    if (marker === '@revoked') revoked.push(blob);
    else keys.push({ type, blob });
  }
  return { keys, revoked };
}

/**
 * Host key algorithms to offer so the server presents a key type we hold: with known_hosts listing only an
 * ed25519 key, a server that prefers ECDSA would otherwise look like a changed key.
 */
export function hostKeyAlgorithmsFor(knownTypes: string[]): string[] {
  const out: string[] = [];
  for (const t of knownTypes) {
    const algs = t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t];
    for (const a of algs) if (!out.includes(a)) out.push(a);
  }
  return out;
}

export async function readKnownHosts(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw targetError(
      `cannot read known_hosts file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      'fix its permissions or pin the host key with hostKey.fingerprint in the target profile',
    );
  }
}

/** What pinning concluded about the key a server presented. */
export type HostKeyVerdict = { ok: true } | { ok: false; error: HilError };

/**
 * Decides whether the presented key is the pinned one. Unknown and changed keys are refused with the presented
 * fingerprint and how to pin it; nothing is ever accepted on first use.
 */
export function verifyHostKey(
  presented: Buffer,
  pin: { knownHostsText: string; knownHostsFile: string } | { fingerprint: string },
  host: string,
  port: number,
): HostKeyVerdict {
  const fp = sshFingerprint(presented);
  const name = knownHostsName(host, port);
  if ('fingerprint' in pin) {
    if (pin.fingerprint === fp) return { ok: true };
    return {
      ok: false,
      error: targetError(
        `host key of ${name} does not match the pinned fingerprint: it presented ${fp}, the profile pins ${pin.fingerprint}`,
        `if the board was reinstalled, check the new key on its console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and set hostKey.fingerprint to "${fp}"`,
      ),
    };
  }
  const { keys, revoked } = findKnownKeys(pin.knownHostsText, host, port);
  if (revoked.some((r) => r.equals(presented))) {
    return {
      ok: false,
      error: targetError(
        `host key ${fp} of ${name} is marked @revoked in ${pin.knownHostsFile}`,
        'the server must be given a new host key; then pin the new one',
      ),
    };
  }
  if (keys.some((k) => k.blob.equals(presented))) return { ok: true };
  const type = keyTypeOf(presented);
  if (keys.length === 0) {
    return {
      ok: false,
      error: targetError(
        `host key of ${name} is unknown: it presented ${type} ${fp}, and ${pin.knownHostsFile} has no entry for it`,
        `check the fingerprint on the board (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then pin it: ssh-keyscan -p ${port} ${host} >> ${pin.knownHostsFile}, or set hostKey.fingerprint to "${fp}"`,
      ),
    };
  }
  const knownFps = keys.map((k) => `${k.type} ${sshFingerprint(k.blob)}`).join(', ');
  return {
    ok: false,
    error: targetError(
      `HOST KEY CHANGED for ${name}: it presented ${type} ${fp}, but ${pin.knownHostsFile} has ${knownFps} — this may be an attack`,
      `if the change is expected (board reinstalled), remove the old entry with ssh-keygen -R '${name}' -f ${pin.knownHostsFile} and pin the new key`,
    ),
  };
}
