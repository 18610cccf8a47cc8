import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { registerData } from '../../src/cli/data.js';
import { HilError } from '../../src/errors.js';
import { openRaster } from '../../src/raster/tiff-reader.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('hil-data-cli-');

/** Runs `hil data …` in-process and returns what it printed on stdout. */
async function hil(...args: string[]): Promise<string> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
  registerData(program);
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(['node', 'hil', 'data', ...args]);
  } finally {
    spy.mockRestore();
  }
  return lines.join('');
}

async function failure(...args: string[]): Promise<HilError> {
  const err = await hil(...args).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HilError);
  return err as HilError;
}

describe('hil data synth', () => {
  it('writes the tile and reports it as JSON lines', async () => {
    const out = path.join(dir, 'cli.tif');
    const printed = await hil('synth', '--res', '60', '--size', '300', '--bands', 'rgbn', '--seed', '4', '--out', out, '--json');
    const events = printed.trim().split('\n').map((l) => JSON.parse(l) as { ev: string; done?: number; total?: number; result?: Record<string, unknown> });
    expect(events.filter((e) => e.ev === 'progress').at(-1)).toMatchObject({ done: 4, total: 4 });
    expect(events.at(-1)).toMatchObject({ ev: 'done', result: { path: out, width: 300, height: 300, bands: ['B02', 'B03', 'B04', 'B08'], res: 60, seed: 4 } });
    const reader = await openRaster(out);
    await reader.close();
    expect(reader.info.bandNames).toEqual(['B02', 'B03', 'B04', 'B08']);
  });

  it.each([
    [['--res', '30'], /--res 30 is not a Sentinel-2 resolution — use --res 10/],
    [['--res', '60', '--size', '-5'], /--size -5 is not a positive integer/],
    [['--res', '60', '--size', '1.5'], /--size 1.5 is not a positive integer/],
    [['--res', '60', '--seed', 'abc'], /--seed abc is not an integer/],
    [['--res', '60', '--size', '10', '--bands', 'B02,B99'], /unknown Sentinel-2 band B99/],
  ])('refuses %j with a one-line fix', async (flags, pattern) => {
    const err = await failure('synth', ...flags, '--out', path.join(dir, 'bad.tif'));
    expect(err.oneLine()).toMatch(pattern);
    expect(err.fix).toBeTruthy();
    expect(await fs.readdir(dir)).not.toContain('bad.tif');
  });

  it('refuses an output folder it cannot write', async () => {
    const file = path.join(dir, 'not-a-folder');
    await fs.writeFile(file, '');
    const err = await failure('synth', '--res', '60', '--size', '10', '--out', path.join(file, 'x.tif'));
    expect(err.kind).toBe('output');
    expect(err.oneLine()).toMatch(/not writable/);
  });
});
