import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliEntry, hil } from '../helpers/cli.js';
import { haveShared, sharedModelsDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

/** A run of three repeats in its own cache, resolved once it is measuring (it holds the lock by then). */
async function busyTarget(): Promise<{ cache: string; out: string; first: ChildProcessWithoutNullStreams; done: Promise<number | null> }> {
  const cache = tempDir('hil-lock-cache-');
  const out = tempDir('hil-lock-');
  // Warm the cache so the first run is a run, not a tile generation.
  expect(hil(['run', '--res', '60', '--ac-model', 'no-correction', '--out', out], { HIL_CACHE_DIR: cache }).code).toBe(0);
  const first = spawn(process.execPath, [cliEntry, 'run', '--res', '60', '--ac-model', 'no-correction', '--repeat', '3', '--out', out, '--json'], {
    env: { ...process.env, HIL_CACHE_DIR: cache },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const done = new Promise<number | null>((resolve) => first.on('close', resolve));
  await new Promise<void>((resolve) => first.stdout.on('data', (d: Buffer) => d.toString().includes('"ev":"start"') && resolve()));
  return { cache, out, first, done };
}

describe('one benchmark at a time per target', () => {
  it('makes a second coordinator wait for, or refuse, a target that is busy', async () => {
    const { cache, out, first, done } = await busyTarget();
    const refused = hil(['run', '--res', '60', '--ac-model', 'no-correction', '--lock-wait', '0', '--out', out], { HIL_CACHE_DIR: cache });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/local.*(busy|locked)/i);
    expect(refused.stderr).toContain(String(first.pid));
    const waited = hil(['run', '--res', '60', '--ac-model', 'no-correction', '--lock-wait', '300', '--out', out, '--json'], { HIL_CACHE_DIR: cache });
    expect(waited.stdout).toMatch(/^\{"ev":"waiting","holder":".*busy/m);
    expect(waited.code).toBe(0);
    expect(await done).toBe(0);
  });

  it('hil bench waits for, or refuses, a busy target as hil run does', async () => {
    if (!haveShared('models/dtacsnet')) return;
    const { cache, out, first, done } = await busyTarget();
    const bench = (wait: string) =>
      hil(['bench', '--model', 'CNN_corrector_phisat2', '--patch', '64', '--time', '100', '--lock-wait', wait, '--out', out, '--json'], { HIL_CACHE_DIR: cache, HIL_MODELS_DIR: sharedModelsDir });
    const refused = bench('0');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(String(first.pid));
    const waited = bench('300');
    expect(waited.stderr).toMatch(/^waiting: target local is busy/m);
    expect(waited.code, waited.stderr).toBe(0);
    // With --json, stdout stays one JSON document: the record.
    expect(JSON.parse(waited.stdout).record.bench).toBeDefined();
    expect(await done).toBe(0);
  });
});
