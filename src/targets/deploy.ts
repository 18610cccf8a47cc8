import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { HilError, targetError } from '../errors.js';
import { bundleId, hashFile, type BundleFile } from './bundle.js';
import { shellQuote as q, type ExecResult, type SshConnection } from './ssh.js';
import { sftpPut, sftpReaddir, sftpRename, sftpStat } from './ssh-sftp.js';

export const DEFAULT_CACHE_ROOT = '~/.cache/hil';
/** Where a shipped Node binary lives inside a bundle. */
const SHIPPED_NODE = '.hil/node';
const MIN_NODE_MAJOR = 20;
/** Verify and commit uploads in batches this large, so a long deploy keeps its progress if it is cut. */
const BATCH_FILES = 64;
const BATCH_BYTES = 32 * 1024 * 1024;

export interface RemotePlatform {
  /** Node's names: `linux`, `darwin`; `x64`, `arm64`, `arm`. */
  platform: string;
  arch: string;
  libc: 'glibc' | 'musl' | 'unknown';
  /** The node found on the target, if any. */
  node: { path: string; version: string } | null;
}

const UNAME_OS: Record<string, string> = { Linux: 'linux', Darwin: 'darwin', FreeBSD: 'freebsd' };
const UNAME_ARCH: Record<string, string> = { x86_64: 'x64', amd64: 'x64', aarch64: 'arm64', arm64: 'arm64', armv7l: 'arm', armv6l: 'arm', i686: 'ia32' };

/** What the target runs: OS, CPU architecture, C library, and its node (if any) under the given command name. */
export async function probeRemotePlatform(conn: SshConnection, nodeCommand = 'node'): Promise<RemotePlatform> {
  const script = [
    'uname -s',
    'uname -m',
    "if ls /lib/ld-musl* >/dev/null 2>&1 || ldd --version 2>&1 | grep -qi musl; then echo musl;",
    "elif ldd --version 2>&1 | grep -qiE 'glibc|gnu libc|gnu c library'; then echo glibc; else echo unknown; fi",
    `p=$(command -v ${q(nodeCommand)} 2>/dev/null) && v=$("$p" --version 2>/dev/null) && echo "$p" && echo "$v" || true`,
  ].join('\n');
  const res = await conn.capture('sh -s', script);
  const [os, machine, libc, nodePath, nodeVersion] = res.stdout.split('\n').map((l) => l.trim());
  if (res.exitCode !== 0 || !os || !machine) {
    throw targetError(`cannot tell what ${conn.label} runs (uname failed: ${res.stderr.trim() || `exit ${res.exitCode}`})`, 'hil needs a POSIX shell with uname on the target');
  }
  return {
    platform: UNAME_OS[os] ?? os.toLowerCase(),
    arch: UNAME_ARCH[machine] ?? machine,
    libc: libc === 'glibc' || libc === 'musl' ? libc : 'unknown',
    node: nodePath && nodeVersion ? { path: nodePath, version: nodeVersion } : null,
  };
}

function localLibc(): RemotePlatform['libc'] {
  if (process.platform !== 'linux') return 'unknown';
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

function nodeMajor(version: string): number {
  return Number(/^v?(\d+)\./.exec(version)?.[1] ?? 0);
}

/**
 * The node to run on the target: its own when new enough, else this process's binary when it can run there
 * (same OS, arch and C library), else an error saying what to install.
 */
async function chooseNode(conn: SshConnection, target: RemotePlatform): Promise<{ nodePath: string } | { ship: BundleFile }> {
  if (target.node && nodeMajor(target.node.version) >= MIN_NODE_MAJOR) return { nodePath: target.node.path };
  const found = target.node ? `Node ${target.node.version}` : 'no node';
  const here = { platform: process.platform, arch: process.arch, libc: localLibc() };
  if (here.platform === target.platform && here.arch === target.arch && here.libc === target.libc && here.libc !== 'unknown') {
    const h = await hashFile(process.execPath);
    return { ship: { localPath: process.execPath, relPath: SHIPPED_NODE, sha256: h.sha256, size: h.size, mode: 0o755 } };
  }
  throw targetError(
    `${conn.label} has ${found}; the runner needs Node ${MIN_NODE_MAJOR} or newer, and this machine's node (${here.platform}/${here.arch}/${here.libc}) cannot run on the target (${target.platform}/${target.arch}/${target.libc})`,
    `install Node ${MIN_NODE_MAJOR}+ on the target (nodejs.org ${target.platform}-${target.arch} binaries${target.libc === 'musl' ? ', or apk add nodejs' : ''}), or set the target's node command to one that is`,
  );
}

export interface DeployOptions {
  /** Cache on the target; `~/` means the login's home. Default `~/.cache/hil`. */
  cacheRoot?: string;
  /** The node command to use on the target. Default `node`. */
  node?: string;
  /** From probeRemotePlatform, when the caller already has it (it picked the bundle's binaries with it). */
  platform?: RemotePlatform;
  onProgress?: (sentBytes: number, totalBytes: number) => void;
}

export interface DeployResult {
  /** The bundle tree on the target; run with it as the working directory. */
  remoteRoot: string;
  nodePath: string;
  /** The bundle id on the target (differs from the local one when a node binary was shipped into it). */
  bundleId: string;
  sentFiles: number;
  sentBytes: number;
  reusedFiles: number;
}

/** Expands `~/` against the login's home: SFTP and `sh` quoting both need absolute paths. */
export async function resolveRemotePath(conn: SshConnection, p: string): Promise<string> {
  if (p === '~') return conn.homeDir();
  if (p.startsWith('~/')) return path.posix.join(await conn.homeDir(), p.slice(2));
  if (!p.startsWith('/')) throw targetError(`cacheRoot "${p}" on the target is relative`, 'give an absolute path or one starting with ~/');
  return p;
}

async function mustSucceed(conn: SshConnection, what: string, command: string, stdin?: string): Promise<string> {
  const res = await conn.capture(command, stdin);
  if (res.exitCode !== 0) {
    throw targetError(`${what} on ${conn.label} failed (exit ${res.exitCode ?? res.signal}): ${res.stderr.trim().split('\n').pop() ?? ''}`, 'check the cache folder on the target is writable (cacheRoot)');
  }
  return res.stdout;
}

async function freeBytes(conn: SshConnection, dir: string): Promise<number | undefined> {
  const res = await conn.capture(`df -Pk ${q(dir)}`);
  const fields = res.stdout.split('\n')[1]?.trim().split(/\s+/);
  const kb = Number(fields?.[3]);
  return res.exitCode === 0 && Number.isFinite(kb) ? kb * 1024 : undefined;
}

function diskFull(conn: SshConnection, root: string, needed: number, free: number): HilError {
  const mb = (n: number) => `${Math.ceil(n / 1048576)} MB`;
  return targetError(
    `${conn.label} is out of disk space for the deploy: ${mb(needed)} to upload into ${root}, ${mb(free)} free`,
    `free space on the target (old bundles under ${root}/bundles and objects under ${root}/objects can be deleted) or set cacheRoot to a bigger filesystem`,
  );
}

const SHA256_CMD = 'if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi';

/** Checks uploaded temp files hash to their names on the target, then renames them into objects/ read-only. */
async function commitUploads(conn: SshConnection, root: string, pending: { tmp: string; file: BundleFile }[]): Promise<void> {
  if (pending.length === 0) return;
  const out = await mustSucceed(conn, 'hashing uploads', `set -- ${pending.map((p) => q(p.tmp)).join(' ')}; ${SHA256_CMD}`);
  const got = new Map(out.split('\n').map((l) => [l.slice(66).trim(), l.slice(0, 64)]));
  const script: string[] = ['set -e'];
  for (const p of pending) {
    const hash = got.get(p.tmp);
    if (hash !== p.file.sha256) {
      await conn.capture(`rm -f ${pending.map((x) => q(x.tmp)).join(' ')}`);
      throw targetError(
        `${p.file.relPath} arrived on ${conn.label} with sha256 ${hash ?? '(unreadable)'} instead of ${p.file.sha256}`,
        'run again; if it repeats, check the target storage for errors (dmesg) and that the local file is not being rewritten',
      );
    }
    const obj = `${root}/objects/${p.file.sha256}`;
    script.push(`chmod ${p.file.mode & 0o111 ? '0555' : '0444'} ${q(p.tmp)}`, `mv -f ${q(p.tmp)} ${q(obj)}`);
  }
  await mustSucceed(conn, 'committing uploads', 'sh -s', script.join('\n'));
}

/** Uploads the objects the target lacks, verifying each batch before it becomes visible under objects/. */
async function uploadObjects(conn: SshConnection, root: string, missing: BundleFile[], onBytes: (n: number) => void): Promise<void> {
  const sftp = await conn.sftp();
  const session = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  let pending: { tmp: string; file: BundleFile }[] = [];
  let pendingBytes = 0;
  let uploadedBytes = 0;
  const total = missing.reduce((s, f) => s + f.size, 0);
  for (const file of missing) {
    const tmp = `${root}/incoming/${file.sha256}.${session}`;
    try {
      await conn.orLost(sftpPut(sftp, file.localPath, tmp, onBytes));
    } catch (err) {
      if (err instanceof HilError) throw err;
      // A write failure and a dropped link look alike here; the exec below tells them apart.
      const free = await freeBytes(conn, root).catch((e: unknown) => {
        throw e instanceof HilError ? e : targetError(`connection to ${conn.label} was lost during upload`, 'check the target and the network; a re-run resumes where this stopped');
      });
      const remaining = total - uploadedBytes;
      if (free !== undefined && free < remaining) throw diskFull(conn, root, remaining, free);
      throw targetError(`uploading ${file.relPath} to ${conn.label} failed: ${(err as Error).message}`, 'check the cache folder on the target is writable (cacheRoot) and has space');
    }
    uploadedBytes += file.size;
    pending.push({ tmp, file });
    pendingBytes += file.size;
    if (pending.length >= BATCH_FILES || pendingBytes >= BATCH_BYTES) {
      await commitUploads(conn, root, pending);
      pending = [];
      pendingBytes = 0;
    }
  }
  await commitUploads(conn, root, pending);
}

/** Hard-links the bundle tree from objects/ in a temp folder, then renames it into place in one step. */
async function materialise(conn: SshConnection, root: string, id: string, files: BundleFile[]): Promise<string> {
  const final = `${root}/bundles/${id}`;
  const tmp = `${root}/bundles/.tmp-${id}-${randomBytes(4).toString('hex')}`;
  const dirs = new Set<string>();
  for (const f of files) dirs.add(path.posix.dirname(`${tmp}/${f.relPath}`));
  const script = ['set -e', `mkdir -p ${[...dirs].map(q).join(' ')}`];
  for (const f of files) {
    const obj = q(`${root}/objects/${f.sha256}`);
    const dst = q(`${tmp}/${f.relPath}`);
    if (f.mode & 0o111) script.push(`chmod a+x ${obj}`);
    // Hard links cost no space; a filesystem without them gets copies.
    script.push(`ln ${obj} ${dst} 2>/dev/null || cp ${obj} ${dst}`);
  }
  await mustSucceed(conn, 'building the bundle tree', 'sh -s', script.join('\n'));
  try {
    // SFTP rename refuses an existing target, where `mv` would move the temp folder inside it.
    await conn.orLost(sftpRename(await conn.sftp(), tmp, final));
  } catch (err) {
    if (err instanceof HilError) throw err;
    await conn.capture(`rm -rf ${q(tmp)}`);
    if (!(await conn.orLost(sftpStat(await conn.sftp(), final)))) {
      throw targetError(`cannot move the bundle into place on ${conn.label}: ${(err as Error).message}`, 'check the cache folder on the target is writable (cacheRoot)');
    }
  }
  return final;
}

/**
 * Deploys a bundle to a target into a content-addressed cache: objects the target already holds are not sent
 * again, each upload is checked against its sha256 on the target before it is renamed into the cache, and the
 * run's tree is assembled atomically from hard links. Ships this process's node when the target lacks one.
 */
export async function deployBundle(conn: SshConnection, bundleFiles: BundleFile[], opts: DeployOptions = {}): Promise<DeployResult> {
  const root = await resolveRemotePath(conn, opts.cacheRoot ?? DEFAULT_CACHE_ROOT);
  const target = opts.platform ?? (await probeRemotePlatform(conn, opts.node));
  const node = await chooseNode(conn, target);
  const files = 'ship' in node ? [...bundleFiles.filter((f) => f.relPath !== SHIPPED_NODE), node.ship] : bundleFiles;
  const id = bundleId(files);
  const finalDir = `${root}/bundles/${id}`;
  const nodePath = 'ship' in node ? `${finalDir}/${SHIPPED_NODE}` : node.nodePath;

  await mustSucceed(
    conn,
    'preparing the cache',
    `mkdir -p ${q(`${root}/objects`)} ${q(`${root}/bundles`)} ${q(`${root}/incoming`)} && ` +
      // Leftovers of deploys that were cut off; nothing live is that old.
      `{ find ${q(`${root}/incoming`)} -mindepth 1 -maxdepth 1 -mmin +120 -exec rm -rf {} +; ` +
      `find ${q(`${root}/bundles`)} -mindepth 1 -maxdepth 1 -name '.tmp-*' -mmin +120 -exec rm -rf {} +; } 2>/dev/null || true`,
  );
  const sftp = await conn.sftp();
  if (await conn.orLost(sftpStat(sftp, finalDir))) {
    return { remoteRoot: finalDir, nodePath, bundleId: id, sentFiles: 0, sentBytes: 0, reusedFiles: files.length };
  }
  const have = new Map((await conn.orLost(sftpReaddir(sftp, `${root}/objects`))).map((e) => [e.filename, e.attrs.size]));
  const unique = [...new Map(files.map((f) => [f.sha256, f])).values()];
  const missing = unique.filter((f) => have.get(f.sha256) !== f.size);
  const totalBytes = missing.reduce((s, f) => s + f.size, 0);
  const free = await freeBytes(conn, root);
  // Headroom for the tree's folders and the filesystem's own reserve.
  if (free !== undefined && free < totalBytes + 16 * 1048576) throw diskFull(conn, root, totalBytes, free);

  let sentBytes = 0;
  await uploadObjects(conn, root, missing, (n) => {
    sentBytes += n;
    opts.onProgress?.(sentBytes, totalBytes);
  });
  const remoteRoot = await materialise(conn, root, id, files);
  const missingShas = new Set(missing.map((f) => f.sha256));
  return {
    remoteRoot,
    nodePath,
    bundleId: id,
    sentFiles: missing.length,
    sentBytes,
    reusedFiles: files.filter((f) => !missingShas.has(f.sha256)).length,
  };
}

export interface RunRemoteOptions {
  nodePath: string;
  remoteRoot: string;
  /** Node's arguments, relative to remoteRoot (the working directory): e.g. `dist/runner/main.js job.json`. */
  args: string[];
  /** A shell prefix the node command runs under, e.g. a cgroup launcher. */
  wrapper?: string;
  /** Variables exported to node (and its wrapper). */
  env?: Readonly<Record<string, string>>;
  onStdoutLine?: (line: string) => void;
  onStderr?: (chunk: string) => void;
  signal?: AbortSignal;
}

/**
 * Runs node in a deployed bundle. The runner is always abortable: aborting, or the connection dropping, sends
 * it SIGTERM, so a lost coordinator never leaves a runner holding the board. Death by signal N reads as exit
 * code 128+N (137 = SIGKILL, e.g. the OOM killer).
 */
export function runRemote(conn: SshConnection, opts: RunRemoteOptions): Promise<ExecResult> {
  const exports = Object.entries(opts.env ?? {}).map(([k, v]) => `export ${k}=${q(v)} && `).join('');
  const command = `cd ${q(opts.remoteRoot)} && ${exports}exec ${opts.wrapper ? `${opts.wrapper} ` : ''}${q(opts.nodePath)} ${opts.args.map(q).join(' ')}`;
  return conn.exec(command, {
    onStdoutLine: opts.onStdoutLine,
    onStderr: opts.onStderr,
    signal: opts.signal ?? new AbortController().signal,
  });
}
