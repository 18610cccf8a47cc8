import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { connectSsh, type SshConnectOptions } from '../../src/targets/ssh.js';
import { canRunSshd, generateKey, startSshd, type SshdFixture, connectOptionsFor } from '../helpers/sshd.js';

const enabled = canRunSshd();

async function refusal(p: Promise<unknown>): Promise<HilError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HilError);
  return err as HilError;
}

describe.runIf(enabled)('ssh transport against a real sshd', () => {
  let sshd: SshdFixture;
  let base: SshConnectOptions;

  beforeAll(async () => {
    sshd = await startSshd();
    base = connectOptionsFor(sshd);
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('runs a command, streaming stdout lines and stderr, and reports the exit code', async () => {
    const conn = await connectSsh(base);
    try {
      const lines: string[] = [];
      let stderr = '';
      const res = await conn.exec('printf "a\\nb\\npartial"; echo oops >&2; exit 3', {
        onStdoutLine: (l) => lines.push(l),
        onStderr: (c) => {
          stderr += c;
        },
      });
      expect(res).toEqual({ exitCode: 3, signal: null });
      expect(lines).toEqual(['a', 'b', 'partial']);
      expect(stderr).toBe('oops\n');
      expect((await conn.capture('cat', 'from stdin')).stdout).toBe('from stdin');
      expect(await conn.homeDir()).toMatch(/^\//);
    } finally {
      await conn.close();
    }
  });

  it('aborting an exec terminates the remote command', async () => {
    const conn = await connectSsh(base);
    try {
      const ac = new AbortController();
      const started = Date.now();
      const run = conn.exec('echo started; sleep 37; echo never', {
        signal: ac.signal,
        onStdoutLine: () => ac.abort(),
      });
      const res = await run;
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(res).toEqual({ exitCode: 128 + 15, signal: null });
      // The command itself is gone, not just the channel.
      expect((await conn.capture('pgrep -f "[s]leep 37" || true')).stdout).toBe('');
    } finally {
      await conn.close();
    }
  });

  it('accepts a key pinned by fingerprint, and refuses a different pinned fingerprint showing the presented one', async () => {
    const ok = await connectSsh({ ...base, hostKey: { fingerprint: sshd.hostFingerprint } });
    await ok.close();
    const wrong = `SHA256:${'A'.repeat(43)}`;
    const err = await refusal(connectSsh({ ...base, hostKey: { fingerprint: wrong } }));
    expect(err.kind).toBe('target');
    expect(err.oneLine()).toContain(sshd.hostFingerprint);
    expect(err.oneLine()).toContain('hostKey.fingerprint');
  });

  it('refuses an unknown host key, naming its fingerprint and how to pin it', async () => {
    const empty = path.join(sshd.dir, 'known_hosts.empty');
    await fs.writeFile(empty, `otherhost ${sshd.hostPublicKey}\n`);
    const err = await refusal(connectSsh({ ...base, hostKey: { knownHostsFile: empty } }));
    expect(err.message).toMatch(/unknown/);
    expect(err.oneLine()).toContain(sshd.hostFingerprint);
    expect(err.oneLine()).toContain(`ssh-keyscan -p ${sshd.port} ${sshd.host}`);
  });

  it('refuses a changed host key', async () => {
    const otherPub = await generateKey(path.join(sshd.dir, 'other_host'));
    const file = path.join(sshd.dir, 'known_hosts.changed');
    await fs.writeFile(file, `[${sshd.host}]:${sshd.port} ${otherPub}\n`);
    const err = await refusal(connectSsh({ ...base, hostKey: { knownHostsFile: file } }));
    expect(err.message).toMatch(/HOST KEY CHANGED/);
    expect(err.oneLine()).toContain(sshd.hostFingerprint);
    expect(err.oneLine()).toContain('ssh-keygen -R');
  });

  it('accepts hashed known_hosts entries written by ssh-keygen -H', async () => {
    const file = path.join(sshd.dir, 'known_hosts.hashed');
    await fs.writeFile(file, `[${sshd.host}]:${sshd.port} ${sshd.hostPublicKey}\n`);
    const { execFileSync } = await import('node:child_process');
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(await fs.readFile(file, 'utf8')).toMatch(/^\|1\|/);
    const conn = await connectSsh({ ...base, hostKey: { knownHostsFile: file } });
    await conn.close();
  });

  it('resolves an ~/.ssh/config alias: HostName, Port, User, IdentityFile', async () => {
    const config = path.join(sshd.dir, 'ssh_config');
    await fs.writeFile(
      config,
      [
        'Host other',
        '  HostName 10.255.255.1',
        'Host flatsat-test !nothing',
        `  HostName ${sshd.host}`,
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ${sshd.privateKeyPath}`,
        'Host *',
        '  Port 1',
        '',
      ].join('\n'),
    );
    const conn = await connectSsh({ host: 'flatsat-test', hostKey: base.hostKey, sshConfigFile: config, retries: 0 });
    try {
      expect(conn.label).toBe(`${sshd.user}@${sshd.host}:${sshd.port}`);
      expect((await conn.capture('echo ok')).stdout).toBe('ok');
    } finally {
      await conn.close();
    }
  });

  it('reports refused authentication without retrying', async () => {
    const stranger = path.join(sshd.dir, 'stranger');
    await generateKey(stranger);
    const started = Date.now();
    const err = await refusal(connectSsh({ ...base, privateKeyPath: stranger, retries: 3 }));
    expect(err.message).toMatch(/refused authentication/);
    expect(err.oneLine()).toContain('authorized_keys');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('reports an unreachable port after bounded retries with backoff', async () => {
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    const started = Date.now();
    const err = await refusal(connectSsh({ ...base, port: closed, retries: 2 }));
    expect(err.message).toMatch(/refused the connection \(3 attempts\)/);
    // Backoff 250 ms + 500 ms between the three attempts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
  });

  it('times out on a port that accepts TCP but never speaks SSH', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const err = await refusal(connectSsh({ ...base, port, connectTimeoutMs: 300 }));
      expect(err.message).toMatch(/timed out after 300 ms/);
    } finally {
      silent.close();
    }
  });
});
