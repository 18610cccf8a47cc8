import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SshConnectOptions } from '../../src/targets/ssh.js';
import { tempDir } from './temp.js';

const execFileP = promisify(execFile);
const SSHD = '/usr/sbin/sshd';

export interface SshdFixture {
  host: string;
  port: number;
  user: string;
  privateKeyPath: string;
  /** The server's public key line, `ssh-ed25519 AAAA...`. */
  hostPublicKey: string;
  /** `SHA256:...`, as `ssh-keygen -lf` prints it. */
  hostFingerprint: string;
  /** A known_hosts file holding the server's key under `[host]:port`. */
  knownHostsFile: string;
  /** Scratch folder for the test (keys, config, and anything the test wants, e.g. a cache root). */
  dir: string;
  /** What sshd has printed so far (errors only), for test failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Whether a real sshd can be started here: it needs the binary and root (sshd refuses to run its privilege
 * separation otherwise). Tests skip with a printed reason where it cannot; CI sets HIL_REQUIRE_SHARED=1, which
 * turns the skip into a failure so CI never passes by skipping.
 */
export function canRunSshd(): boolean {
  const reason = !existsSync(SSHD)
    ? `${SSHD} is not installed (apt-get install openssh-server)`
    : process.getuid?.() !== 0
      ? 'sshd tests need root (sshd privilege separation and /run/sshd)'
      : undefined;
  if (!reason) return true;
  if (process.env.HIL_REQUIRE_SHARED === '1') throw new Error(`HIL_REQUIRE_SHARED=1 but ${reason}`);
  console.warn(`skipping: ${reason}`);
  return false;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForBanner(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('data', (d) => {
        sock.destroy();
        resolve(d.toString().startsWith('SSH-'));
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not answer on port ${port} within 10 s: ${log()}`);
}

/** `SHA256:...` of a public key file, from ssh-keygen itself so tests check our own fingerprinting against it. */
export async function fingerprintOf(publicKeyFile: string): Promise<string> {
  const { stdout } = await execFileP('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyFile]);
  return stdout.trim().split(/\s+/)[1];
}

/** Generates an ed25519 key pair at `file` (+ `.pub`) and returns the public key line. */
export async function generateKey(file: string): Promise<string> {
  await execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hil-test', '-f', file]);
  return (await fs.readFile(`${file}.pub`, 'utf8')).trim();
}

/** Starts a real OpenSSH server on 127.0.0.1 with throwaway host and user keys, logging in as the current user. */
export async function startSshd(): Promise<SshdFixture> {
  const dir = tempDir('hil-sshd-');
  await fs.mkdir('/run/sshd', { recursive: true });
  const hostKey = path.join(dir, 'host_ed25519');
  const userKey = path.join(dir, 'user_ed25519');
  const hostPublicKey = await generateKey(hostKey);
  const userPublicKey = await generateKey(userKey);
  await fs.writeFile(path.join(dir, 'authorized_keys'), `${userPublicKey}\n`, { mode: 0o600 });
  const port = await freePort();
  const config = [
    `ListenAddress 127.0.0.1:${port}`,
    `HostKey ${hostKey}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'Subsystem sftp internal-sftp',
    'LogLevel ERROR',
    // Many short test connections arrive at once; the default (10:30:100) would drop some.
    'MaxStartups 100',
  ].join('\n');
  const configFile = path.join(dir, 'sshd_config');
  await fs.writeFile(configFile, `${config}\n`);
  // sshd runs under a small sh that kills it by PID when our end of its stdin closes: on stop(), and also when
  // the test process dies without reaching afterAll, so no sshd outlives its test run.
  const child = spawn('sh', ['-c', 'exec 3<&0; "$0" -D -e -f "$1" & p=$!; { read _ <&3; kill $p; } & wait $p', SSHD, configFile], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await waitForBanner(port, child, () => stderr.trim());
  const host = '127.0.0.1';
  const knownHostsFile = path.join(dir, 'known_hosts');
  await fs.writeFile(knownHostsFile, `[${host}]:${port} ${hostPublicKey}\n`);
  return {
    host,
    port,
    user: os.userInfo().username,
    privateKeyPath: userKey,
    hostPublicKey,
    hostFingerprint: await fingerprintOf(`${hostKey}.pub`),
    knownHostsFile,
    dir,
    log: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.stdin?.end();
        await exited;
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Options that log in to the fixture with its own key and pinned host key, ignoring ~/.ssh/config. */
export function connectOptionsFor(sshd: SshdFixture): SshConnectOptions {
  return {
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    privateKeyPath: sshd.privateKeyPath,
    hostKey: { knownHostsFile: sshd.knownHostsFile },
    sshConfigFile: path.join(sshd.dir, 'no-config'),
    retries: 0,
  };
}
