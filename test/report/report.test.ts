import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/model.js';
import { renderReport } from '../../src/report/render.js';
import { literatureRecords } from '../../src/results/literature.js';
import { hil } from '../helpers/cli.js';
import { sampleRecords } from './fixtures.js';
import { tempDir } from '../helpers/temp.js';

describe('report model', () => {
  const model = buildReport(sampleRecords(), { inputs: ['results'], skipped: [{ file: 'results/old.json', reason: 'written with schema hil.result/0' }], now: new Date('2026-01-02T03:04:05Z') });

  it('has per-band RMSE beside the no-correction baseline, italic above the 0.02 line', () => {
    const rmse = model.tables.rmse!;
    expect(rmse.header).toEqual(['Run', 'Output', 'B02', 'B03', 'B09']);
    expect(rmse.rows.map((r) => r.map((c) => c.text))).toEqual([
      ['unet + CNN_corrector · local CPU 60 m', 'model', '0.0135', '0.0111', '0.0333'],
      ['', 'no correction', '0.0556', '0.0262', '0.2180'],
    ]);
    expect(rmse.rows[0].map((c) => Boolean(c.italic))).toEqual([false, false, false, false, true]);
  });

  it('has F2, precision and recall per class', () => {
    expect(model.tables.sc!.rows.map((r) => r.map((c) => c.text))).toEqual([
      ['unet + CNN_corrector · flatsat-emu CPU 60 m', 'cloud or shadow', '0.900', '-', '-'],
      ['unet + CNN_corrector · local CPU 60 m', 'cloud', '0.930', '0.900', '0.940'],
      ['', 'shadow', '0.610', '0.500', '0.650'],
      ['', 'cloud or shadow', '0.920', '0.880', '0.930'],
    ]);
  });

  it('draws the three charts as SVG', () => {
    const byId = Object.fromEntries(model.charts.map((c) => [c.id, c.svg ?? '']));
    expect((byId['chart-f2-time'].match(/<circle /g) ?? []).length).toBe(2);
    expect(byId['chart-rmse']).toContain('0.02 line');
    expect((byId['chart-rmse'].match(/<rect /g) ?? []).length).toBe(6 + 2);
    expect(byId['chart-stages']).toContain('flatsat-emu');
    for (const svg of Object.values(byId)) expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('adds the published accuracy only beside the published rows', () => {
    expect(model.tables.published).toEqual([]);
    const withPaper = buildReport([...sampleRecords(), ...literatureRecords()], { inputs: ['r'], skipped: [] });
    const [rmse, f2] = withPaper.tables.published;
    expect(rmse.header.slice(0, 4)).toEqual(['Model', 'B01', 'B02', 'B03']);
    expect(rmse.rows.map((r) => [r[0].text, r[1].text, r[10].text, Boolean(r[10].italic)])).toEqual([
      ['CNN_corrector', '0.0183', '0.0333', true],
      ['no correction', '0.0893', '0.2180', true],
      ['CNN_corrector_phisat2', '-', '-', false],
    ]);
    expect(f2.rows.map((r) => r.map((c) => c.text))).toEqual([
      ['DTACSNet', '0.92'],
      ['Fmask', '0.70'],
      ['Sen2Cor', '0.65'],
    ]);
  });

  it('renders JSON with the numbers and without SVG', () => {
    const json = JSON.parse(renderReport(model, 'json'));
    expect(json.schema).toBe('hil.report/1');
    expect(json.table1[0].rows[0].cells.both.ms).toBe(5300);
    expect(json.charts.map((c: { drawn: boolean }) => c.drawn)).toEqual([true, true, true]);
    expect(JSON.stringify(json)).not.toContain('<svg');
  });

  it('renders Markdown with Table 1, accuracy, chart links and the skipped files', () => {
    const md = renderReport(model, 'md', { 'chart-rmse': 'chart-rmse.svg' });
    expect(md).toContain('| unet + CNN_corrector | local | CPU | 60 m | - | - | **5s (5s–5s, n=3)** | 300 MB |');
    expect(md).toContain('| | SpaceCloud (emulated) | CPU | 10 m | - | - | Memory crash | - |');
    expect(md).toContain('_0.0333_');
    expect(md).toContain('![Per-band RMSE against Sen2Cor](chart-rmse.svg)');
    expect(md).toContain('- `results/old.json`: written with schema hil.result/0');
    expect(md).not.toMatch(/\n{3}/);
  });

  it('renders one HTML file with the SVG inline and nothing fetched from elsewhere', () => {
    const html = renderReport(buildReport([...sampleRecords(), ...literatureRecords()], { inputs: ['r'], skipped: [] }), 'html');
    expect(html).toContain('<table id="table1-measured">');
    expect(html).toContain('<table id="table1-literature">');
    expect((html.match(/<svg /g) ?? []).length).toBe(3);
    expect(html).not.toMatch(/<script|<link|src=|url\(|@import/);
  });
});

describe('hil report (CLI)', () => {
  const dir = tempDir('hil-report-cli-');
  const results = path.join(dir, 'results');
  const empty = path.join(dir, 'empty');
  for (const d of [results, empty]) mkdirSync(d);
  sampleRecords().forEach((r) => writeFileSync(path.join(results, `${r.id}.json`), JSON.stringify(r)));
  writeFileSync(path.join(results, 'old.json'), JSON.stringify({ ...sampleRecords()[0], schema: 'hil.result/0' }));

  it('refuses an empty results folder with exit 2 and a fix, no stack trace', () => {
    const r = hil(['report', '--results', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hil: no result records in .*empty — run `hil run` first/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('renders the published rows alone from an empty folder with --include-literature', () => {
    const r = hil(['report', '--results', empty, '--include-literature']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| | | MYRIAD/CPU | 10 m | 16m 56s | 9m 5s | **26m 1s** |');
  });

  it('names skipped files of an older schema and still reports the rest; filters by target', () => {
    const r = hil(['report', '--results', results, '--format', 'json', '--target', 'flatsat-emu']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/skipped .*old\.json: written with schema hil\.result\/0; this hil reads hil\.result\/1/);
    const json = JSON.parse(r.stdout);
    expect(json.counts).toEqual({ measured: 2, literature: 0, skipped: 1 });
  });

  it('writes report.md and the chart files into --out', () => {
    const out = path.join(dir, 'reports');
    const r = hil(['report', '--results', results, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(path.join(out, 'report.md'));
    for (const f of ['report.md', 'chart-f2-time.svg', 'chart-rmse.svg', 'chart-stages.svg']) expect(existsSync(path.join(out, f))).toBe(true);
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('](chart-stages.svg)');
  });

  it('refuses an unknown format and a filter that matches nothing', () => {
    expect(hil(['report', '--results', results, '--format', 'pdf'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown report format "pdf" — use --format md/) });
    expect(hil(['report', '--results', results, '--res', '20']).stderr).toMatch(/none of the 3 result records .* match the filters/);
  });
});
