import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apgr, completedCurve, costAtAccuracy, cpt, deltaIbc, deltaIbcOfPoint, deltaIbcRegions, type Anchors, type CurvePoint } from '../../../router/train/metrics.js';

// Costs 1 -> 11 and accuracies 0.3 -> 0.5: f = (c - 1) / 10, g = (p - 0.3) / 0.2.
const anchors: Anchors = { smallest: { cost: 1, accuracy: 0.3 }, largest: { cost: 11, accuracy: 0.5 } };
const at = (f: number, g: number): CurvePoint => ({ cost: 1 + 10 * f, accuracy: 0.3 + 0.2 * g });
const close = (a: number | null, b: number, eps = 1e-9) => assert.ok(a !== null && Math.abs(a - b) < eps, `${a} vs ${b}`);

/** Brute-force mean of (g/f - 1) x 100 over each region, by the midpoint rule on the completed curve. */
function bruteRegions(points: CurvePoint[]): number[] {
  const c = completedCurve(points, anchors)!;
  const g = (f: number) => {
    const i = c.findIndex((q) => q.f >= f);
    const p = c[i - 1]!;
    const q = c[i]!;
    return p.g + ((f - p.f) / (q.f - p.f)) * (q.g - p.g);
  };
  return [0, 1, 2, 3, 4].map((r) => {
    const steps = 20000;
    let s = 0;
    for (let k = 0; k < steps; k++) {
      const f = (r + (k + 0.5) / steps) / 5;
      s += g(f) / f;
    }
    return (s / steps - 1) * 100;
  });
}

describe('ΔIBC (AutoMix Eq. 1)', () => {
  it('of one point: slope from the smallest tier against the chord, in percent', () => {
    close(deltaIbcOfPoint(at(0.5, 0.75), anchors), 50);
    close(deltaIbcOfPoint(at(0.2, 0.2), anchors), 0);
    close(deltaIbcOfPoint(at(0.5, 0.25), anchors), -50);
    assert.equal(deltaIbcOfPoint(at(0, 0.5), anchors), null, 'no cost above the smallest tier: undefined');
  });

  it('is 0 in every region for the chord (random mixing)', () => {
    const chord = [0, 0.1, 0.5, 0.9, 1].map((f) => at(f, f));
    for (const v of deltaIbcRegions(chord, anchors)!) close(v, 0);
    close(deltaIbc(chord, anchors), 0);
  });

  it('averages five equal cost regions of the completed curve, exactly', () => {
    const one = [at(0.5, 0.75)];
    const regions = deltaIbcRegions(one, anchors)!;
    close(regions[0]!, 50);
    close(regions[1]!, 50);
    // [0.4,0.5] at slope 1.5, then [0.5,0.6] on g = 0.5 + 0.5 f.
    close(regions[2]!, ((0.15 + 0.5 * Math.log(1.2) + 0.05) / 0.2 - 1) * 100);
    const curves = [one, [at(0.1, 0.3), at(0.35, 0.6), at(0.7, 0.85)], [at(0.05, -0.2), at(0.3, 0.5), at(1.4, 1.3)]];
    for (const pts of curves) {
      const exact = deltaIbcRegions(pts, anchors)!;
      bruteRegions(pts).forEach((b, i) => close(exact[i]!, b, 1e-3));
    }
  });

  it('is undefined when the largest tier is not better than the smallest', () => {
    const flat: Anchors = { smallest: anchors.smallest, largest: { cost: 11, accuracy: 0.3 } };
    assert.equal(deltaIbc([at(0.5, 0.5)], flat), null);
    assert.equal(apgr([at(0.5, 0.5)], flat), null);
  });
});

describe('RouteLLM metrics over the cost fraction', () => {
  it('random mixing has APGR 0.5 and CPT(x) = 100x', () => {
    const chord = [0, 0.3, 1].map((f) => at(f, f));
    close(apgr(chord, anchors), 0.5);
    close(cpt(chord, anchors, 0.5), 50);
    close(cpt(chord, anchors, 0.8), 80);
  });

  it('completes a curve with the smallest and largest tiers and reads APGR and CPT off it', () => {
    const one = [at(0.5, 0.75)];
    close(apgr(one, anchors), 0.5 * 0.5 * 0.75 + 0.5 * (0.75 + 1) * 0.5);
    close(cpt(one, anchors, 0.5), 100 / 3);
    close(cpt(one, anchors, 0.8), 60);
  });

  it('ignores points beyond the largest tier cost and keeps the best of equal costs', () => {
    const c = completedCurve([at(0.5, 0.4), at(0.5, 0.6), at(1.5, 2)], anchors)!;
    assert.deepEqual(
      c.map((q) => [+q.f.toFixed(9), +q.g.toFixed(9)]),
      [[0, 0], [0.5, 0.6], [1, 1]],
    );
  });
});

describe('costAtAccuracy (GPU-seconds to reach 98% of the largest tier)', () => {
  it('interpolates between the policy own points and is null when never reached', () => {
    const pts = [{ cost: 4, accuracy: 0.4 }, { cost: 2, accuracy: 0.3 }, { cost: 6, accuracy: 0.5 }];
    assert.equal(costAtAccuracy(pts, 0.45), 5);
    assert.equal(costAtAccuracy(pts, 0.2), 2);
    assert.equal(costAtAccuracy(pts, 0.5), 6);
    assert.equal(costAtAccuracy(pts, 0.51), null);
  });
});
