import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { buildBundle, type Bundle } from '../../src/targets/bundle.js';
import { deployBundle, probeRemotePlatform, runRemote } from '../../src/targets/deploy.js';
import { RUNNER_ENV } from '../../src/targets/runner-env.js';
import { connectSsh, type SshConnectOptions, type SshConnection } from '../../src/targets/ssh.js';
import { canRunSshd, startSshd, type SshdFixture, connectOptionsFor } from '../helpers/sshd.js';
import { tempDir } from '../helpers/temp.js';

const enabled = canRunSshd();

const RUNNER = `
import { readFileSync } from 'node:fs';
const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
console.error('runner: starting');
console.log(JSON.stringify({ ev: 'start', node: process.version, cwd: process.cwd() }));
console.log(JSON.stringify({ ev: 'done', result: job }));
`;

async function writeFile(file: string, data: string | Buffer): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, data);
}

/** A project tree shaped like the real one, small enough to deploy in a blink, with one multi-MB file. */
async function makeProject(dir: string): Promise<void> {
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'fake', type: 'module' }));
  await writeFile(path.join(dir, 'dist/runner/main.js'), RUNNER);
  // Enough small files for one verified batch to be committed before the big file goes up.
  for (let i = 0; i < 70; i++) await writeFile(path.join(dir, `dist/lib/m${i}.js`), `export const m${i} = ${i};\n`);
  await writeFile(path.join(dir, 'dist/weights.bin'), randomBytes(6 * 1024 * 1024));
  const pkg = (name: string, deps: Record<string, string> = {}) =>
    writeFile(path.join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, dependencies: deps }));
  await pkg('a', { b: '1' });
  await pkg('b');
  await writeFile(path.join(dir, 'node_modules/b/index.js'), 'export default 1;\n');
  await pkg('onnxruntime-node', { 'onnxruntime-common': '1' });
  await pkg('onnxruntime-common');
  for (const [plat, arch] of [['linux', 'x64'], ['linux', 'arm64'], ['darwin', 'arm64']]) {
    await writeFile(path.join(dir, `node_modules/onnxruntime-node/bin/napi-v6/${plat}/${arch}/onnxruntime_binding.node`), `${plat}-${arch}`);
  }
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every cached object must hash to its own name: the invariant a cut upload must not break. */
async function assertObjectsIntact(cacheRoot: string): Promise<number> {
  const dir = path.join(cacheRoot, 'objects');
  const names = await fs.readdir(dir);
  for (const n of names) expect(sha256(await fs.readFile(path.join(dir, n)))).toBe(n);
  return names.length;
}

/** A TCP relay to sshd that cuts both sides once `limit` bytes have gone from client to server. */
async function cuttingProxy(port: number, limit: number): Promise<{ port: number; close(): void }> {
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    let sent = 0;
    client.on('data', (d: Buffer) => {
      sent += d.length;
      if (sent > limit) {
        client.destroy();
        upstream.destroy();
        return;
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

function canMountTmpfs(): boolean {
  if (!enabled) return false;
  const dir = tempDir('hil-tmpfs-probe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    const why = 'mounting a tmpfs is not permitted here';
    if (process.env.HIL_REQUIRE_SHARED === '1') throw new Error(`HIL_REQUIRE_SHARED=1 but ${why}`);
    console.warn(`skipping the disk-full tests: ${why}`);
    return false;
  }
}

describe('buildBundle', () => {
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('hil-bundle-');
    await makeProject(dir);
  });

  it('collects dist, package.json, dependencies transitively, and only the target platform binaries', async () => {
    const job = path.join(dir, 'job.json');
    await fs.writeFile(job, '{"n":1}');
    const b = await buildBundle({
      projectRoot: dir,
      platform: 'linux',
      arch: 'arm64',
      rootPackages: ['a', 'onnxruntime-node'],
      extraFiles: [{ localPath: job, relPath: 'job.json' }],
    });
    const rels = b.files.map((f) => f.relPath);
    expect(rels).toContain('dist/runner/main.js');
    expect(rels).toContain('package.json');
    expect(rels).toContain('node_modules/b/index.js');
    expect(rels).toContain('node_modules/onnxruntime-common/package.json');
    expect(rels).toContain('node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node');
    expect(rels.filter((r) => r.includes('/bin/napi-v6/'))).toHaveLength(1);
    expect(b.files.find((f) => f.relPath === 'job.json')?.sha256).toBe(sha256(Buffer.from('{"n":1}')));
    expect(b.id).toMatch(/^[0-9a-f]{64}$/);
    const again = await buildBundle({ projectRoot: dir, platform: 'linux', arch: 'arm64', rootPackages: ['a', 'onnxruntime-node'], extraFiles: [{ localPath: job, relPath: 'job.json' }] });
    expect(again.id).toBe(b.id);
    await fs.writeFile(job, '{"n":2}');
    const changed = await buildBundle({ projectRoot: dir, platform: 'linux', arch: 'arm64', rootPackages: ['a', 'onnxruntime-node'], extraFiles: [{ localPath: job, relPath: 'job.json' }] });
    expect(changed.id).not.toBe(b.id);
  });

  it('refuses a platform onnxruntime-node has no binary for, and a missing dependency', async () => {
    await expect(buildBundle({ projectRoot: dir, platform: 'linux', arch: 'riscv64', rootPackages: ['onnxruntime-node'] })).rejects.toThrow(/no native binary for linux\/riscv64/);
    await expect(buildBundle({ projectRoot: dir, platform: 'linux', arch: 'x64', rootPackages: ['nope'] })).rejects.toThrow(/package nope \(needed by the runner\) is not installed/);
  });

  it('walks the real runtime packages of this checkout', async () => {
    const proj = tempDir('hil-bundle-real-');
    try {
      await writeFile(path.join(proj, 'package.json'), '{}');
      await writeFile(path.join(proj, 'dist/runner/main.js'), RUNNER);
      await fs.symlink(path.resolve('node_modules'), path.join(proj, 'node_modules'));
      const b = await buildBundle({ projectRoot: proj, platform: 'linux', arch: 'x64' });
      const rels = b.files.map((f) => f.relPath);
      expect(rels).toContain('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node');
      expect(rels.some((r) => /napi-v6\/(darwin|win32)|linux\/arm64/.test(r))).toBe(false);
      // geotiff's own dependencies come along.
      expect(rels.some((r) => r.startsWith('node_modules/pako/'))).toBe(true);
      expect(rels.some((r) => r.startsWith('node_modules/systeminformation/'))).toBe(true);
      expect(rels.some((r) => r.startsWith('node_modules/vitest/'))).toBe(false);
    } finally {
      await fs.rm(proj, { recursive: true, force: true });
    }
  });
});

describe.runIf(enabled)('deploy over a real sshd', () => {
  let sshd: SshdFixture;
  let base: SshConnectOptions;
  let project: string;
  let cacheRoot: string;
  let bundle: Bundle;
  const tmpfsMounts: string[] = [];

  beforeAll(async () => {
    sshd = await startSshd();
    base = connectOptionsFor(sshd);
    project = path.join(sshd.dir, 'project');
    await makeProject(project);
    await fs.writeFile(path.join(project, 'job.json'), JSON.stringify({ tile: 'T31TCJ' }));
    cacheRoot = path.join(sshd.dir, 'cache');
    bundle = await buildBundle({
      projectRoot: project,
      platform: process.platform,
      arch: process.arch,
      rootPackages: ['a', 'onnxruntime-node'],
      extraFiles: [{ localPath: path.join(project, 'job.json'), relPath: 'job.json' }],
    });
  });
  afterAll(async () => {
    for (const m of tmpfsMounts) execFileSync('umount', [m], { stdio: 'ignore' });
    await sshd?.stop();
  });

  async function withConn<T>(fn: (c: SshConnection) => Promise<T>, opts: Partial<SshConnectOptions> = {}): Promise<T> {
    const conn = await connectSsh({ ...base, ...opts });
    try {
      return await fn(conn);
    } finally {
      await conn.close();
    }
  }

  it('probes the target platform and node', async () => {
    const p = await withConn((c) => probeRemotePlatform(c));
    expect(p.platform).toBe(process.platform);
    expect(p.arch).toBe(process.arch);
    expect(p.libc).toBe('glibc');
    expect(p.node?.version).toMatch(/^v\d+\./);
  });

  it('survives a connection cut mid-upload: no corrupt object, and the next deploy completes', { timeout: 20_000 }, async () => {
    const proxy = await cuttingProxy(sshd.port, 3 * 1024 * 1024);
    try {
      const err = await withConn((c) => deployBundle(c, bundle.files, { cacheRoot }), {
        port: proxy.port,
        hostKey: { fingerprint: sshd.hostFingerprint },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HilError);
      expect((err as HilError).message).toMatch(/lost/);
    } finally {
      proxy.close();
    }
    // The first batch made it into the cache; the big file was cut and only its temp copy exists.
    expect(await assertObjectsIntact(cacheRoot)).toBeGreaterThanOrEqual(64);
    const weights = bundle.files.find((f) => f.relPath === 'dist/weights.bin')!;
    const partial = (await fs.readdir(path.join(cacheRoot, 'incoming'))).filter((n) => n.startsWith(weights.sha256));
    expect(partial).toHaveLength(1);
    expect((await fs.stat(path.join(cacheRoot, 'incoming', partial[0]))).size).toBeLessThan(weights.size);
    await expect(fs.readdir(path.join(cacheRoot, 'bundles'))).resolves.toEqual([]);
    const res = await withConn((c) => deployBundle(c, bundle.files, { cacheRoot }));
    expect(res.sentFiles).toBeGreaterThan(0);
    expect(await assertObjectsIntact(cacheRoot)).toBe(new Set(bundle.files.map((f) => f.sha256)).size);
    for (const f of bundle.files) {
      expect(sha256(await fs.readFile(path.join(res.remoteRoot, f.relPath)))).toBe(f.sha256);
    }
  });

  it('sends nothing on a second deploy, and only the changed file after a change', async () => {
    await withConn((c) => deployBundle(c, bundle.files, { cacheRoot }));
    const first = await withConn((c) => deployBundle(c, bundle.files, { cacheRoot }));
    expect(first).toMatchObject({ sentFiles: 0, sentBytes: 0, reusedFiles: bundle.files.length });
    const job2 = path.join(project, 'job2.json');
    const job2Data = Buffer.from(JSON.stringify({ tile: 'T32TMK' }));
    await fs.writeFile(job2, job2Data);
    const files = bundle.files.map((f) => (f.relPath === 'job.json' ? { ...f, localPath: job2, sha256: sha256(job2Data), size: job2Data.length } : f));
    const second = await withConn((c) => deployBundle(c, files, { cacheRoot }));
    expect(second).toMatchObject({ sentFiles: 1, sentBytes: job2Data.length, reusedFiles: files.length - 1 });
    expect(second.remoteRoot).not.toBe(first.remoteRoot);
  });

  it('runs node in the deployed bundle and streams its JSON lines', async () => {
    const events = await withConn(async (c) => {
      const dep = await deployBundle(c, bundle.files, { cacheRoot });
      const lines: string[] = [];
      let stderr = '';
      const res = await runRemote(c, {
        nodePath: dep.nodePath,
        remoteRoot: dep.remoteRoot,
        args: ['dist/runner/main.js', 'job.json'],
        onStdoutLine: (l) => lines.push(l),
        onStderr: (s) => {
          stderr += s;
        },
      });
      expect(res.exitCode).toBe(0);
      expect(stderr).toContain('runner: starting');
      return lines.map((l) => JSON.parse(l) as { ev: string; cwd?: string; result?: unknown });
    });
    expect(events.map((e) => e.ev)).toEqual(['start', 'done']);
    expect(events[1].result).toEqual({ tile: 'T31TCJ' });
  });

  it('runs under a wrapper prefix, with the runner environment exported', async () => {
    const out = await withConn(async (c) => {
      const dep = await deployBundle(c, bundle.files, { cacheRoot });
      const lines: string[] = [];
      await runRemote(c, {
        nodePath: dep.nodePath,
        remoteRoot: dep.remoteRoot,
        args: ['-e', 'console.log(process.env.HIL_WRAPPED, process.env.MALLOC_ARENA_MAX, process.env.HIL_SPACED)'],
        wrapper: 'env HIL_WRAPPED=yes',
        env: { ...RUNNER_ENV, HIL_SPACED: "a 'b' c" },
        onStdoutLine: (l) => lines.push(l),
      });
      return lines;
    });
    expect(out).toEqual(["yes 2 a 'b' c"]);
  });

  it('ships its own node binary when the target has none', async () => {
    const lines = await withConn(async (c) => {
      const dep = await deployBundle(c, bundle.files, { cacheRoot, node: 'hil-no-such-node' });
      expect(dep.nodePath).toBe(`${dep.remoteRoot}/.hil/node`);
      expect(dep.sentFiles).toBe(1);
      const out: string[] = [];
      await runRemote(c, { nodePath: dep.nodePath, remoteRoot: dep.remoteRoot, args: ['dist/runner/main.js', 'job.json'], onStdoutLine: (l) => out.push(l) });
      return out;
    });
    expect(JSON.parse(lines[0])).toMatchObject({ ev: 'start', node: process.version });
  }, 30_000);

  it.runIf(canMountTmpfs())('reports a full disk before uploading, and when a write fails for lack of space', async () => {
    const small = path.join(sshd.dir, 'small');
    await fs.mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small]);
    tmpfsMounts.push(small);
    const err = await withConn((c) => deployBundle(c, bundle.files, { cacheRoot: small })).catch((e: unknown) => e);
    expect((err as HilError).message).toMatch(/out of disk space/);
    expect((err as HilError).oneLine()).toMatch(/cacheRoot/);

    const roomy = path.join(sshd.dir, 'roomy');
    await fs.mkdir(roomy);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', roomy]);
    tmpfsMounts.push(roomy);
    let filled = false;
    const err2 = await withConn((c) =>
      deployBundle(c, bundle.files, {
        cacheRoot: roomy,
        // Something else eats the disk while the upload runs.
        onProgress: () => {
          if (filled) return;
          filled = true;
          execFileSync('fallocate', ['-l', '20m', path.join(roomy, 'filler')]);
        },
      }),
    ).catch((e: unknown) => e);
    expect(filled).toBe(true);
    expect((err2 as HilError).message).toMatch(/out of disk space/);
    await assertObjectsIntact(roomy);
  });
});
