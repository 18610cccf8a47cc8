import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/model.js';
import { renderReport } from '../../src/report/render.js';
import { PALETTE } from '../../src/report/svg.js';
import { literatureRecords } from '../../src/results/literature.js';
import { haveTool } from '../helpers/shared.js';
import { sampleRecords } from './fixtures.js';
import { decodePng, type Image } from './png.js';
import { tempDir } from '../helpers/temp.js';

const ready = haveTool('chromium');

/** Headless Chromium that touches nothing outside its fresh profile and never goes on the network. */
function chromium(dir: string, args: string[]): string {
  const profile = mkdtempSync(path.join(dir, 'profile-'));
  const r = spawnSync(
    'chromium',
    ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, ...args],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`chromium ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

const hex = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));

/** Rows (y) where a pixel of this colour occurs. */
function rowsWith(img: Image, [r, g, b]: number[]): number[] {
  const rows: number[] = [];
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const [pr, pg, pb] = img.pixel(x, y);
      if (Math.abs(pr - r) + Math.abs(pg - g) + Math.abs(pb - b) < 12) {
        rows.push(y);
        break;
      }
    }
  }
  return rows;
}

describe.runIf(ready)('the HTML report in headless Chromium', () => {
  let dir: string;
  let file: string;

  beforeAll(() => {
    dir = tempDir('hil-html-');
    file = path.join(dir, 'report.html');
    writeFileSync(file, renderReport(buildReport([...sampleRecords(), ...literatureRecords()], { inputs: ['results'], skipped: [] }), 'html'));
  });

  it('parses into the tables and charts the report has', () => {
    const dom = chromium(dir, ['--dump-dom', `file://${file}`]);
    const body = (id: string) => dom.match(new RegExp(`<table id="${id}">[\\s\\S]*?</table>`))?.[0] ?? '';
    const rows = (id: string) => (body(id).match(/<tr>/g) ?? []).length - 1;
    expect(rows('table1-measured')).toBe(3);
    expect(rows('table1-literature')).toBe(11);
    expect(body('table1-literature')).toContain('<td class="crash">Memory crash</td>');
    expect(body('table1-literature')).toContain('<strong>26m 1s</strong>');
    expect(rows('accuracy-rmse')).toBe(2);
    expect(rows('accuracy-sc')).toBe(4);
    expect(rows('published-rmse')).toBe(3);
    expect(rows('published-f2')).toBe(3);
    for (const id of ['chart-f2-time', 'chart-rmse', 'chart-stages']) expect(dom).toMatch(new RegExp(`<svg [^>]*id="${id}"`));
    expect((dom.match(/<circle /g) ?? []).length).toBe(2);
  });

  it('draws them: a screenshot shows text, then the charts in the palette below the tables', () => {
    const shot = path.join(dir, 'shot.png');
    chromium(dir, ['--window-size=1200,3000', '--hide-scrollbars', `--screenshot=${shot}`, `file://${file}`]);
    const img = decodePng(readFileSync(shot));
    expect([img.width, img.height]).toEqual([1200, 3000]);
    const text = rowsWith(img, [34, 34, 34]);
    const blue = rowsWith(img, hex(PALETTE[0]));
    const orange = rowsWith(img, hex(PALETTE[1]));
    const crash = rowsWith(img, [179, 0, 0]);
    // Text from the top, the Memory crash cell in its red, and chart marks (dots, bars, legends) further down.
    expect(text.length).toBeGreaterThan(200);
    expect(text[0]).toBeLessThan(100);
    expect(crash.length).toBeGreaterThan(3);
    expect(blue.length).toBeGreaterThan(50);
    expect(orange.length).toBeGreaterThan(50);
    expect(blue[0]).toBeGreaterThan(crash[0]);
  });
});
