import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResultRecordSchema } from '../../src/results/schema.js';
import { renderTable1Markdown } from '../../src/report/table1.js';
import { hil } from '../helpers/cli.js';
import { haveRoot, haveShared, sharedModelsDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

const ready = haveShared('models/dtacsnet') && haveRoot('emulating a target with cgroups');

/** A board like the flatsat but with a configurable RAM, for proving the limit is enforced. */
function boardConfig(dir: string, memoryBytes: number): string {
  const file = path.join(dir, 'hil.config.json');
  writeFileSync(
    file,
    JSON.stringify({
      targets: {
        'tiny-board': {
          description: 'a board with little RAM',
          computer: 'Tiny board (emulated)',
          cpus: 1,
          memoryBytes,
          devices: [{ name: 'CPU', backend: 'onnxruntime' }],
          transport: { kind: 'local' },
          limits: { memoryBytes, cpus: 1 },
        },
      },
    }),
  );
  return file;
}

function runOn(config: string, out: string) {
  return hil(['--config', config, 'run', '--target', 'tiny-board', '--res', '60', '--scenario', 'ac', '--ac-model', 'CNN_corrector', '--models-dir', sharedModelsDir, '--out', out, '--json']);
}

describe.runIf(ready)('emulated targets run under a kernel-enforced memory limit', () => {
  it('records a run that needs more than the limit as oom ("Memory crash")', () => {
    const dir = tempDir('hil-oom-');
    const r = runOn(boardConfig(dir, 120_000_000), dir);
    expect(r.code).toBe(1);
    const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'hil.config.json');
    expect(files).toHaveLength(1);
    const record = ResultRecordSchema.parse(JSON.parse(readFileSync(path.join(dir, files[0]), 'utf8')));
    expect(record.status).toBe('oom');
    expect(record.target.limits?.memoryBytes).toBe(120_000_000);
    expect(record.memory.cgroupPeakBytes).toBeGreaterThan(100_000_000);
    expect(record.memory.cgroupPeakBytes).toBeLessThanOrEqual(120_000_000);
    expect(renderTable1Markdown([record])).toContain('| Memory crash |');
    // Nothing of the killed run's output is left: no final name, no temporary.
    const left = readdirSync(path.join(dir, 'outputs'), { recursive: true }).map(String);
    expect(left.filter((f) => f.includes('.tif'))).toEqual([]);
  });

  it('completes a run that fits, with the cgroup peak recorded under the limit', () => {
    const dir = tempDir('hil-fit-');
    const r = runOn(boardConfig(dir, 1_700_000_000), dir);
    expect(r.code).toBe(0);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    const record = ResultRecordSchema.parse(last.record);
    expect(record.status).toBe('ok');
    expect(record.memory.cgroupPeakBytes).toBeGreaterThan(0);
    expect(record.memory.cgroupPeakBytes).toBeLessThan(1_700_000_000);
    expect(record.target.limits?.note).toMatch(/cgroup v[12]/);
    // The board's one CPU of quota, not the host's cores, sets how many threads the model runs on.
    expect(record.models.ac?.threads).toBe(1);
  });
});
