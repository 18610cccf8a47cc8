import { describe, expect, it } from 'vitest';
import { ConfusionAccumulator, metricsFromCounts } from '../../src/metrics/confusion.js';
import { IGNORE } from '../../src/metrics/labels.js';
import { HilError } from '../../src/errors.js';

describe('ConfusionAccumulator', () => {
  // reference / prediction, 10 pixels, one ignored:
  //   ref:  0 0 0 1 1 2 2 3 3 255
  //   pred: 0 1 0 1 2 2 0 3 0 1
  const ref = Uint8Array.from([0, 0, 0, 1, 1, 2, 2, 3, 3, IGNORE]);
  const pred = Uint8Array.from([0, 1, 0, 1, 2, 2, 0, 3, 0, 1]);

  it('counts a hand-worked matrix and per-class metrics', () => {
    const acc = new ConfusionAccumulator();
    acc.add(pred, ref);
    expect(acc.total()).toBe(9);
    expect(Array.from(acc.matrix)).toEqual([2, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1]);
    const thick = acc.perClass()[1]; // TP 1, FP 1 (ref 0 → 1), FN 1 (ref 1 → 2)
    expect([thick.tp, thick.fp, thick.fn, thick.tn]).toEqual([1, 1, 1, 6]);
    expect(thick.precision).toBe(0.5);
    expect(thick.recall).toBe(0.5);
    expect(thick.fbeta).toBeCloseTo(0.5, 12);
    expect(thick.iou).toBeCloseTo(1 / 3, 12);
    expect(acc.accuracy()).toBeCloseTo(5 / 9, 12);
  });

  it('scores the cloud, shadow and cloud-or-shadow masks', () => {
    const acc = new ConfusionAccumulator();
    acc.add(pred, ref);
    const { cloud, shadow, cloudOrShadow } = acc.masks();
    // cloud = {1,2}: ref positives are pixels 3,4,5,6; predicted positives 1,3,4,5.
    expect([cloud.tp, cloud.fp, cloud.fn, cloud.tn]).toEqual([3, 1, 1, 4]);
    expect(cloud.fbeta).toBeCloseTo((5 * 3) / (5 * 3 + 4 * 1 + 1), 12);
    expect([shadow.tp, shadow.fp, shadow.fn]).toEqual([1, 0, 1]);
    expect(shadow.precision).toBe(1);
    expect(shadow.recall).toBe(0.5);
    expect(shadow.fbeta).toBeCloseTo((5 * 0.5) / (4 + 0.5), 12); // (1+β²)PR/(β²P+R)
    expect([cloudOrShadow.tp, cloudOrShadow.fp, cloudOrShadow.fn, cloudOrShadow.tn]).toEqual([4, 1, 2, 2]);
  });

  it('uses null for undefined ratios and 0 for total disagreement', () => {
    const none = metricsFromCounts(0, 0, 0, 10);
    expect([none.precision, none.recall, none.fbeta, none.iou]).toEqual([null, null, null, null]);
    const missed = metricsFromCounts(0, 0, 4, 6);
    expect(missed.precision).toBeNull();
    expect(missed.recall).toBe(0);
    expect(missed.fbeta).toBe(0);
    expect(metricsFromCounts(2, 2, 0, 0, 1).fbeta).toBeCloseTo(2 / 3, 12); // F1 with P = ½, R = 1
  });

  it('accumulates over blocks and merges like one pass', () => {
    const whole = new ConfusionAccumulator();
    whole.add(pred, ref);
    const a = new ConfusionAccumulator();
    a.add(pred.subarray(0, 4), ref.subarray(0, 4));
    const b = new ConfusionAccumulator();
    b.add(pred.subarray(4), ref.subarray(4));
    expect(Array.from(a.merge(b).matrix)).toEqual(Array.from(whole.matrix));
  });

  it('honours a mask and custom ignore codes, and refuses unmapped classes', () => {
    const acc = new ConfusionAccumulator(4, [IGNORE, 9]);
    acc.add([0, 1, 9], [0, 1, 1], Uint8Array.from([1, 0, 1]));
    expect(acc.total()).toBe(1);
    expect(() => acc.add([0], [7])).toThrow(HilError);
    expect(() => acc.add([7], [0])).toThrow(/predicted class 7/);
  });
});
