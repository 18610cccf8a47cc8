import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { runSen2Cor } from '../../src/sen2cor-adapter/run.js';
import { parseSen2CorVersion } from '../../src/sen2cor-adapter/version.js';
import { haveShared, haveTool } from '../helpers/shared.js';
import { FAKE_L2A_PROCESS, makeL1CSafe } from './l1c-safe.js';
import { tempDir } from '../helpers/temp.js';

describe('parseSen2CorVersion', () => {
  it('reads the banner of 2.10 and older releases', () => {
    expect(parseSen2CorVersion('\nSen2Cor. Version: 02.10.01, created: 2022.01.20, supporting ...')).toEqual({
      raw: '02.10.01',
      full: '2.10.01',
      short: '2.10',
    });
    expect(parseSen2CorVersion('Sen2Cor Version: 2.9')?.short).toBe('2.9');
    expect(parseSen2CorVersion('no banner here')).toBeUndefined();
  });
});

const ready = haveShared('data/s2cloudless-optimized') && haveTool('gdal_translate');

describe.skipIf(!ready)('runSen2Cor with the fake L2A_Process', { timeout: 30_000 }, () => {
  const tmp = () => tempDir('hil-s2c-');
  const safe = ready ? makeL1CSafe() : '';
  const base = () => {
    const d = tmp();
    return { safe, outputDir: path.join(d, 'out'), workDir: path.join(d, 'work'), l2aProcess: FAKE_L2A_PROCESS };
  };

  it('runs, measures and finds the product; a memory hog shows a larger peak', async () => {
    const plain = await runSen2Cor({ ...base(), resolution: 20 });
    expect(plain.status).toBe('ok');
    expect(plain.version?.short).toBe('2.10');
    expect(plain.exitCode).toBe(0);
    expect(plain.product).toMatch(/S2A_MSIL2A_20150726T105026_N9999_R051_T31TDH_\d{8}T\d{6}\.SAFE$/);
    expect(plain.wallMs).toBeGreaterThan(0);
    expect(plain.peakSource).toBe('proc');
    expect(plain.peakRssBytes).toBeGreaterThan(10 * 2 ** 20); // node alone is ~40 MB
    expect(plain.logTail).toMatch(/terminated successfully/);

    const hog = await runSen2Cor({ ...base(), resolution: 20, env: { ...process.env, FAKE_SEN2COR_HOG_MB: '200' } });
    expect(hog.status).toBe('ok');
    expect(hog.peakRssBytes).toBeGreaterThan(plain.peakRssBytes + 150 * 2 ** 20);
  });

  it('runs through bash when given an L2A_Bashrc', async () => {
    const d = tmp();
    const bashrc = path.join(d, 'L2A_Bashrc');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bashrc, `export PATH="${path.dirname(FAKE_L2A_PROCESS)}:$PATH"\n`);
    const { l2aProcess: _unused, ...rest } = base();
    const run = await runSen2Cor({ ...rest, resolution: 60, bashrc });
    expect(run.command.slice(0, 2)).toEqual(['bash', '-c']);
    expect(run.status).toBe('ok');

    writeFileSync(bashrc, 'export SEN2COR_HOME=/nowhere\n');
    await expect(runSen2Cor({ ...rest, resolution: 60, bashrc, env: { PATH: '/usr/bin:/bin' } })).rejects.toThrow(
      /L2A_Process after sourcing .* was not found/,
    );
  });

  it('reports oom when the tree passes the memory limit', async () => {
    const run = await runSen2Cor({
      ...base(),
      resolution: 20,
      memoryLimitBytes: 150 * 2 ** 20,
      env: { ...process.env, FAKE_SEN2COR_HOG_MB: '400' },
    });
    expect(run.status).toBe('oom');
    expect(run.signal).toBe('SIGKILL');
  });

  it('reports an error for a failing exit code and for a missing product', async () => {
    const failed = await runSen2Cor({ ...base(), resolution: 20, env: { ...process.env, FAKE_SEN2COR_EXIT: '3' } });
    expect(failed.status).toBe('error');
    expect(failed.exitCode).toBe(3);
    expect(failed.message).toMatch(/exit code 3/);
    expect(failed.logTail).toMatch(/Error in atmospheric correction/);

    const empty = await runSen2Cor({ ...base(), resolution: 20, env: { ...process.env, FAKE_SEN2COR_NO_PRODUCT: '1' } });
    expect(empty.status).toBe('error');
    expect(empty.exitCode).toBe(0);
    expect(empty.product).toBeUndefined();
    expect(empty.message).toMatch(/wrote no S2X_MSIL2A/);
  });

  it('refuses a missing L2A_Process and an input that is not an L1C SAFE', async () => {
    const err = await runSen2Cor({ ...base(), resolution: 20, l2aProcess: '/nowhere/L2A_Process' }).catch((e) => e);
    expect(err).toBeInstanceOf(HilError);
    expect(err.oneLine()).toMatch(/L2A_Process at \/nowhere\/L2A_Process was not found — install Sen2Cor/);
    const { l2aProcess: _unused, ...rest } = base();
    await expect(runSen2Cor({ ...rest, resolution: 20, env: { PATH: '/usr/bin:/bin' } })).rejects.toThrow(/on PATH was not found/);
    await expect(runSen2Cor({ ...base(), safe: tmp(), resolution: 20 })).rejects.toThrow(/not a Sentinel-2 L1C product/);
  });

  it('uses an injected spawn (e.g. to enter a cgroup)', async () => {
    const { spawn } = await import('node:child_process');
    const seen: string[] = [];
    const run = await runSen2Cor({
      ...base(),
      resolution: 60,
      spawn: (cmd, args, options) => {
        seen.push(cmd);
        return spawn(cmd, args, options);
      },
    });
    expect(seen).toEqual([FAKE_L2A_PROCESS]);
    expect(run.status).toBe('ok');
  });
});
