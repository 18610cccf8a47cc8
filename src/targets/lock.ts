import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { z } from 'zod';
import { type HilError, targetError } from '../errors.js';
import { DEFAULT_CACHE_ROOT, resolveRemotePath } from './deploy.js';
import { shellQuote as q, type SshConnection } from './ssh.js';

/** Where the lock lives: this machine, or a board over SSH. One lock per machine, whatever the profile name. */
export type LockTarget = { kind: 'local'; cacheRoot?: string } | { kind: 'ssh'; conn: SshConnection; cacheRoot?: string };

const OwnerSchema = z.object({
  host: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
  target: z.string(),
  token: z.string(),
});
export type LockOwner = z.infer<typeof OwnerSchema>;

export interface TargetLock {
  owner: LockOwner;
  /** Removes the lock if it is still ours; never throws (it runs in finally blocks). */
  release(): Promise<void>;
}

export interface LockOptions {
  /** A lock older than this is taken to be left over from a crash. Default 24 h (longer than any benchmark). */
  maxAgeMs?: number;
  /** How long to wait for a busy target before giving up (default 0: fail at once). */
  waitMs?: number;
  /** Called once when the target is busy and we start waiting, with a line naming the holder. */
  onWait?: (holder: string) => void;
}

const LOCK_POLL_MS = 500;

/** A lock dir without a readable owner is a holder that died between mkdir and writing the owner file. */
const OWNERLESS_GRACE_MS = 60_000;

interface Held {
  ownerText: string | undefined;
  ageMs: number;
}

/** The few primitives a lock needs, on one machine or the other. */
interface LockStore {
  where: string;
  /** Creates the lock dir with the owner inside; returns what holds it when it already exists. */
  tryCreate(ownerText: string): Promise<{ ok: true } | { ok: false; held: Held }>;
  /** Moves the lock aside if its owner file still reads `seenText` (so a fresh lock is never broken). */
  breakIf(seenText: string | undefined): Promise<void>;
  removeIfToken(token: string): Promise<void>;
}

function localStore(cacheRoot: string): LockStore {
  const dir = path.join(cacheRoot, 'lock');
  const ownerFile = path.join(dir, 'owner.json');
  const readOwner = () => fs.readFile(ownerFile, 'utf8').catch(() => undefined);
  return {
    where: dir,
    async tryCreate(ownerText) {
      await fs.mkdir(cacheRoot, { recursive: true });
      try {
        await fs.mkdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const st = await fs.stat(dir).catch(() => undefined);
        return { ok: false, held: { ownerText: await readOwner(), ageMs: st ? Date.now() - st.mtimeMs : 0 } };
      }
      await fs.writeFile(ownerFile, ownerText);
      return { ok: true };
    },
    async breakIf(seenText) {
      if ((await readOwner()) !== seenText) return;
      const aside = `${dir}.stale-${randomBytes(4).toString('hex')}`;
      await fs.rename(dir, aside).catch(() => undefined);
      await fs.rm(aside, { recursive: true, force: true });
    },
    async removeIfToken(token) {
      const text = await readOwner();
      if (text !== undefined && parseOwner(text)?.token === token) await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

function remoteStore(conn: SshConnection, cacheRoot: string): LockStore {
  const dir = `${cacheRoot}/lock`;
  const ownerFile = `${dir}/owner.json`;
  const run = async (what: string, script: string) => {
    const res = await conn.capture('sh -s', script);
    if (res.exitCode !== 0) {
      throw targetError(`${what} on ${conn.label} failed: ${res.stderr.trim() || `exit ${res.exitCode}`}`, 'check the cache folder on the target is writable (cacheRoot)');
    }
    return res.stdout;
  };
  return {
    where: `${conn.label}:${dir}`,
    async tryCreate(ownerText) {
      const out = await run(
        'taking the target lock',
        [
          `mkdir -p ${q(cacheRoot)}`,
          `if mkdir ${q(dir)} 2>/dev/null; then printf '%s' ${q(ownerText)} > ${q(ownerFile)}; echo ACQUIRED; exit 0; fi`,
          `echo "AGE $(( $(date +%s) - $(stat -c %Y ${q(dir)} 2>/dev/null || date +%s) ))"`,
          `cat ${q(ownerFile)} 2>/dev/null; true`,
        ].join('\n'),
      );
      if (out.startsWith('ACQUIRED')) return { ok: true };
      const [ageLine, ...rest] = out.split('\n');
      const heldText = rest.join('\n');
      return { ok: false, held: { ownerText: heldText === '' ? undefined : heldText, ageMs: Number(ageLine.slice(4)) * 1000 } };
    },
    async breakIf(seenText) {
      const aside = `${dir}.stale-${randomBytes(4).toString('hex')}`;
      await run(
        'breaking a stale target lock',
        `if [ "$(cat ${q(ownerFile)} 2>/dev/null)" = ${q(seenText ?? '')} ]; then mv ${q(dir)} ${q(aside)} 2>/dev/null && rm -rf ${q(aside)}; fi; true`,
      );
    },
    async removeIfToken(token) {
      await run('releasing the target lock', `if grep -qF ${q(`"token":"${token}"`)} ${q(ownerFile)} 2>/dev/null; then rm -rf ${q(dir)}; fi; true`);
    },
  };
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const r = OwnerSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a held lock was left by a run that cannot still be going. */
function isStale(held: Held, maxAgeMs: number): boolean {
  const owner = held.ownerText === undefined ? undefined : parseOwner(held.ownerText);
  if (!owner) return held.ageMs > OWNERLESS_GRACE_MS;
  if (owner.host === os.hostname() && !pidAlive(owner.pid)) return true;
  const age = Date.now() - Date.parse(owner.startedAt);
  return Number.isFinite(age) && age > maxAgeMs;
}

function busyError(name: string, store: LockStore, held: Held): HilError {
  const owner = held.ownerText === undefined ? undefined : parseOwner(held.ownerText);
  const holder = owner
    ? `a benchmark on ${owner.target} from ${owner.host} (pid ${owner.pid}, started ${owner.startedAt})`
    : 'another run (its owner file is not written yet)';
  return targetError(
    `target ${name} is busy: ${holder} holds the lock ${store.where}`,
    'wait for that run to finish; if it is dead on another host, remove the lock folder',
  );
}

/**
 * Takes the one-benchmark-at-a-time lock of a target (mkdir is atomic on every filesystem). A lock left by a
 * dead run is broken: a holder on this host whose pid is gone, a lock older than maxAgeMs, or one whose owner
 * file never appeared. A live holder makes this throw, naming it.
 */
export async function acquireTargetLock(target: LockTarget, name: string, opts: LockOptions = {}): Promise<TargetLock> {
  const store =
    target.kind === 'local'
      ? localStore(target.cacheRoot ?? path.join(os.homedir(), '.cache', 'hil'))
      : remoteStore(target.conn, await resolveRemotePath(target.conn, target.cacheRoot ?? DEFAULT_CACHE_ROOT));
  const owner: LockOwner = {
    host: os.hostname(),
    pid: process.pid,
    startedAt: new Date().toISOString(),
    target: name,
    token: randomBytes(12).toString('hex'),
  };
  const ownerText = JSON.stringify(owner);
  const release = () => store.removeIfToken(owner.token).catch(() => undefined);
  let res = await store.tryCreate(ownerText);
  const maxAgeMs = opts.maxAgeMs ?? 24 * 3600_000;
  const deadline = Date.now() + (opts.waitMs ?? 0);
  let announced = false;
  // A benchmark in progress is waited for (measuring beside it would disturb both), up to waitMs.
  while (!res.ok && !isStale(res.held, maxAgeMs) && Date.now() < deadline) {
    if (!announced) opts.onWait?.(busyError(name, store, res.held).message);
    announced = true;
    await sleep(LOCK_POLL_MS);
    res = await store.tryCreate(ownerText);
  }
  if (!res.ok) {
    if (!isStale(res.held, maxAgeMs)) throw busyError(name, store, res.held);
    await store.breakIf(res.held.ownerText);
    // Someone else may have broken it and taken it first; then they hold it.
    res = await store.tryCreate(ownerText);
    if (!res.ok) throw busyError(name, store, res.held);
  }
  return { owner, release };
}

/** Runs `fn` holding the target's lock, releasing it however `fn` ends. */
export async function withTargetLock<T>(target: LockTarget, name: string, fn: () => Promise<T>, opts?: LockOptions): Promise<T> {
  const lock = await acquireTargetLock(target, name, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
