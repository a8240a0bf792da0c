// Cost-quality metrics over a policy's curve (its operating points on the test split).
//
// Axis: f = cost fraction (C - C_SLM) / (C_LLM - C_SLM) between always-smallest and always-largest, and
// g = PGR = (P - P_SLM) / (P_LLM - P_SLM). Then AutoMix's IBC_M / IBC_BASE = g / f, so
// ΔIBC (Eq. 1, in percent) = (g/f - 1) x 100, and the SLM-LLM chord (random mixing) is g = f.
//
// The "completed" curve is what a deployment of the policy can reach by random mixing: piecewise linear
// between its own points, from the always-smallest point (0,0) to its cheapest point and from its most
// expensive point inside [0,1] to the always-largest point (1,1). ΔIBC per region, APGR and CPT are read
// off it; costAt98 uses the policy's own points only (so it can be null).
export interface CurvePoint {
  cost: number;
  accuracy: number;
}

export interface Anchors {
  smallest: CurvePoint;
  largest: CurvePoint;
}

interface Pg {
  f: number;
  g: number;
}

/** The axis is undefined when the largest tier is not both dearer and more accurate than the smallest. */
function usable(a: Anchors): boolean {
  return a.largest.cost > a.smallest.cost && a.largest.accuracy > a.smallest.accuracy;
}

/** AutoMix ΔIBC (Eq. 1) of one point in percent; null at or below the smallest tier's cost. */
export function deltaIbcOfPoint(p: CurvePoint, a: Anchors): number | null {
  if (!usable(a) || p.cost <= a.smallest.cost) return null;
  const ibc = (p.accuracy - a.smallest.accuracy) / (p.cost - a.smallest.cost);
  const base = (a.largest.accuracy - a.smallest.accuracy) / (a.largest.cost - a.smallest.cost);
  return ((ibc - base) / base) * 100;
}

export function completedCurve(points: readonly CurvePoint[], a: Anchors): Pg[] | null {
  if (!usable(a)) return null;
  const dc = a.largest.cost - a.smallest.cost;
  const dp = a.largest.accuracy - a.smallest.accuracy;
  const inner = points
    .map((p) => ({ f: (p.cost - a.smallest.cost) / dc, g: (p.accuracy - a.smallest.accuracy) / dp }))
    .filter((q) => q.f > 1e-12 && q.f < 1 - 1e-12);
  const all = [{ f: 0, g: 0 }, ...inner, { f: 1, g: 1 }].sort((x, y) => x.f - y.f || y.g - x.g);
  // Equal cost: keep the most accurate (sorted first).
  return all.filter((q, i) => i === 0 || q.f > all[i - 1]!.f);
}

/** Mean ΔIBC (percent) over each of `regions` equal cost regions of the completed curve. */
export function deltaIbcRegions(points: readonly CurvePoint[], a: Anchors, regions = 5): number[] | null {
  const c = completedCurve(points, a);
  if (!c) return null;
  const out: number[] = [];
  for (let r = 0; r < regions; r++) {
    const lo = r / regions;
    const hi = (r + 1) / regions;
    let integral = 0; // of g(f)/f over [lo, hi]
    for (let i = 1; i < c.length; i++) {
      const p = c[i - 1]!;
      const q = c[i]!;
      const x = Math.max(lo, p.f);
      const y = Math.min(hi, q.f);
      if (y <= x) continue;
      // On this segment g = intercept + slope * f, so g/f integrates in closed form.
      const slope = (q.g - p.g) / (q.f - p.f);
      const intercept = p.g - slope * p.f;
      integral += slope * (y - x) + (intercept === 0 ? 0 : intercept * Math.log(y / x));
    }
    out.push((integral / (hi - lo) - 1) * 100);
  }
  return out;
}

export function deltaIbc(points: readonly CurvePoint[], a: Anchors, regions = 5): number | null {
  const r = deltaIbcRegions(points, a, regions);
  return r ? r.reduce((s, v) => s + v, 0) / r.length : null;
}

/** APGR: the area under PGR over the cost fraction in [0,1] (random mixing: 0.5). */
export function apgr(points: readonly CurvePoint[], a: Anchors): number | null {
  const c = completedCurve(points, a);
  if (!c) return null;
  let area = 0;
  for (let i = 1; i < c.length; i++) area += ((c[i]!.g + c[i - 1]!.g) / 2) * (c[i]!.f - c[i - 1]!.f);
  return area;
}

/** CPT(x): the smallest cost fraction, in percent, at which PGR reaches x (random mixing: 100x). */
export function cpt(points: readonly CurvePoint[], a: Anchors, x: number): number | null {
  const c = completedCurve(points, a);
  if (!c) return null;
  if (c[0]!.g >= x) return 0;
  for (let i = 1; i < c.length; i++) {
    const p = c[i - 1]!;
    const q = c[i]!;
    if (q.g >= x) return (p.f + ((x - p.g) / (q.g - p.g)) * (q.f - p.f)) * 100;
  }
  return null;
}

/** Least cost at which the policy's own curve (linear between its points) reaches `target` accuracy. */
export function costAtAccuracy(points: readonly CurvePoint[], target: number): number | null {
  const s = [...points].sort((x, y) => x.cost - y.cost);
  for (let i = 0; i < s.length; i++) {
    const q = s[i]!;
    if (q.accuracy < target) continue;
    const p = s[i - 1];
    if (!p) return q.cost;
    return p.cost + ((target - p.accuracy) / (q.accuracy - p.accuracy)) * (q.cost - p.cost);
  }
  return null;
}
