import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import ssh2 from 'ssh2';
import type { AgentAuthMethod, ClientChannel, PublicKeyAuthMethod, SFTPWrapper, ServerHostKeyAlgorithm } from 'ssh2';
import { HilError, targetError } from '../errors.js';
import { loadSshConfig } from './ssh-config.js';
import { hostKeyAlgorithmsFor, findKnownKeys, readKnownHosts, verifyHostKey, type HostKeyPin } from './ssh-hostkey.js';

export type { HostKeyPin } from './ssh-hostkey.js';

export interface SshConnectOptions {
  /** A host name, an address, or an alias from the ssh config file. */
  host: string;
  port?: number;
  user?: string;
  privateKeyPath?: string;
  /** Also offer the keys of the agent at $SSH_AUTH_SOCK. */
  agent?: boolean;
  hostKey: HostKeyPin;
  connectTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  /** Extra connection attempts after a refused, reset or timed-out one; backoff doubles from 250 ms. */
  retries?: number;
  /** Defaults to ~/.ssh/config. */
  sshConfigFile?: string;
}

export interface ExecOptions {
  /** Called once per complete stdout line, without the newline. */
  onStdoutLine?: (line: string) => void;
  onStderr?: (chunk: string) => void;
  /** Written to the command's stdin, which is then closed; without it stdin stays open (and empty). */
  stdin?: string | Buffer;
  /**
   * Makes the command abortable: aborting (or losing the connection) sends SIGTERM to its process group on the
   * target. The command then runs under a small sh watchdog with stdin from /dev/null (so `stdin` cannot be
   * combined with it), and death by a signal reads as exit code 128+n, as in a shell.
   */
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
}

export interface CapturedExec extends ExecResult {
  stdout: string;
  stderr: string;
}

export interface SshConnection {
  /** `user@host:port` for messages. */
  readonly label: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Runs a command and collects its output; never throws on a non-zero exit, the caller decides what it means. */
  capture(command: string, stdin?: string | Buffer): Promise<CapturedExec>;
  /** The connection's SFTP session, opened on first use. */
  sftp(): Promise<SFTPWrapper>;
  /** The login's home folder on the target, for expanding `~/`. */
  homeDir(): Promise<string>;
  /**
   * `op`, or a rejection as soon as the connection drops. Needed around SFTP transfers: ssh2's fastPut never
   * calls back when the connection under it goes away.
   */
  orLost<T>(op: Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

interface Resolved {
  host: string;
  port: number;
  user: string;
  keys: { file: string; data: Buffer }[];
  agentSock: string | undefined;
  pin: { knownHostsText: string; knownHostsFile: string } | { fingerprint: string };
  knownTypes: string[];
}

async function resolveOptions(opts: SshConnectOptions): Promise<Resolved> {
  const configFile = opts.sshConfigFile ?? path.join(os.homedir(), '.ssh', 'config');
  const cfg = await loadSshConfig(configFile, opts.host);
  const host = cfg.hostName ?? opts.host;
  const port = opts.port ?? cfg.port ?? 22;
  const user = opts.user ?? cfg.user ?? os.userInfo().username;
  const explicit = opts.privateKeyPath ? [opts.privateKeyPath] : cfg.identityFiles;
  const candidates = explicit.length > 0 ? explicit : DEFAULT_IDENTITIES.map((n) => path.join(os.homedir(), '.ssh', n));
  const keys: Resolved['keys'] = [];
  for (const file of candidates) {
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch (err) {
      // Default identities are optional, as in ssh; a key the user named must exist.
      if (explicit.length === 0) continue;
      throw targetError(
        `cannot read SSH private key ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        'fix privateKeyPath in the target profile or the IdentityFile in your ssh config',
      );
    }
    const parsed = ssh2.utils.parseKey(data);
    if (parsed instanceof Error) {
      throw targetError(
        `SSH private key ${file} cannot be used (${parsed.message})`,
        'hil cannot prompt for passphrases: load the key into ssh-agent and set agent: true, or use an unencrypted deploy key',
      );
    }
    keys.push({ file, data });
  }
  const agentSock = opts.agent ? process.env.SSH_AUTH_SOCK : undefined;
  if (opts.agent && !agentSock) {
    throw targetError('agent: true but SSH_AUTH_SOCK is not set', 'start ssh-agent and ssh-add your key, or set privateKeyPath');
  }
  if (keys.length === 0 && !agentSock) {
    throw targetError(
      `no SSH key to log in to ${host} with (none given, none in ~/.ssh)`,
      'set privateKeyPath in the target profile, an IdentityFile in ~/.ssh/config, or agent: true',
    );
  }
  let pin: Resolved['pin'];
  let knownTypes: string[] = [];
  if ('fingerprint' in opts.hostKey) {
    if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(opts.hostKey.fingerprint)) {
      throw targetError(
        `hostKey.fingerprint "${opts.hostKey.fingerprint}" is not a SHA256 fingerprint`,
        'copy it as ssh-keygen -lf prints it, e.g. "SHA256:" followed by 43 base64 characters',
      );
    }
    pin = { fingerprint: opts.hostKey.fingerprint };
  } else {
    const knownHostsText = await readKnownHosts(opts.hostKey.knownHostsFile);
    pin = { knownHostsText, knownHostsFile: opts.hostKey.knownHostsFile };
    knownTypes = findKnownKeys(knownHostsText, host, port).keys.map((k) => k.type);
  }
  return { host, port, user, keys, agentSock, pin, knownTypes };
}

/** A TCP connection with our own timeout, and Nagle off: with it on, SFTP's small request packets crawl. */
function openSocket(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

type Attempt = { ok: true; client: ssh2.Client } | { ok: false; error: HilError; retry: boolean };

function describeNetError(r: Resolved, err: NodeJS.ErrnoException, timeoutMs: number): Attempt {
  const where = `${r.host}:${r.port}`;
  const code = err.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return {
      ok: false,
      retry: false,
      error: targetError(`cannot resolve host name ${r.host}`, 'check the host in the target profile, or add a HostName for it in ~/.ssh/config'),
    };
  }
  if (code === 'ETIMEDOUT') {
    return {
      ok: false,
      retry: true,
      error: targetError(
        `no answer from ${where} within ${timeoutMs} ms`,
        'check the board is powered and reachable (network, VPN, address); raise connectTimeoutMs for slow links',
      ),
    };
  }
  if (code === 'ECONNREFUSED') {
    return {
      ok: false,
      retry: true,
      error: targetError(`${where} refused the connection`, 'check that sshd is running on the target and that the port is right'),
    };
  }
  return {
    ok: false,
    retry: RETRYABLE.has(code),
    error: targetError(`cannot reach ${where} (${code || err.message})`, 'check the network path to the target and that sshd is running'),
  };
}

async function attempt(r: Resolved, opts: SshConnectOptions): Promise<Attempt> {
  const timeoutMs = opts.connectTimeoutMs ?? 15_000;
  let sock: net.Socket;
  try {
    sock = await openSocket(r.host, r.port, timeoutMs);
  } catch (err) {
    return describeNetError(r, err as NodeJS.ErrnoException, timeoutMs);
  }
  const client = new ssh2.Client();
  let hostKeyError: HilError | undefined;
  const auth: (AgentAuthMethod | PublicKeyAuthMethod)[] = [];
  if (r.agentSock) auth.push({ type: 'agent', username: r.user, agent: r.agentSock });
  for (const k of r.keys) auth.push({ type: 'publickey', username: r.user, key: k.data });
  const algorithms =
    r.knownTypes.length > 0 ? { serverHostKey: hostKeyAlgorithmsFor(r.knownTypes) as ServerHostKeyAlgorithm[] } : undefined;
  return new Promise<Attempt>((resolve) => {
    let settled = false;
    const settle = (a: Attempt) => {
      if (settled) return;
      settled = true;
      if (!a.ok) client.end();
      resolve(a);
    };
    client.once('ready', () => settle({ ok: true, client }));
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (hostKeyError) return settle({ ok: false, retry: false, error: hostKeyError });
      if (err.level === 'client-authentication') {
        const tried = [...(r.agentSock ? ['ssh-agent'] : []), ...r.keys.map((k) => k.file)].join(', ');
        return settle({
          ok: false,
          retry: false,
          error: targetError(
            `${r.user}@${r.host}:${r.port} refused authentication with ${tried}`,
            `add the matching public key to ~${r.user}/.ssh/authorized_keys on the target (ssh-copy-id), or fix user/privateKeyPath in the profile`,
          ),
        });
      }
      if (err.level === 'client-timeout') {
        return settle({
          ok: false,
          retry: true,
          error: targetError(
            `SSH handshake with ${r.host}:${r.port} timed out after ${timeoutMs} ms`,
            'check the port is an SSH server and the link is up; raise connectTimeoutMs for slow links',
          ),
        });
      }
      if (err.code) return settle(describeNetError(r, err as NodeJS.ErrnoException, timeoutMs));
      settle({
        ok: false,
        retry: false,
        error: targetError(`SSH connection to ${r.host}:${r.port} failed: ${err.message}`, 'check the target runs OpenSSH and is reachable'),
      });
    });
    client.once('close', () =>
      settle({
        ok: false,
        retry: true,
        error: targetError(`${r.host}:${r.port} closed the connection during the SSH handshake`, 'check sshd on the target (MaxStartups, logs)'),
      }),
    );
    client.connect({
      sock,
      username: r.user,
      authHandler: auth,
      readyTimeout: timeoutMs,
      keepaliveInterval: opts.keepaliveIntervalMs ?? 10_000,
      keepaliveCountMax: 3,
      algorithms,
      hostVerifier: (key: Buffer) => {
        const verdict = verifyHostKey(key, r.pin, r.host, r.port);
        if (!verdict.ok) hostKeyError = verdict.error;
        return verdict.ok;
      },
    });
  });
}

/**
 * Opens an SSH connection to a target, with the host key pinned (known_hosts or fingerprint; unknown or changed
 * keys are refused, never accepted on first use) and bounded retries with exponential backoff on transient
 * network failures. Authentication and host-key failures are not retried: repeating them cannot help.
 */
export async function connectSsh(opts: SshConnectOptions): Promise<SshConnection> {
  const r = await resolveOptions(opts);
  const retries = opts.retries ?? 3;
  let last: HilError | undefined;
  for (let i = 0; i <= retries; i++) {
    if (i > 0) await new Promise((res) => setTimeout(res, Math.min(250 * 2 ** (i - 1), 8_000)));
    const a = await attempt(r, opts);
    if (a.ok) return wrapClient(a.client, r);
    last = a.error;
    if (!a.retry) throw a.error;
  }
  const err = last as HilError;
  throw new HilError(err.kind, `${err.message} (${retries + 1} attempts)`, err.fix, err.exitCode);
}

/**
 * Wraps a command so that EOF on the channel's stdin (abort, or the connection dropping) terminates it. `set -m`
 * puts the command in its own process group, so the TERM reaches whatever it started too.
 */
function abortable(command: string): string {
  return [
    'set -m',
    `{ ${command}
} </dev/null &`,
    'hil_pid=$!',
    '{ cat >/dev/null 2>&1; kill -TERM -$hil_pid 2>/dev/null || kill -TERM $hil_pid 2>/dev/null; } >/dev/null 2>&1 &',
    'hil_watch=$!',
    'wait $hil_pid; hil_rc=$?',
    'kill $hil_watch 2>/dev/null',
    'exit $hil_rc',
  ].join('\n');
}

/** Splits a byte stream into UTF-8 lines, keeping a partial last line until more arrives. */
function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  return {
    push(chunk) {
      pending += decoder.write(chunk);
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, nl).replace(/\r$/, ''));
        pending = pending.slice(nl + 1);
      }
    },
    end() {
      pending += decoder.end();
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}

function wrapClient(client: ssh2.Client, r: Resolved): SshConnection {
  const label = `${r.user}@${r.host}:${r.port}`;
  let lost: HilError | undefined;
  let closing = false;
  let sftpSession: Promise<SFTPWrapper> | undefined;
  let home: Promise<string> | undefined;
  const lostError = () =>
    targetError(`connection to ${label} was lost`, 'check the target and the network; a re-run reuses everything already deployed');
  let rejectLost: (e: HilError) => void = () => undefined;
  const lostPromise = new Promise<never>((_res, rej) => {
    rejectLost = rej;
  });
  lostPromise.catch(() => undefined);
  const markLost = () => {
    if (lost) return;
    lost = lostError();
    rejectLost(lost);
  };
  client.on('error', markLost);
  client.on('close', () => {
    if (!closing) markLost();
  });

  const exec = (command: string, opts: ExecOptions = {}): Promise<ExecResult> =>
    new Promise((resolve, reject) => {
      if (lost) return reject(lost);
      if (opts.signal && opts.stdin !== undefined) throw new Error('exec: stdin and signal cannot be combined');
      client.exec(opts.signal ? abortable(command) : command, (err: Error | undefined, channel: ClientChannel) => {
        if (err) return reject(lost ?? targetError(`cannot run a command on ${label}: ${err.message}`, 'check the target allows exec sessions (MaxSessions)'));
        let exitCode: number | null = null;
        let exitSignal: string | null = null;
        let killTimer: NodeJS.Timeout | undefined;
        const out = lineSplitter((line) => opts.onStdoutLine?.(line));
        const errDecoder = new StringDecoder('utf8');
        channel.on('data', (d: Buffer) => out.push(d));
        channel.stderr.on('data', (d: Buffer) => opts.onStderr?.(errDecoder.write(d)));
        channel.on('exit', (code: number | null, sig?: string) => {
          if (typeof code === 'number') exitCode = code;
          if (sig) exitSignal = sig;
        });
        const onAbort = () => {
          // Ending stdin wakes the watchdog; a "signal" request would be neater, but OpenSSH refuses it for
          // many logins ("session signalling requires privilege separation") and ssh2 drops it silently.
          channel.end();
          killTimer = setTimeout(() => channel.close(), 10_000);
        };
        if (opts.signal?.aborted) onAbort();
        else opts.signal?.addEventListener('abort', onAbort, { once: true });
        channel.on('close', () => {
          clearTimeout(killTimer);
          opts.signal?.removeEventListener('abort', onAbort);
          out.end();
          const tail = errDecoder.end();
          if (tail) opts.onStderr?.(tail);
          // A channel that closes with no exit status went down with the connection.
          if (exitCode === null && exitSignal === null && lost) return reject(lost);
          resolve({ exitCode, signal: exitSignal });
        });
        if (opts.stdin !== undefined) channel.end(opts.stdin);
        else if (!opts.signal) channel.end();
      });
    });

  const capture = async (command: string, stdin?: string | Buffer): Promise<CapturedExec> => {
    const outLines: string[] = [];
    let stderr = '';
    const res = await exec(command, {
      stdin,
      onStdoutLine: (l) => outLines.push(l),
      onStderr: (c) => {
        stderr += c;
      },
    });
    return { ...res, stdout: outLines.join('\n'), stderr };
  };

  const sftp = (): Promise<SFTPWrapper> => {
    if (lost) return Promise.reject(lost);
    sftpSession ??= new Promise<SFTPWrapper>((resolve, reject) => {
      client.sftp((err, s) => {
        if (err) {
          sftpSession = undefined;
          return reject(
            lost ?? targetError(`cannot open SFTP on ${label}: ${err.message}`, 'enable the sftp subsystem in the target sshd_config (Subsystem sftp internal-sftp)'),
          );
        }
        s.on('close', () => {
          sftpSession = undefined;
        });
        resolve(s);
      });
    });
    return sftpSession;
  };

  const homeDir = (): Promise<string> => {
    home ??= sftp().then(
      (s) =>
        new Promise<string>((resolve, reject) =>
          s.realpath('.', (err, p) => (err ? reject(lost ?? targetError(`cannot find the home folder on ${label}: ${err.message}`, 'check the login user has a home folder')) : resolve(p))),
        ),
    );
    return home;
  };

  return {
    label,
    host: r.host,
    port: r.port,
    user: r.user,
    exec,
    capture,
    sftp,
    homeDir,
    orLost: <T>(op: Promise<T>) => Promise.race([op, lostPromise]),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        if (lost) return resolve();
        client.once('close', () => resolve());
        client.end();
      }),
  };
}

/** Quotes one word for a POSIX shell on the target. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
