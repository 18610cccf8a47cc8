import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { parseEvent } from '../../src/runner/events.js';
import { tempPathFor, writeFileAtomic } from '../../src/util/atomic.js';
import { repoRoot } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

describe('runner event protocol', () => {
  it('parses protocol lines and ignores everything else', () => {
    expect(parseEvent('{"ev":"progress","stage":"ac","done":3,"total":16}')).toEqual({ ev: 'progress', stage: 'ac', done: 3, total: 16 });
    expect(parseEvent('{"ev":"error","kind":"oom","message":"x"}')).toMatchObject({ ev: 'error', kind: 'oom' });
    expect(parseEvent('warning: something')).toBeUndefined();
    expect(parseEvent('{"ev":"progress","done":"three"}')).toBeUndefined();
    expect(parseEvent('{not json')).toBeUndefined();
  });

  it('the runner reports a bad job as an error event on stdout and exits 2', () => {
    const dir = tempDir('hil-job-');
    const job = path.join(dir, 'job.json');
    writeFileSync(job, JSON.stringify({ schema: 'hil.job/1', scenario: 'ac' }));
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'dist/runner/main.js'), job], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    const events = r.stdout.trim().split('\n').map((l) => parseEvent(l));
    expect(events[0]).toMatchObject({ ev: 'start' });
    expect(events.at(-1)).toMatchObject({ ev: 'error', kind: 'input', message: expect.stringMatching(/job .* is invalid/) });
  });
});

describe('atomic writes', () => {
  it('replaces a file whole and leaves no temporary behind', async () => {
    const dir = tempDir('hil-atomic-');
    const file = path.join(dir, 'r.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['r.json']);
    expect(path.dirname(tempPathFor(file))).toBe(dir);
    expect(path.basename(tempPathFor(file))).toMatch(/^\.r\.json\.partial-/);
  });

  it('leaves the old file untouched when the write cannot complete', async () => {
    const dir = tempDir('hil-atomic-');
    await expect(writeFileAtomic(path.join(dir, 'missing-folder', 'r.json'), 'x')).rejects.toThrow();
    expect(existsSync(path.join(dir, 'missing-folder'))).toBe(false);
  });
});

describe('hil.config.json', () => {
  const write = (obj: unknown) => {
    const dir = tempDir('hil-config-');
    writeFileSync(path.join(dir, 'hil.config.json'), JSON.stringify(obj));
    return dir;
  };

  it('merges a partial override over a built-in profile', () => {
    const dir = write({ targets: { flatsat: { transport: { kind: 'ssh', host: '10.0.0.7', user: 'ops' } } } });
    const t = loadConfig({}, dir).targets.find((x) => x.name === 'flatsat')!;
    expect(t.transport).toMatchObject({ kind: 'ssh', host: '10.0.0.7', user: 'ops' });
    expect(t.memoryBytes).toBe(1_700_000_000);
  });

  it('refuses unknown keys and incomplete new targets, naming the place', () => {
    expect(() => loadConfig({}, write({ modelDir: 'x' }))).toThrow(/invalid at \(top\).*Unrecognized key.*modelDir/i);
    expect(() => loadConfig({}, write({ targets: { board: { cpus: 2 } } }))).toThrow(/target board .* incomplete/);
  });
});
