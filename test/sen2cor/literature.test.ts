import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LITERATURE_CITATION, LITERATURE_COMPUTERS, LITERATURE_ROWS, type LiteratureRow } from '../../src/sen2cor-adapter/literature.js';
import { haveShared, sharedDir } from '../helpers/shared.js';

/** "1h 1m 27s", "40s", "Memory crash", "-" → seconds, 'oom' or undefined. */
function parseDuration(cell: string): number | 'oom' | undefined {
  const text = cell.replace(/\*/g, '').trim();
  if (text === '-') return undefined;
  if (text === 'Memory crash') return 'oom';
  const m = /^(?:(\d+)h\s*)?(?:(\d+)m\s*)?(?:(\d+)s)?$/.exec(text);
  if (!m || text === '') throw new Error(`unparsed duration "${cell}"`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** Table 1 of REFERENCE.md as rows, blank cells inheriting the row above (as the table reads). */
function tableRows(markdown: string): LiteratureRow[] {
  const start = markdown.indexOf('| Model | Computer |');
  const lines = markdown.slice(start).split('\n').slice(2).filter((l) => l.startsWith('|'));
  const rows: LiteratureRow[] = [];
  let model = '';
  let computer = '';
  for (const line of lines) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    model = cells[0] || model;
    computer = cells[1] || computer;
    const stages = ['sc', 'ac', 'both'] as const;
    stages.forEach((stage, i) => {
      const seconds = parseDuration(cells[4 + i]);
      if (seconds === undefined) return;
      rows.push({
        model: model as LiteratureRow['model'],
        computer: computer as LiteratureRow['computer'],
        device: cells[2] as LiteratureRow['device'],
        res: Number(cells[3].replace(' m', '')) as 10 | 20,
        stage,
        seconds,
        ...(cells[2] === 'MYRIAD/CPU' ? { composite: true as const } : {}),
        ...(cells[4 + i].startsWith('**') ? { bold: true as const } : {}),
      });
    });
  }
  return rows;
}

describe('literature rows', () => {
  it('parses durations as the table writes them', () => {
    expect(parseDuration('1h 1m 27s')).toBe(3687);
    expect(parseDuration('**4m 15s**')).toBe(255);
    expect(parseDuration('40s')).toBe(40);
    expect(parseDuration('Memory crash')).toBe('oom');
  });

  it.skipIf(!haveShared('docs/REFERENCE.md'))('equal Table 1 of REFERENCE.md, every row', () => {
    const file = path.join(sharedDir, 'docs/REFERENCE.md');
    expect(existsSync(file)).toBe(true);
    const fromTable = tableRows(readFileSync(file, 'utf8'));
    expect(fromTable).toHaveLength(27);
    expect([...LITERATURE_ROWS]).toEqual(fromTable);
  });

  it('carries the citation and the computers', () => {
    expect(LITERATURE_CITATION.doi).toBe('10.1109/JSTARS.2024.3480520');
    expect(LITERATURE_COMPUTERS.SpaceCloud.cpus).toBe(4);
    expect(LITERATURE_COMPUTERS['Google VM'].accelerator).toMatch(/T4/);
  });
});
