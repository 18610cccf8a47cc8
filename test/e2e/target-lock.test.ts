import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEntry, hil } from '../helpers/cli.js';

describe('one benchmark at a time per target', () => {
  it('makes a second coordinator wait for, or refuse, a target that is busy', async () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'hil-lock-cache-'));
    const out = mkdtempSync(path.join(os.tmpdir(), 'hil-lock-'));
    // Warm the cache so the first run is a run, not a tile generation.
    expect(hil(['run', '--res', '60', '--ac-model', 'no-correction', '--out', out], { HIL_CACHE_DIR: cache }).code).toBe(0);
    const first = spawn(process.execPath, [cliEntry, 'run', '--res', '60', '--ac-model', 'no-correction', '--repeat', '3', '--out', out, '--json'], {
      env: { ...process.env, HIL_CACHE_DIR: cache },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Wait until the first run is measuring (it holds the lock by then).
    await new Promise<void>((resolve) => first.stdout.on('data', (d: Buffer) => d.toString().includes('"ev":"start"') && resolve()));
    const refused = hil(['run', '--res', '60', '--ac-model', 'no-correction', '--lock-wait', '0', '--out', out], { HIL_CACHE_DIR: cache });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/local.*(busy|locked)/i);
    expect(refused.stderr).toContain(String(first.pid));
    const firstDone = new Promise<number | null>((resolve) => first.on('close', resolve));
    const waited = hil(['run', '--res', '60', '--ac-model', 'no-correction', '--lock-wait', '300', '--out', out, '--json'], { HIL_CACHE_DIR: cache });
    expect(waited.stdout).toMatch(/^\{"ev":"waiting","holder":".*busy/m);
    expect(waited.code).toBe(0);
    expect(await firstDone).toBe(0);
  });
});
