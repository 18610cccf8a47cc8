import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultRecordSchema, type ResultRecord } from '../../src/results/schema.js';
import { gdal, hil } from '../helpers/cli.js';
import { haveShared, sharedModelsDir } from '../helpers/shared.js';
import { canRunSshd, startSshd } from '../helpers/sshd.js';
import { tempDir } from '../helpers/temp.js';

const ready = haveShared('models/dtacsnet') && canRunSshd();

describe.runIf(ready)('a board over SSH (a real sshd on loopback), capped by a memory cgroup on the board', () => {
  let sshd: Awaited<ReturnType<typeof startSshd>>;
  let dir: string;
  const configFor = (memoryBytes: number) => {
    const file = path.join(dir, `hil-${memoryBytes}.config.json`);
    writeFileSync(
      file,
      JSON.stringify({
        targets: {
          'loopback-board': {
            description: 'this machine reached over SSH, capped like the flatsat',
            computer: 'Loopback board',
            cpus: 2,
            memoryBytes,
            devices: [{ name: 'CPU', backend: 'onnxruntime' }],
            transport: { kind: 'ssh', host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKeyPath, knownHosts: sshd.knownHostsFile, cacheRoot: path.join(dir, 'board-cache') },
            limits: { memoryBytes, cpus: 1 },
          },
        },
      }),
    );
    return file;
  };
  const run = (config: string) =>
    hil(['--config', config, 'run', '--target', 'loopback-board', '--res', '60', '--scenario', 'ac', '--ac-model', 'CNN_corrector', '--models-dir', sharedModelsDir, '--out', dir, '--json']);
  const recordOf = (stdout: string): ResultRecord => ResultRecordSchema.parse(JSON.parse(stdout.trim().split('\n').at(-1)!).record);

  beforeAll(async () => {
    sshd = await startSshd();
    dir = tempDir('hil-ssh-e2e-');
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('deploys, runs under the board’s 1.7 GB limit, fetches the output, and re-sends nothing the second time', () => {
    const config = configFor(1_700_000_000);
    const first = run(config);
    expect(first.stderr.split('\n').filter((l) => l.startsWith('hil:'))).toEqual([]);
    expect(first.code).toBe(0);
    const r1 = recordOf(first.stdout);
    expect(r1.status).toBe('ok');
    expect(r1.target).toMatchObject({ name: 'loopback-board', transport: 'ssh' });
    expect(r1.target.limits?.note).toMatch(/remote cgroup v[12]; swap off/);
    expect(r1.memory.cgroupPeakBytes).toBeGreaterThan(0);
    expect(r1.memory.cgroupPeakBytes).toBeLessThan(1_700_000_000);
    expect(r1.environment?.cores).toBeGreaterThan(0);
    // The board's one CPU of quota, read by the runner on the board, sets the model's threads.
    expect(r1.models.ac?.threads).toBe(1);
    expect(r1.deploy?.sentFiles).toBeGreaterThan(0);
    const info = JSON.parse(gdal('gdalinfo', ['-json', r1.outputs.ac]));
    expect(info.size).toEqual([1830, 1830]);
    expect(info.bands).toHaveLength(12);

    const second = recordOf(run(config).stdout);
    expect(second.status).toBe('ok');
    expect(second.deploy).toMatchObject({ sentFiles: 0, sentBytes: 0 });
    expect(second.deploy!.reusedFiles).toBe(r1.deploy!.sentFiles + r1.deploy!.reusedFiles);
  });

  it('checks the board through the same transport, and refuses a host key it was not told to trust', () => {
    const ok = hil(['--config', configFor(1_700_000_000), 'targets', 'check', 'loopback-board', '--json']);
    expect(ok.code).toBe(0);
    const checks = JSON.parse(ok.stdout).checks.map((c: { check: string; ok: boolean }) => [c.check, c.ok]);
    expect(checks).toEqual(expect.arrayContaining([['connect', true], ['runner', true], ['limits', true], ['node', true], ['onnxruntime', true], ['device CPU', true]]));
    // The runner probes from inside the board's cgroup, so it sees the quota the models' threads follow.
    expect(JSON.parse(ok.stdout).checks.find((c: { check: string }) => c.check === 'cpu').detail).toMatch(/models run on 1 thread \(CPU quota 1\)$/);

    const strange = path.join(dir, 'strange_known_hosts');
    writeFileSync(strange, `[${sshd.host}]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`);
    const config = configFor(1_700_000_000);
    const text = readFileSync(config, 'utf8').replace(JSON.stringify(sshd.knownHostsFile), JSON.stringify(strange));
    writeFileSync(config, text);
    const bad = hil(['--config', config, 'targets', 'check', 'loopback-board']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/connect\s+FAIL/);
    expect(bad.stdout).toContain(sshd.hostFingerprint);
    const run = hil(['--config', config, 'run', '--target', 'loopback-board', '--res', '60', '--out', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(sshd.hostFingerprint);
  });

  it('benchmarks a model per patch on the board through the same transport', () => {
    const r = hil(['--config', configFor(1_700_000_000), 'bench', '--target', 'loopback-board', '--model', 'CNN_corrector', '--patch', '256', '--time', '300', '--models-dir', sharedModelsDir, '--out', dir, '--json']);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('hil:'))).toEqual([]);
    expect(r.code).toBe(0);
    const { record } = JSON.parse(r.stdout);
    expect(record.target).toMatchObject({ name: 'loopback-board', transport: 'ssh' });
    expect(record.bench.steady.meanMs).toBeGreaterThan(0);
    expect(record.environment.cores).toBeGreaterThan(0);
  });

  it('records a run that needs more than the board’s memory as oom', () => {
    const r = run(configFor(120_000_000));
    expect(r.code).toBe(1);
    const record = recordOf(r.stdout);
    expect(record.status).toBe('oom');
    // The board keeps its cache, never a run's leftovers.
    expect(readdirSync(path.join(dir, 'board-cache', 'runs'))).toEqual([]);
  });
});
