import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { comparable, describeDifferences, environmentDifferences, fingerprintId } from '../../src/results/fingerprint.js';
import { literatureRecords } from '../../src/results/literature.js';
import { comparisonKey, deviceLabel, modelLabel, queryResults } from '../../src/results/query.js';
import { loadResults } from '../../src/results/store.js';
import { record } from './records.js';
import { tempDir } from '../helpers/temp.js';

describe('loadResults', () => {
  it('loads records and names every file it skips, with why', () => {
    const dir = tempDir('hil-store-');
    const good = record({ id: 'good' });
    writeFileSync(path.join(dir, 'a.json'), JSON.stringify(good));
    writeFileSync(path.join(dir, 'b.json'), JSON.stringify({ ...good, schema: 'hil.result/0' }));
    writeFileSync(path.join(dir, 'c.json'), '{ not json');
    writeFileSync(path.join(dir, 'd.json'), JSON.stringify({ schema: 'hil.model/1', id: 'x' }));
    writeFileSync(path.join(dir, 'e.json'), JSON.stringify({ ...good, status: 'fine' }));
    writeFileSync(path.join(dir, 'f.json'), JSON.stringify([1, 2]));
    writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    const { records, skipped } = loadResults([dir, path.join(dir, 'missing')]);
    expect(records.map((r) => r.id)).toEqual(['good']);
    const why = Object.fromEntries(skipped.map((s) => [path.basename(s.file), s.reason]));
    expect(why['b.json']).toMatch(/schema hil\.result\/0; this hil reads hil\.result\/1 \(re-run/);
    expect(why['c.json']).toMatch(/^unreadable JSON/);
    expect(why['d.json']).toBe('not a result record (schema hil.model/1)');
    expect(why['e.json']).toMatch(/^not a valid hil\.result\/1 record \(status: /);
    expect(why['f.json']).toMatch(/no "schema"/);
    expect(why.missing).toBe('does not exist');
  });
});

describe('queries', () => {
  const recs = [
    record({ id: 'a', target: 'local', scenario: 'ac', res: 60, ac: 'CNN_corrector', env: { gitSha: 'abc123' } }),
    record({ id: 'b', target: 'flatsat-emu', scenario: 'ac', res: 20, ac: 'linear', env: { gitSha: 'def456' } }),
    record({ id: 'c', target: 'local', scenario: 'both', res: 60, sc: 'unet', ac: 'CNN_corrector', status: 'oom' }),
  ];

  it('select by target, scenario, model of either stage, resolution, git sha and status', () => {
    const ids = (q: Parameters<typeof queryResults>[1]) => queryResults(recs, q).map((r) => r.id);
    expect(ids({ target: 'local' })).toEqual(['a', 'c']);
    expect(ids({ scenario: 'ac' })).toEqual(['a', 'b']);
    expect(ids({ model: 'CNN_corrector' })).toEqual(['a', 'c']);
    expect(ids({ model: 'unet' })).toEqual(['c']);
    expect(ids({ res: 20 })).toEqual(['b']);
    expect(ids({ gitSha: 'def' })).toEqual(['b']);
    expect(ids({ status: ['ok'] })).toEqual(['a', 'b']);
    expect(ids({ target: 'local', status: ['oom'], res: 60 })).toEqual(['c']);
    expect(ids({ source: 'literature' })).toEqual([]);
  });

  it('label models, devices and comparison keys as Table 1 does', () => {
    expect(modelLabel(recs[2])).toBe('unet + CNN_corrector');
    const dtacs = literatureRecords().find((r) => r.scenario.name === 'both' && r.scenario.composite)!;
    expect(modelLabel(dtacs)).toBe('DTACSNet');
    expect(deviceLabel(dtacs)).toBe('MYRIAD/CPU');
    expect(comparisonKey(recs[0])).toBe('local ac 60 m CPU');
  });
});

describe('environment fingerprint', () => {
  it('calls results comparable when only the build differs', () => {
    const a = record({ env: { gitSha: 'one', hil: '0.1.0', kernel: '6.1' } });
    const b = record({ env: { gitSha: 'two', hil: '0.2.0', kernel: '6.2' } });
    expect(comparable(a, b)).toBe(true);
    expect(fingerprintId(a)).toBe(fingerprintId(b));
  });

  it('names each difference in CPU, cores, limits and runtime versions', () => {
    const a = record({});
    const b = record({ env: { cpuModel: 'Intel Atom E3950', cores: 4, onnxruntime: '1.17.0' }, limits: { memoryBytes: 1_700_000_000, cpus: 4 } });
    const diffs = environmentDifferences(a, b);
    expect(diffs.map((d) => d.field)).toEqual(['cpuModel', 'cores', 'memoryLimitBytes', 'cpuLimit', 'onnxruntime']);
    expect(describeDifferences(diffs)).toContain('cpuModel AMD EPYC vs Intel Atom E3950');
    expect(fingerprintId(a)).not.toBe(fingerprintId(b));
  });

  it('never calls a published figure comparable with a measurement', () => {
    const lit = literatureRecords()[0];
    expect(comparable(lit, record({}))).toBe(false);
    expect(comparable(lit, literatureRecords()[1])).toBe(true);
  });
});
