import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hil } from '../helpers/cli.js';
import { haveShared, sharedDataDir, sharedModelsDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

const ready = haveShared('data/sen2r') && haveShared('models/dtacsnet');

describe.runIf(ready)('hil run --reference attaches the accuracy measured on the run’s own outputs', () => {
  it('matches hil eval on the same sample', () => {
    const input = path.join(sharedDataDir, 'sen2r/S2A1C_20170703_022_Barbellino_TOA_10.tif');
    const common = ['--models-dir', sharedModelsDir, '--data-dir', sharedDataDir];
    const run = hil(['run', '--input', input, '--reference', 'sen2r', '--ac-model', 'CNN_corrector_phisat2', '--out', tempDir('hil-ref-'), '--json', ...common]);
    expect(run.code).toBe(0);
    const record = JSON.parse(run.stdout.trim().split('\n').at(-1)!).record;
    const ev = hil(['eval', '--dataset', 'sen2r', '--ac-model', 'CNN_corrector_phisat2', '--json', ...common]);
    expect(ev.code).toBe(0);
    const sample = JSON.parse(ev.stdout).samples.find((s: { id: string }) => s.id === '20170703');
    expect(Object.keys(record.accuracy.ac.rmse)).toEqual(['B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08']);
    for (const band of Object.keys(record.accuracy.ac.rmse)) {
      expect(record.accuracy.ac.rmse[band]).toBeCloseTo(sample.ac.rmse[band], 10);
      expect(record.accuracy.ac.baselineRmse[band]).toBeCloseTo(sample.ac.baselineRmse[band], 10);
    }
  });

  it('refuses a reference that does not hold the input, before running anything', () => {
    const out = tempDir('hil-ref-');
    const r = hil(['run', '--res', '60', '--reference', 'sen2r', '--data-dir', sharedDataDir, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
