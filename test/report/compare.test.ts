import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareTargets, comparisonView } from '../../src/report/compare.js';
import { BUILTIN_PROFILES } from '../../src/targets/builtin-profiles.js';
import type { TargetProfile } from '../../src/targets/profile.js';
import { hil } from '../helpers/cli.js';
import { record } from '../results/records.js';
import { tempDir } from '../helpers/temp.js';

const profile = (name: string): TargetProfile => BUILTIN_PROFILES.find((p) => p.name === name)!;
const board: TargetProfile = { ...profile('flatsat'), name: 'board', priceUsd: 20_000, powerW: 30 };
const vm: TargetProfile = { ...profile('gcp-vm-cpu'), priceUsd: 4_000, powerW: 200 };
const tile10 = { width: 10980, height: 10980 };

const records = [
  record({ target: 'board', computer: 'SpaceCloud', scenario: 'both', res: 10, times: [1_560_000, 1_570_000, 1_580_000], peaks: [1.2e9, 1.25e9, 1.3e9], input: tile10 }),
  record({ target: 'board', computer: 'SpaceCloud', scenario: 'both', res: 10, sc: 'Sen2Cor v2.10', ac: 'Sen2Cor v2.10', status: 'oom', input: tile10 }),
  record({ target: 'gcp-vm-cpu', computer: 'Google VM', scenario: 'both', res: 10, times: [255_000], peaks: [3e9], input: tile10 }),
  record({ target: 'gcp-vm-cpu', computer: 'Google VM', scenario: 'both', res: 10, sc: 'Sen2Cor v2.10', ac: 'Sen2Cor v2.10', times: [1_161_000], input: tile10 }),
  record({ target: 'flatsat-emu', scenario: 'both', res: 10, times: [60_000], input: { width: 512, height: 512 } }),
];

describe('compareTargets', () => {
  const c = compareTargets(records, [board, vm, profile('flatsat-emu'), profile('gcp-vm-t4')], { scenario: 'both', res: 10 });

  it('gives time per tile, tiles per day, memory fit, speed-up over Sen2Cor, cost and energy', () => {
    const dtacs = c.rows.find((r) => r.target === 'board' && r.model === 'unet + CNN_corrector')!;
    expect(dtacs).toMatchObject({ tileMs: 1_570_000, repeats: 3, peakBytes: 1.3e9, boardBytes: 1_700_000_000, fits: true, headroomBytes: 0.4e9 });
    expect(dtacs.tilesPerDay).toBeCloseTo(86_400 / 1570, 6);
    expect(dtacs.tilesPerDayPerKUsd).toBeCloseTo(86_400 / 1570 / 20, 6);
    expect(dtacs.energyWhPerTile).toBeCloseTo((30 * 1570) / 3600, 6);
    // Sen2Cor crashed on the board: it does not fit, and there is no time to take a speed-up from.
    expect(dtacs.speedupOverSen2Cor).toBeNull();
    expect(c.rows.find((r) => r.target === 'board' && r.model === 'Sen2Cor v2.10')).toMatchObject({ status: 'oom', fits: false, tileMs: null });
    const vmRow = c.rows.find((r) => r.target === 'gcp-vm-cpu' && r.model === 'unet + CNN_corrector')!;
    expect(vmRow.speedupOverSen2Cor).toBeCloseTo(1161 / 255, 6);
  });

  it('lists targets without a full-tile run as missing, never interpolated', () => {
    expect(c.missing).toEqual([
      { target: 'flatsat-emu', reason: 'only runs on a 512 × 512 px crop, not a full tile: hil run --target flatsat-emu --res 10 --scenario both' },
      { target: 'gcp-vm-t4', reason: 'no both run at 10 m: hil run --target gcp-vm-t4 --res 10 --scenario both' },
    ]);
    expect(c.rows.some((r) => r.target === 'flatsat-emu')).toBe(false);
  });

  it('prints fit and headroom in words', () => {
    const text = comparisonView(c).rows.map((r) => r.map((x) => x.text).join(' | '));
    expect(text[0]).toBe('board | unet + CNN_corrector | CPU | 26m 10s | 55.0 | 1.3 GB | fits (400 MB headroom of 1.7 GB) | - | 2.8 | 13.08 Wh');
    expect(text[1]).toMatch(/^board \| Sen2Cor v2.10 \| CPU \| Memory crash \| - \| - \| does not fit \(Memory crash in 1\.7 GB\)/);
    expect(text[2]).toMatch(/^gcp-vm-cpu \| unet \+ CNN_corrector .*\| 4\.6× \|/);
  });
});

describe('hil compare (CLI)', () => {
  const dir = tempDir('hil-compare-');
  for (const r of records) writeFileSync(path.join(dir, `${r.id}.json`), JSON.stringify(r));

  it('prints the table and the missing targets, or JSON', () => {
    const r = hil(['compare', '--targets', 'gcp-vm-cpu,gcp-vm-t4', '--res', '10', '--results', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| gcp-vm-cpu | unet + CNN_corrector | CPU | 4m 15s | 339 | 3.0 GB | fits');
    expect(r.stdout).toContain('Missing gcp-vm-t4: no both run at 10 m');
    const j = JSON.parse(hil(['compare', '--targets', 'gcp-vm-cpu', '--res', '10', '--results', dir, '--json']).stdout);
    expect(j.rows).toHaveLength(2);
  });

  it('refuses an unknown target with exit 2 and the known ones', () => {
    const r = hil(['compare', '--targets', 'gcp-vm-cpu,raspberry', '--results', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hil: unknown target raspberry — choose one of local, flatsat-emu/);
  });
});
