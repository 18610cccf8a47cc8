import { describe, expect, it } from 'vitest';
import { f2VsTimeChart, rmseBarsChart, stageStackChart } from '../../src/report/charts.js';
import { niceTicks } from '../../src/report/svg.js';

describe('SVG charts', () => {
  it('puts ticks on round values', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 0.218, 5)).toEqual([0, 0.05, 0.1, 0.15, 0.2]);
    expect(niceTicks(0, 7300, 5)).toEqual([0, 2000, 4000, 6000]);
  });

  it('switches the time axis to log scale when points span more than ten times, and escapes labels', () => {
    const lin = f2VsTimeChart([{ label: 'a', ms: 1000, f2: 0.9 }, { label: 'b', ms: 5000, f2: 0.8 }]);
    expect(lin).not.toContain('log scale');
    const log = f2VsTimeChart([{ label: 'unet <gpu> & co', ms: 40_000, f2: 0.92 }, { label: 'sen2cor', ms: 1_161_000, f2: 0.65 }]);
    expect(log).toContain('(log scale)');
    expect(log).toContain('unet &lt;gpu&gt; &amp; co');
    expect(log).not.toContain('<gpu>');
  });

  it('draws one bar per band and series with the RMSE line, and stacks stages in order', () => {
    const rmse = rmseBarsChart([{ label: 'm', values: { B02: 0.01, B03: 0.03 } }], ['B02', 'B03'], 0.02);
    expect(rmse.match(/<rect [^>]*><title>m B0\d/g)).toHaveLength(2);
    expect(rmse).toContain('stroke-dasharray');
    const stages = stageStackChart([{ label: 'x', stages: { read: 100, ac: 50, write: 200, other: 0 } }], ['load', 'read', 'ac', 'write', 'other']);
    const drawn = [...stages.matchAll(/<title>x (\w+):/g)].map((m) => m[1]);
    expect(drawn).toEqual(['read', 'ac', 'write']);
  });
});
