import { describe, expect, it } from 'vitest';
import { buildTable1, cellOf, renderTable1Markdown, table1View } from '../../src/report/table1.js';
import { literatureRecords } from '../../src/results/literature.js';
import { record } from '../results/records.js';

describe('Table 1 from measured records', () => {
  it('builds a MYRIAD/CPU row from separate stage runs, marked as derived, and bolds the fastest per computer and resolution', () => {
    const common = { target: 'flatsat', computer: 'SpaceCloud', res: 20, sc: 'unet', ac: 'CNN_corrector' } as const;
    const records = [
      record({ ...common, scenario: 'sc', devices: { sc: 'CPU' }, times: [321_000] }),
      record({ ...common, scenario: 'ac', devices: { ac: 'CPU' }, times: [143_000] }),
      record({ ...common, scenario: 'both', devices: { sc: 'CPU', ac: 'CPU' }, times: [445_000] }),
      record({ ...common, scenario: 'sc', devices: { sc: 'MYRIAD' }, times: [263_000] }),
      record({ ...common, scenario: 'ac', devices: { ac: 'MYRIAD' }, times: [241_000] }),
      record({ ...common, scenario: 'both', devices: { sc: 'MYRIAD', ac: 'MYRIAD' }, times: [504_000] }),
    ];
    const table = buildTable1(records, 'measured');
    expect(table.rows.map((r) => [r.model, r.device, r.cells.sc.text, r.cells.ac.text, r.cells.both.text, r.cells.both.bold, r.derived])).toEqual([
      ['unet + CNN_corrector', 'CPU', '5m 21s', '2m 23s', '7m 25s', false, false],
      ['unet + CNN_corrector', 'MYRIAD', '4m 23s', '4m 1s', '8m 24s', false, false],
      ['unet + CNN_corrector', 'MYRIAD/CPU', '4m 23s', '2m 23s', '6m 46s', true, true],
    ]);
    const md = renderTable1Markdown(records);
    expect(md).toContain('| | | MYRIAD/CPU † | 20 m | 4m 23s | 2m 23s | **6m 46s** | 300 MB |');
    expect(md).toContain('† derived from separate stage runs');
  });

  it('does not derive a composite row when one device is fastest at both stages, or when the pair was run', () => {
    const common = { computer: 'SpaceCloud', res: 10, sc: 'unet', ac: 'CNN_corrector' } as const;
    const rows = buildTable1(
      [
        record({ ...common, scenario: 'sc', devices: { sc: 'CPU' }, times: [100] }),
        record({ ...common, scenario: 'ac', devices: { ac: 'CPU' }, times: [100] }),
        record({ ...common, scenario: 'sc', devices: { sc: 'MYRIAD' }, times: [200] }),
        record({ ...common, scenario: 'ac', devices: { ac: 'MYRIAD' }, times: [200] }),
      ],
      'measured',
    ).rows;
    expect(rows.map((r) => r.device)).toEqual(['CPU', 'MYRIAD']);
    const run = buildTable1(
      [
        record({ ...common, scenario: 'sc', devices: { sc: 'MYRIAD' }, times: [100] }),
        record({ ...common, scenario: 'ac', devices: { ac: 'CPU' }, times: [100] }),
        record({ ...common, scenario: 'both', devices: { sc: 'MYRIAD', ac: 'CPU' }, times: [150] }),
      ],
      'measured',
    ).rows;
    expect(run.filter((r) => r.device === 'MYRIAD/CPU').map((r) => r.derived)).toEqual([false]);
  });

  it('prints oom as Memory crash, failures as error, and never bolds them', () => {
    const rows = buildTable1(
      [
        record({ computer: 'SpaceCloud', scenario: 'both', res: 10, sc: 'sen2cor', ac: 'sen2cor', status: 'oom' }),
        record({ computer: 'SpaceCloud', scenario: 'both', res: 10, status: 'error' }),
      ],
      'measured',
    ).rows;
    expect(rows.map((r) => [r.cells.both.text, r.cells.both.bold])).toEqual([
      ['Memory crash', false],
      ['error', false],
    ]);
  });

  it('pools repeats into a median with their range, or a 95 % CI of the median from 6 repeats', () => {
    const few = cellOf([record({ times: [5000, 7000] }), record({ times: [6000] })]);
    expect(few).toMatchObject({ ms: 6000, spread: { lower: 5000, upper: 7000, n: 3, kind: 'range' } });
    const many = cellOf([record({ times: [10_000, 11_000, 12_000, 13_000, 14_000, 15_000, 16_000, 17_000] })]);
    expect(many.spread).toMatchObject({ lower: 10_000, upper: 17_000, n: 8, kind: 'ci95' });
    const md = renderTable1Markdown([record({ times: [5000, 7000, 6000] })]);
    expect(md).toContain('6s (5s–7s, n=3)');
    expect(md).toContain('range (fewer)');
  });

  it('pools only the newest build and environment of a configuration, and says how many it left out', () => {
    const cell = cellOf([
      record({ times: [9000], env: { gitSha: 'old' }, createdAt: '2026-01-01T00:00:00Z' }),
      record({ times: [5000, 6000], env: { gitSha: 'new' }, createdAt: '2026-01-02T00:00:00Z' }),
      record({ times: [7000], env: { gitSha: 'new' }, createdAt: '2026-01-03T00:00:00Z' }),
      record({ times: [1000], env: { gitSha: 'new', onnxruntime: '1.17.0' }, createdAt: '2026-01-01T12:00:00Z' }),
    ]);
    expect(cell).toMatchObject({ ms: 6000, older: 2, spread: { n: 3 } });
    const md = renderTable1Markdown([record({ times: [1000], env: { gitSha: 'a' }, createdAt: '2026-01-01T00:00:00Z' }), record({ times: [2000], env: { gitSha: 'b' } })]);
    expect(md).toContain('| 2s |');
    expect(md).toContain('1 older record(s) are left out (choose a build with --git-sha)');
  });

  it('shows the peak memory column and marks inputs smaller than a tile', () => {
    const table = buildTable1([record({ res: 60, peaks: [812e6], input: { width: 512, height: 512 } })], 'measured');
    const view = table1View(table);
    expect(view.header.at(-1)).toBe('Peak memory');
    expect(view.rows[0].map((c) => c.text)).toEqual(['CNN_corrector', 'local', 'CPU ‡', '60 m', '-', '1s', '-', '812 MB']);
    expect(view.notes.join(' ')).toMatch(/512 × 512 px input, not a full tile/);
  });

  it('keeps measured and published rows in separate tables, measured first', () => {
    const md = renderTable1Markdown([...literatureRecords(), record({ computer: 'SpaceCloud', res: 10, scenario: 'both' })]);
    const tables = md.split('| Model | Computer |');
    expect(tables).toHaveLength(3);
    expect(tables[1]).toContain('unet + CNN_corrector | SpaceCloud');
    expect(tables[1]).not.toContain('DTACSNet');
    expect(tables[2]).toContain('DTACSNet');
  });
});
