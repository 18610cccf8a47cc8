import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AC_VARIANTS, buildAcModelFromStateDict } from '../../src/models/ac-corrector.js';
import { decodeModel } from '../../src/models/onnx-writer.js';
import { readPtStateDict } from '../../src/models/pt-import.js';
import { haveShared, sharedModelsDir } from '../helpers/shared.js';
import { maxAbsDiff, runOnce, seededUniform } from './ort-helpers.js';

const dir = path.join(sharedModelsDir, 'dtacsnet');

describe.runIf(haveShared('models/dtacsnet/pytorch'))('AC models built from the release .pt files', () => {
  for (const [variant, spec] of Object.entries(AC_VARIANTS)) {
    it(`${variant}: equals the shared ONNX export on seeded reflectances`, async () => {
      const sd = await readPtStateDict(path.join(dir, 'pytorch', `${variant}.pt`));
      const ours = buildAcModelFromStateDict(sd, { ...spec, name: variant });
      const reference = readFileSync(path.join(dir, 'onnx', `${variant}.onnx`));

      // The band lists in code must be the ones the reference export documents.
      const doc = decodeModel(reference).docString ?? '';
      const list = (bands: readonly string[]) => `[${bands.map((b) => `'${b}'`).join(', ')}]`;
      expect(doc).toContain(`input bands ${list(spec.inBands)}`);
      expect(doc).toContain(`output bands ${list(spec.outBands)}`);

      const ops = decodeModel(ours).graph!.node!.map((n) => n.opType);
      expect(ops).toEqual(spec.residual ? ['Conv', 'Relu', 'Conv', 'Gather', 'Sub'] : ['Conv']);

      const dims = [2, spec.inBands.length, 16, 24];
      const x = seededUniform(dims.reduce((a, b) => a * b, 1), 7, 0, 0.5);
      const [a, b] = [await runOnce(ours, x, dims), await runOnce(reference, x, dims)];
      expect(a.dims).toEqual([2, spec.outBands.length, 16, 24]);
      expect(a.dims).toEqual(b.dims);
      expect(maxAbsDiff(a.data as Float32Array, b.data as Float32Array)).toBeLessThanOrEqual(1e-6);
    });
  }

  it('refuses weights whose shape does not fit the band list', async () => {
    const sd = await readPtStateDict(path.join(dir, 'pytorch', 'CNN_corrector_phisat2.pt'));
    expect(() => buildAcModelFromStateDict(sd, AC_VARIANTS.CNN_corrector)).toThrow(/cnn_layers\.0\.weight has shape \[28, 7, 1, 1\], expected \[\*, 13, 1, 1\]/);
  });
});
