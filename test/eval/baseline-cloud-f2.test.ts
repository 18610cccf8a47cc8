import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cloudRulesFor, type FeatureName, type RuleTest } from '../../src/models/baseline-cloud.js';
import { hil } from '../helpers/cli.js';
import { haveShared, haveTool, sharedDataDir } from '../helpers/shared.js';
import { f2, gdalRead } from './gdal-read.js';

const ready = haveShared('data/cloudsen12-figures') && haveTool('gdalinfo');
const LEVELS = ['clear', 'almost-clear', 'low-cloudy', 'mid-cloudy', 'cloudy'];
const MASKS = { cloud: [1, 2], shadow: [3], cloudOrShadow: [1, 2, 3] } as const;
type Counts = Record<keyof typeof MASKS, { tp: number; fp: number; fn: number }>;

/**
 * The rule set's features evaluated in float64 from their documented formulas, on the chips' B04 B03 B02
 * (file order) DN / 10000. Only the rule thresholds come from the module; the arithmetic, the priority
 * (thick, thin, shadow, else clear) and the counting are this test's own.
 */
function classify(b2: number, b3: number, b4: number, rules: ReturnType<typeof cloudRulesFor>): number {
  const mean = (b2 + b3 + b4) / 3;
  const f: Partial<Record<FeatureName, number>> = {
    mean,
    whiteness: (Math.abs(b2 - mean) + Math.abs(b3 - mean) + Math.abs(b4 - mean)) / mean,
    hot: b2 - 0.5 * b4 - 0.08,
  };
  const pass = (tests: readonly RuleTest[]) => tests.every((t) => (t.op === '>' ? f[t.feature]! > t.value : f[t.feature]! < t.value));
  if (pass(rules.thick)) return 1;
  if (pass(rules.thin)) return 2;
  if (pass(rules.shadow)) return 3;
  return 0;
}

function independent(): Record<string, Counts> {
  const rules = cloudRulesFor(['B02', 'B03', 'B04']);
  const out: Record<string, Counts> = {};
  for (const level of LEVELS) {
    const dir = path.join(sharedDataDir, 'cloudsen12-figures/ROI_1746/high', level);
    const img = gdalRead(path.join(dir, 'S2L1C.tif'));
    const lab = gdalRead(path.join(dir, 'manual_hq.tif'));
    const plane = img.width * img.height;
    const counts = Object.fromEntries(Object.keys(MASKS).map((k) => [k, { tp: 0, fp: 0, fn: 0 }])) as Counts;
    for (let p = 0; p < plane; p++) {
      const [b4, b3, b2] = [0, 1, 2].map((b) => img.data[b * plane + p] / 10000);
      const pred = classify(b2, b3, b4, rules);
      const ref = lab.data[p];
      for (const [name, classes] of Object.entries(MASKS) as [keyof typeof MASKS, readonly number[]][]) {
        const r = classes.includes(ref);
        const q = classes.includes(pred);
        if (r && q) counts[name].tp++;
        else if (q) counts[name].fp++;
        else if (r) counts[name].fn++;
      }
    }
    out[level] = counts;
  }
  return out;
}

describe.runIf(ready)('baseline-cloud-rgb on the CloudSEN12 ROI_1746 chips through hil eval', () => {
  let report: any;
  let expected: Record<string, Counts>;

  beforeAll(() => {
    const r = hil(['eval', '--dataset', 'cloudsen12-roi1746', '--sc-model', 'baseline-cloud-rgb', '--data-dir', sharedDataDir, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    report = JSON.parse(r.stdout);
    expected = independent();
  });

  it('scores every chip against its manual_hq labels', () => {
    expect(report.models).toEqual({ sc: 'baseline-cloud-rgb' });
    expect(report.samples.map((s: any) => s.id)).toEqual(LEVELS);
    for (const s of report.samples) {
      expect(s.sc.reference).toBe('labels');
      expect(s.sc.pixels).toBe(509 * 509);
    }
  });

  it('has per-chip and pooled F2 that the independent computation reproduces', () => {
    const pooled = { cloud: { tp: 0, fp: 0, fn: 0 }, shadow: { tp: 0, fp: 0, fn: 0 }, cloudOrShadow: { tp: 0, fp: 0, fn: 0 } };
    for (const s of report.samples) {
      for (const name of Object.keys(MASKS) as (keyof typeof MASKS)[]) {
        const e = expected[s.id][name];
        for (const k of ['tp', 'fp', 'fn'] as const) pooled[name][k] += e[k];
        // onnxruntime computes the features in float32: a pixel on a threshold may fall the other way.
        expect(s.sc.f2[name] ?? 0).toBeCloseTo(f2(e.tp, e.fp, e.fn) ?? 0, 3);
      }
    }
    for (const name of Object.keys(MASKS) as (keyof typeof MASKS)[]) {
      const e = pooled[name];
      expect(report.sc.f2[name]).toBeCloseTo(f2(e.tp, e.fp, e.fn)!, 3);
      expect(report.sc.recall[name]).toBeCloseTo(e.tp / (e.tp + e.fn), 3);
    }
    // Clouds are what a brightness/whiteness/HOT rule set can see; shadow from RGB alone it mostly cannot.
    expect(report.sc.f2.cloud).toBeGreaterThan(0.7);
    expect(report.sc.f2.shadow).toBeLessThan(report.sc.f2.cloud);
  });

  it('counts the confusion matrix over all labelled pixels', () => {
    const m: number[][] = report.sc.confusion;
    expect(m.flat().reduce((a, b) => a + b, 0)).toBe(5 * 509 * 509);
    // The labels' class totals (rows) are fixed by the data, whatever the model predicts.
    const rows = m.map((r) => r.reduce((a, b) => a + b, 0));
    const cloudRef = Object.values(expected).reduce((a, c) => a + c.cloud.tp + c.cloud.fn, 0);
    expect(rows[1] + rows[2]).toBe(cloudRef);
  });
});
