import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASELINE_CLOUD_BUILDS, buildBaselineCloudOnnx, cloudRulesFor, writeBaselineCloudModels } from '../../src/models/baseline-cloud.js';
import { readManifest } from '../../src/models/registry.js';
import { repoRoot } from '../helpers/cli.js';
import { runOnce } from './ort-helpers.js';
import { tempDir } from '../helpers/temp.js';

/** Reflectance pixels with an obvious class each, per band order B02 B03 B04 [B08 B11 B12]. */
const PIXELS: { name: string; rgb: [number, number, number]; nirSwir: [number, number, number]; cls: number }[] = [
  { name: 'bright white cloud', rgb: [0.5, 0.48, 0.47], nirSwir: [0.5, 0.4, 0.3], cls: 1 },
  { name: 'hazy thin cloud', rgb: [0.26, 0.24, 0.22], nirSwir: [0.3, 0.25, 0.18], cls: 2 },
  { name: 'vegetation', rgb: [0.05, 0.08, 0.04], nirSwir: [0.4, 0.2, 0.1], cls: 0 },
  { name: 'shadowed ground', rgb: [0.06, 0.05, 0.04], nirSwir: [0.12, 0.08, 0.05], cls: 3 },
];

async function classes(bands: readonly string[]): Promise<number[]> {
  const rules = cloudRulesFor(bands);
  const c = bands.length;
  const n = PIXELS.length;
  // One pixel per column of a 1 × n image, NCHW.
  const input = new Float32Array(c * n);
  PIXELS.forEach((p, x) => [...p.rgb, ...p.nirSwir].slice(0, c).forEach((v, b) => (input[b * n + x] = v)));
  const out = await runOnce(buildBaselineCloudOnnx(rules), input, [1, c, 1, n]);
  expect(out.dims).toEqual([1, 4, 1, n]);
  const data = out.data as Float32Array;
  return PIXELS.map((_, x) => {
    const scores = [0, 1, 2, 3].map((k) => data[k * n + x]);
    expect(scores.reduce((a, b) => a + b, 0)).toBe(1);
    return scores.indexOf(1);
  });
}

describe('baseline cloud classifier', () => {
  it('gives one-hot scores whose argmax is the rule class, with NIR/SWIR and with visible bands only', async () => {
    expect(await classes(['B02', 'B03', 'B04', 'B08', 'B11', 'B12'])).toEqual(PIXELS.map((p) => p.cls));
    // Visible only, dark vegetation is as dark as shadow: the weakness NIR (bright for vegetation) removes.
    expect(await classes(['B02', 'B03', 'B04'])).toEqual([1, 2, 3, 3]);
  });

  it('keeps snow out of the cloud classes when SWIR is there (NDSI), but cannot from RGB alone', async () => {
    const snow = { rgb: [0.9, 0.9, 0.88], swir: [0.85, 0.05, 0.04] };
    const six = await runOnce(buildBaselineCloudOnnx(cloudRulesFor(['B02', 'B03', 'B04', 'B08', 'B11', 'B12'])), Float32Array.from([...snow.rgb, ...snow.swir]), [1, 6, 1, 1]);
    expect(Array.from(six.data as Float32Array)).toEqual([1, 0, 0, 0]);
    const rgb = await runOnce(buildBaselineCloudOnnx(cloudRulesFor(['B02', 'B03', 'B04'])), Float32Array.from(snow.rgb), [1, 3, 1, 1]);
    expect(Array.from(rgb.data as Float32Array)).toEqual([0, 1, 0, 0]);
  });

  it('refuses a band set without the visible bands, naming them', () => {
    expect(() => cloudRulesFor(['B08', 'B11', 'B03'])).toThrow(/needs B02, B04/);
  });

  it('ships builds in models/ that are exactly what the builder writes', async () => {
    const dir = tempDir('hil-baseline-');
    const built = await writeBaselineCloudModels(dir);
    expect(built.map((b) => b.manifest.id).sort()).toEqual(Object.keys(BASELINE_CLOUD_BUILDS).sort());
    for (const b of built) {
      const shipped = readManifest(path.join(repoRoot, 'models', `${b.manifest.id}.json`), undefined);
      expect(shipped.manifest).toEqual(b.manifest);
      expect(readFileSync(shipped.filePath!)).toEqual(readFileSync(b.onnxPath));
      expect(shipped.manifest).toMatchObject({ task: 'sc', weights: 'real', classes: ['clear', 'thick', 'thin', 'shadow'] });
      expect(shipped.manifest.provenance).toMatch(/^rule set/);
    }
  });
});
