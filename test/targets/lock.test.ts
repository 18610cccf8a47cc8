import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { acquireTargetLock, withTargetLock, type LockTarget } from '../../src/targets/lock.js';
import { connectSsh, type SshConnection } from '../../src/targets/ssh.js';
import { canRunSshd, startSshd, type SshdFixture, connectOptionsFor } from '../helpers/sshd.js';
import { tempDir } from '../helpers/temp.js';

/** A pid that certainly belongs to no running process: one that just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

async function plantLock(cacheRoot: string, owner: Record<string, unknown> | undefined): Promise<void> {
  await fs.mkdir(path.join(cacheRoot, 'lock'), { recursive: true });
  if (owner) await fs.writeFile(path.join(cacheRoot, 'lock', 'owner.json'), JSON.stringify(owner));
}

const foreign = (startedAt: string) => ({ host: 'ci-runner-7', pid: 4242, startedAt, target: 'flatsat', token: 'x' });

/** The same contract on both kinds of target; `cacheRoot` is a local path either way (sshd runs here). */
function lockContract(label: string, setup: () => Promise<{ cacheRoot: string; target: () => Promise<LockTarget>; done: () => Promise<void> }>) {
  describe(label, () => {
    let env: Awaited<ReturnType<typeof setup>>;
    beforeAll(async () => {
      env = await setup();
    });
    afterAll(async () => {
      await env?.done();
    });

    it('lets one coordinator in and refuses a second, naming the holder; free again after release', async () => {
      const first = await acquireTargetLock(await env.target(), 'flatsat');
      const err = await acquireTargetLock(await env.target(), 'flatsat').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HilError);
      expect((err as HilError).message).toContain(`from ${os.hostname()} (pid ${process.pid}`);
      expect((err as HilError).message).toMatch(/target flatsat is busy/);
      await first.release();
      const second = await acquireTargetLock(await env.target(), 'flatsat');
      await second.release();
      await expect(fs.stat(path.join(env.cacheRoot, 'lock'))).rejects.toThrow(/ENOENT/);
    });

    it('releases when the locked work throws', async () => {
      await expect(withTargetLock(await env.target(), 'flatsat', () => Promise.reject(new Error('run failed')))).rejects.toThrow('run failed');
      await expect(fs.stat(path.join(env.cacheRoot, 'lock'))).rejects.toThrow(/ENOENT/);
    });

    it('breaks a lock whose holder on this host is dead', async () => {
      await plantLock(env.cacheRoot, { host: os.hostname(), pid: deadPid(), startedAt: new Date().toISOString(), target: 'flatsat', token: 'old' });
      const lock = await acquireTargetLock(await env.target(), 'flatsat');
      expect(JSON.parse(await fs.readFile(path.join(env.cacheRoot, 'lock', 'owner.json'), 'utf8')).token).toBe(lock.owner.token);
      await lock.release();
    });

    it('respects a fresh lock from another host, and breaks one older than the age limit', async () => {
      await plantLock(env.cacheRoot, foreign(new Date().toISOString()));
      await expect(acquireTargetLock(await env.target(), 'flatsat')).rejects.toThrow(/from ci-runner-7 \(pid 4242/);
      await fs.rm(path.join(env.cacheRoot, 'lock'), { recursive: true });
      await plantLock(env.cacheRoot, foreign(new Date(Date.now() - 3 * 3600_000).toISOString()));
      const lock = await acquireTargetLock(await env.target(), 'flatsat', { maxAgeMs: 3600_000 });
      await lock.release();
    });

    it('waits out a lock whose owner file is not written yet', async () => {
      await plantLock(env.cacheRoot, undefined);
      await expect(acquireTargetLock(await env.target(), 'flatsat')).rejects.toThrow(/owner file is not written yet/);
      await fs.rm(path.join(env.cacheRoot, 'lock'), { recursive: true });
    });

    it('never releases a lock that is no longer its own', async () => {
      const lock = await acquireTargetLock(await env.target(), 'flatsat');
      await fs.rm(path.join(env.cacheRoot, 'lock'), { recursive: true });
      await plantLock(env.cacheRoot, foreign(new Date().toISOString()));
      await lock.release();
      await expect(fs.stat(path.join(env.cacheRoot, 'lock', 'owner.json'))).resolves.toBeTruthy();
      await fs.rm(path.join(env.cacheRoot, 'lock'), { recursive: true });
    });
  });
}

lockContract('local target lock', async () => {
  const cacheRoot = tempDir('hil-lock-');
  return {
    cacheRoot,
    target: async () => ({ kind: 'local', cacheRoot }),
    done: () => fs.rm(cacheRoot, { recursive: true, force: true }),
  };
});

if (canRunSshd()) {
  lockContract('ssh target lock (real sshd)', async () => {
    const sshd: SshdFixture = await startSshd();
    const cacheRoot = path.join(sshd.dir, 'cache');
    const conns: SshConnection[] = [];
    // Each acquirer gets its own connection, like two coordinators would.
    const target = async (): Promise<LockTarget> => {
      const conn = await connectSsh(connectOptionsFor(sshd));
      conns.push(conn);
      return { kind: 'ssh', conn, cacheRoot };
    };
    return {
      cacheRoot,
      target,
      done: async () => {
        await Promise.all(conns.map((c) => c.close()));
        await sshd.stop();
      },
    };
  });
}
