import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResultRecordSchema } from '../../src/results/schema.js';
import { hil } from '../helpers/cli.js';
import { haveRoot, haveShared, haveTool } from '../helpers/shared.js';
import { FAKE_L2A_PROCESS, makeL1CSafe } from '../sen2cor/l1c-safe.js';
import { tempDir } from '../helpers/temp.js';

// Sen2Cor cannot be installed here (ESA's installer is on no reachable registry): these runs use the
// project's test double, which has L2A_Process's CLI, output tree and exit codes, and can hog memory.
const ready = haveShared('data/s2cloudless-optimized') && haveTool('gdal_translate') && haveRoot('running Sen2Cor under a memory cgroup');

describe.runIf(ready)('hil sen2cor records the baseline beside DTACSNet', () => {
  it('times a run and names the Sen2Cor version', () => {
    const out = tempDir('hil-s2c-');
    const r = hil(['sen2cor', '--safe', makeL1CSafe(), '--res', '60', '--l2a-process', FAKE_L2A_PROCESS, '--out', out, '--json']);
    expect(r.code).toBe(0);
    const { record } = JSON.parse(r.stdout);
    const rec = ResultRecordSchema.parse(record);
    expect(rec.status).toBe('ok');
    expect(rec.models.ac?.id).toMatch(/^Sen2Cor v2\.\d+/);
    expect(rec.timings.totalMs).toBeGreaterThan(0);
    expect(rec.memory.peakRssBytes).toBeGreaterThan(0);
    expect(rec.outputs.l2a).toMatch(/S2A_MSIL2A_.*\.SAFE$/);
  });

  it('shows a Sen2Cor killed by the board’s memory limit as "Memory crash" in hil report', () => {
    const out = tempDir('hil-s2c-oom-');
    const config = path.join(out, 'hil.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        targets: {
          'small-board': {
            description: 'too little memory for Sen2Cor',
            computer: 'SpaceCloud (emulated)',
            cpus: 1,
            memoryBytes: 200_000_000,
            devices: [{ name: 'CPU', backend: 'onnxruntime' }],
            transport: { kind: 'local' },
            limits: { memoryBytes: 200_000_000 },
          },
        },
      }),
    );
    const r = hil(['--config', config, 'sen2cor', '--safe', makeL1CSafe(), '--res', '60', '--target', 'small-board', '--l2a-process', FAKE_L2A_PROCESS, '--out', out], {
      FAKE_SEN2COR_HOG_MB: '600',
    });
    expect(r.code).toBe(1);
    const report = hil(['report', '--results', out]);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/\| Sen2Cor v2\.\d+[^|]* \| SpaceCloud \(emulated\) \| CPU \| 60 m \| - \| - \| Memory crash \|/);
  });
});
