import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderTable1Markdown } from '../../src/report/table1.js';
import { ResultRecordSchema } from '../../src/results/schema.js';
import { hil, repoRoot } from '../helpers/cli.js';
import { haveShared, sharedModelsDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

const ready = haveShared('models/dtacsnet');

/**
 * A board whose "MYRIAD" is served by the exec backend. No Myriad-X exists here, so the tool is the
 * project's stand-in for benchmark_app (onnxruntime on the CPU, same CLI and report): this exercises the
 * plan, the exec protocol and the per-stage records, not a VPU.
 */
function vpuBoardConfig(dir: string): string {
  const file = path.join(dir, 'hil.config.json');
  writeFileSync(
    file,
    JSON.stringify({
      targets: {
        'vpu-board': {
          description: 'a board with a VPU behind an external tool',
          computer: 'VPU board (emulated)',
          cpus: 2,
          memoryBytes: 4e9,
          transport: { kind: 'local' },
          devices: [
            { name: 'CPU', backend: 'onnxruntime' },
            {
              name: 'MYRIAD',
              backend: 'exec',
              exec: { command: [process.execPath, path.join(repoRoot, 'scripts/exec-backend-ort.mjs'), '-m', '{model}', '-d', 'CPU', '-niter', '1', '-i', '{input}', '-shape', '{shape}', '-o', '{output}'], timeoutMs: 120000 },
            },
          ],
        },
      },
    }),
  );
  return file;
}

describe.runIf(ready)('per-stage device plans', () => {
  it('runs SC on the exec-served device and AC on the CPU, and records each stage’s device', () => {
    const dir = tempDir('hil-devices-');
    const r = hil(['--config', vpuBoardConfig(dir), 'run', '--target', 'vpu-board', '--res', '60', '--scenario', 'both', '--device', 'sc=MYRIAD,ac=CPU', '--sc-model', 'baseline-cloud-6b', '--ac-model', 'CNN_corrector', '--patch', '1024', '--models-dir', sharedModelsDir, '--out', dir, '--json']);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('hil:'))).toEqual([]);
    expect(r.code).toBe(0);
    const record = ResultRecordSchema.parse(JSON.parse(r.stdout.trim().split('\n').at(-1)!).record);
    expect(record.status).toBe('ok');
    expect(record.scenario.devices).toEqual({ sc: 'MYRIAD', ac: 'CPU' });
    expect(record.models.sc).toMatchObject({ id: 'baseline-cloud-6b', device: 'MYRIAD', backend: 'exec' });
    expect(record.models.ac).toMatchObject({ device: 'CPU', backend: 'onnxruntime' });
    expect(renderTable1Markdown([record])).toContain('| MYRIAD/CPU | 60 m |');
  });

  it('refuses a device the target lacks before anything runs', () => {
    const dir = tempDir('hil-devices-');
    const r = hil(['--config', vpuBoardConfig(dir), 'run', '--target', 'vpu-board', '--res', '60', '--device', 'GPU', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no device GPU/);
  });
});
