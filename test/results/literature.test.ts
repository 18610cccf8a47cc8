import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTable1, renderTable1Markdown } from '../../src/report/table1.js';
import { literatureRecords } from '../../src/results/literature.js';
import { ResultRecordSchema } from '../../src/results/schema.js';
import { sharedDir } from '../helpers/shared.js';

const reference = path.join(sharedDir, 'docs/REFERENCE.md');
const haveReference = existsSync(reference);
if (!haveReference) console.warn(`skipping the Table 1 comparison: ${reference} is absent (set HIL_SHARED_DIR)`);

/** Table 1 as REFERENCE.md prints it: the header line, the rule and the rows, exactly. */
function referenceTable(): string[] {
  const lines = readFileSync(reference, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith('| Model | Computer |'));
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
  return lines.slice(start, end);
}

describe('literature records', () => {
  const records = literatureRecords();

  it('are valid hil.result/1 records marked literature with the citation', () => {
    expect(records).toHaveLength(27);
    for (const r of records) {
      expect(ResultRecordSchema.parse(r)).toEqual(r);
      expect(r.source).toBe('literature');
      expect(r.citation).toMatch(/10\.1109\/JSTARS\.2024\.3480520/);
      expect(r.samples).toEqual([]);
    }
    expect(new Set(records.map((r) => r.id)).size).toBe(27);
    expect(records.filter((r) => r.status === 'oom').map((r) => r.target.computer)).toEqual(['SpaceCloud']);
  });

  it.skipIf(!haveReference)("render alone as the paper's Table 1, cell for cell, bold included", () => {
    const expected = referenceTable();
    expect(expected).toHaveLength(13);
    expect(renderTable1Markdown(records).split('\n')).toEqual(expected);
  });

  it('keep the composite MYRIAD/CPU rows as published rows, not derived ones', () => {
    const table = buildTable1(records, 'literature');
    const composite = table.rows.filter((r) => r.device === 'MYRIAD/CPU');
    expect(composite.map((r) => [r.res, r.cells.both.text, r.derived])).toEqual([
      [10, '26m 1s', false],
      [20, '6m 46s', false],
    ]);
    expect(table.showPeak).toBe(false);
    expect(buildTable1(records, 'measured').rows).toEqual([]);
  });
});
