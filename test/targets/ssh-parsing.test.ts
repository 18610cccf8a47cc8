import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resolveSshConfig } from '../../src/targets/ssh-config.js';
import { findKnownKeys, hostKeyAlgorithmsFor, keyTypeOf, verifyHostKey } from '../../src/targets/ssh-hostkey.js';

/** A syntactically valid ed25519 key blob with a chosen last byte, so two keys differ. */
function blob(tag: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const key = Buffer.alloc(32, tag);
  const len = (n: number) => Buffer.from([0, 0, 0, n]);
  return Buffer.concat([len(type.length), type, len(32), key]);
}

function hashedName(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('ssh config resolution', () => {
  const text = [
    '# comment',
    'Host board-*  !board-spare',
    '  HostName=%n.lab.example',
    '  User ops',
    '  IdentityFile ~/.ssh/board_key',
    'Host board-1',
    '  Port 2222',
    '  User ignored-because-first-wins',
    'Match host *',
    '  Port 9',
    'Host *',
    '  Port 22',
    '  IdentityFile "%d/.ssh/id_ed25519"',
  ].join('\n');

  it('applies the first value of each keyword over matching Host blocks, skipping Match blocks', () => {
    const e = resolveSshConfig(text, 'board-1');
    expect(e.hostName).toBe('board-1.lab.example');
    expect(e.user).toBe('ops');
    expect(e.port).toBe(2222);
    expect(e.identityFiles).toHaveLength(2);
    expect(e.identityFiles[0]).toMatch(/\/\.ssh\/board_key$/);
    expect(e.identityFiles[0].startsWith('~')).toBe(false);
  });

  it('honours negated patterns', () => {
    const e = resolveSshConfig(text, 'board-spare');
    expect(e.hostName).toBeUndefined();
    expect(e.port).toBe(22);
  });

  it('rejects a non-numeric port with a fix', () => {
    expect(() => resolveSshConfig('Host x\n Port ssh\n', 'x')).toThrow(/Port "ssh"/);
  });
});

describe('known_hosts matching', () => {
  const a = blob(1);
  const b = blob(2);
  const line = (hosts: string, k: Buffer) => `${hosts} ssh-ed25519 ${k.toString('base64')}`;

  it('matches port 22 bare names, [host]:port names, wildcards and hashed entries', () => {
    expect(findKnownKeys(line('board,10.0.0.5', a), '10.0.0.5', 22).keys).toHaveLength(1);
    expect(findKnownKeys(line('10.0.0.5', a), '10.0.0.5', 2222).keys).toHaveLength(0);
    expect(findKnownKeys(line('[10.0.0.5]:2222', a), '10.0.0.5', 2222).keys).toHaveLength(1);
    expect(findKnownKeys(line('*.lab.example', a), 'b1.lab.example', 22).keys).toHaveLength(1);
    expect(findKnownKeys(line(hashedName('[b1]:2222'), a), 'b1', 2222).keys).toHaveLength(1);
    expect(findKnownKeys(line(hashedName('b1'), a), 'b2', 22).keys).toHaveLength(0);
  });

  it('refuses revoked keys even when another line accepts them', () => {
    const text = [line('b1', a), `@revoked * ssh-ed25519 ${a.toString('base64')}`].join('\n');
    const v = verifyHostKey(a, { knownHostsText: text, knownHostsFile: 'kh' }, 'b1', 22);
    expect(v.ok).toBe(false);
    expect(v.ok ? '' : v.error.message).toMatch(/@revoked/);
  });

  it('tells a changed key from an unknown one', () => {
    const changed = verifyHostKey(b, { knownHostsText: line('b1', a), knownHostsFile: 'kh' }, 'b1', 22);
    expect(changed.ok ? '' : changed.error.message).toMatch(/HOST KEY CHANGED/);
    const unknown = verifyHostKey(b, { knownHostsText: line('b2', a), knownHostsFile: 'kh' }, 'b1', 22);
    expect(unknown.ok ? '' : unknown.error.message).toMatch(/unknown/);
    expect(verifyHostKey(a, { knownHostsText: line('b1', a), knownHostsFile: 'kh' }, 'b1', 22).ok).toBe(true);
  });

  it('offers the host key algorithms of the keys it holds', () => {
    expect(keyTypeOf(a)).toBe('ssh-ed25519');
    expect(hostKeyAlgorithmsFor(['ssh-rsa', 'ssh-ed25519'])).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
  });
});
