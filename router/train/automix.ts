// AutoMix's "POMDP" as the released code implements it (automix-llm/automix, automix_methods.py; summary in
// router-anchors §2.4): the verifier confidence is put into 9 bins (k=8: 0, 1/8, ..., 1), and candidate
// keep/route lookup tables come from four families (Threshold, DoubleThreshold, POMDPSimple's reward sweep,
// GreedyPOMDP's nested bins). AutoMix keeps the candidate with the largest IBC lift on train; the harness
// keeps the train Pareto frontier (which holds that candidate and the best one of any cost band).
// Chained AutoMix (paper §5.5): one 2-tier AutoMix per consecutive pair, run in series.
import { evaluate, paretoFrontier, type Candidate, type RowPolicy, type Trace } from './evaluate.js';
import { confidenceAt } from './baselines.js';
import type { FitContext, PolicyFamily } from './family.js';
import type { ObservedRow } from './observe.js';

export const BINS = 8;
const CENTRES = BINS + 1;

/** Bin of a confidence: nearest of 0, 1/8, ..., 1 (unknown counts as 0). */
export const binOf = (conf: number | null): number => Math.min(BINS, Math.max(0, Math.round((conf ?? 0) * BINS)));

export interface BinTable {
  /** The families that proposed it, and its lookup table as the bins it routes. */
  knob: string;
  route: boolean[];
}

const maskKey = (m: boolean[]) => m.map((b) => (b ? '1' : '0')).join('');
export const tableKnob = (route: boolean[]) => `route bins {${route.flatMap((r, i) => (r ? [i] : [])).join(',')}}/8`;

/** numpy's default (linear) quantile. */
function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

/** scipy.ndimage.gaussian_filter1d(sigma, mode='reflect', truncate=4). */
export function gaussianSmooth(v: readonly number[], sigma: number): number[] {
  const radius = Math.round(4 * sigma);
  const w = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = w.reduce((a, b) => a + b, 0);
  const n = v.length;
  const at = (i: number): number => {
    const period = 2 * n;
    let j = ((i % period) + period) % period;
    if (j >= n) j = period - 1 - j; // reflect: d c b a | a b c d | d c b a
    return v[j]!;
  };
  return v.map((_, i) => w.reduce((s, wk, k) => s + wk * at(i + k - radius), 0) / total);
}

/** The union of the four candidate families for the pair lo -> hi, fitted on `train`, without duplicates. */
export function automixTables(train: readonly ObservedRow[], lo: number, hi: number): BinTable[] {
  // Table -> the families that proposed it (one candidate each, named by all of them).
  const found = new Map<string, { families: string[]; route: boolean[] }>();
  const add = (family: string, route: boolean[]) => {
    const hit = found.get(maskKey(route));
    if (!hit) found.set(maskKey(route), { families: [family], route });
    else if (!hit.families.includes(family)) hit.families.push(family);
  };
  const range = (a: number, b: number) => Array.from({ length: CENTRES }, (_, i) => i >= a && i <= b);
  // Threshold (route if v <= t) and DoubleThreshold (route if t1 <= v <= t2) over the bin centres.
  for (let b = 0; b < CENTRES; b++) add('threshold', range(0, b));
  for (let a = 1; a < CENTRES; a++) for (let b = a; b < CENTRES; b++) add('double-threshold', range(a, b));

  const bins = train.map((r) => binOf(r.confidence[lo] ?? null));
  const slm = train.map((r) => (r.tiers[lo]!.correct ? 1 : 0));
  const llm = train.map((r) => (r.tiers[hi]!.correct ? 1 : 0));
  if (train.length > 0) {
    // POMDPSimple: P(category | bin), categories in np.select order: NEEDY, GOOD, HOPELESS (else undefined).
    const p10s = quantile(slm, 0.1);
    const p10l = quantile(llm, 0.1);
    const counts = Array.from({ length: CENTRES }, () => [0, 0, 0, 0]);
    train.forEach((_, j) => {
      const [s, l] = [slm[j]!, llm[j]!];
      const cat = s < l ? 0 : s === l && s !== 0 ? 1 : s <= p10s && l <= p10l ? 2 : 3;
      counts[bins[j]!]![cat]!++;
    });
    const probs = counts.map((c) => {
      const n = c.reduce((a, b) => a + b, 0);
      return n === 0 ? [0, 0, 0] : [c[0]! / n, c[1]! / n, c[2]! / n];
    });
    for (let reward = 0; reward < 5000; reward++) {
      add(
        'pomdp-simple',
        probs.map(([needy, good, hopeless]) => {
          const keep = -reward * needy! - (reward + 1) * hopeless!;
          const route = -100 * needy! - 100 * good! - (reward + 100) * hopeless!;
          return route > keep; // ties keep, as argmax over [keep, route] does
        }),
      );
    }
    // GreedyPOMDP: bins by smoothed mean gain (LLM - SLM), routed top-1, top-2, ...
    const gain = Array.from({ length: CENTRES }, (_, b) => {
      let n = 0;
      let g = 0;
      bins.forEach((bb, j) => {
        if (bb === b) {
          n++;
          g += llm[j]! - slm[j]!;
        }
      });
      return n === 0 ? 0 : g / n;
    });
    const smooth = gaussianSmooth(gain, 2);
    const order = smooth.map((g, b) => ({ g, b })).sort((x, y) => y.g - x.g || x.b - y.b);
    for (let top = 1; top <= CENTRES; top++) {
      const chosen = new Set(order.slice(0, top).map((o) => o.b));
      add('greedy-pomdp', Array.from({ length: CENTRES }, (_, b) => chosen.has(b)));
    }
  }
  return [...found.values()].map((t) => ({ knob: `${tableKnob(t.route)} (${t.families.join(', ')})`, route: t.route }));
}

/** 2-tier AutoMix with a lookup table: answer at lo, verify, route to hi when the bin says so. */
export function tablePolicy(lo: number, hi: number, route: readonly boolean[]): RowPolicy {
  return (row): Trace =>
    route[binOf(row.confidence[lo] ?? null)]
      ? { asked: [lo, hi], verified: [lo], returned: hi }
      : { asked: [lo], verified: [lo], returned: lo };
}

export function automixPomdpFamily(lo: number, hi: number): PolicyFamily {
  return {
    name: 'automix-pomdp',
    description: "AutoMix's POMDP as released: 9-bin keep/route tables (threshold, double threshold, POMDPSimple, GreedyPOMDP)",
    signals: 'verifier',
    candidates: (fit) => automixTables(fit.train, lo, hi).map((t) => ({ knob: t.knob, policy: tablePolicy(lo, hi, t.route) })),
  };
}

/** Tables of one stage that are on its own train Pareto frontier (as a 2-tier AutoMix), at most `max`. */
function stageFrontier(fit: FitContext, lo: number, max: number): BinTable[] {
  const tables = automixTables(fit.train, lo, lo + 1);
  const evals = tables.map((t) => evaluate(tablePolicy(lo, lo + 1, t.route), fit.train, fit));
  const front = paretoFrontier(evals).map((i) => tables[i]!);
  if (front.length <= max) return front;
  return Array.from({ length: max }, (_, i) => front[Math.round((i * (front.length - 1)) / (max - 1))]!);
}

/** Stages in series: at tier s (verified unless it is the last), stage s's table decides keep or go to s+1. */
export function chainedPolicy(routes: readonly (readonly boolean[])[]): RowPolicy {
  const last = routes.length;
  return (row) => {
    const asked = [0];
    const verified: number[] = [];
    let s = 0;
    while (s < last) {
      verified.push(s);
      if (!routes[s]![binOf(confidenceAt(row, s))]) break;
      asked.push(++s);
    }
    return { asked, verified, returned: s };
  };
}

export function chainedAutomixFamily(tiers: number): PolicyFamily {
  return {
    name: 'chained-automix',
    description: 'Chained AutoMix: a 2-tier AutoMix per consecutive pair, in series (pays every middle verifier)',
    signals: 'verifier',
    candidates: (fit) => {
      // Each stage is fitted as its own 2-tier AutoMix; the combinations are the family's operating points.
      const perStage = Math.max(3, Math.floor(Math.pow(200, 1 / (tiers - 1))));
      const stages = Array.from({ length: tiers - 1 }, (_, s) => stageFrontier(fit, s, perStage));
      let combos: BinTable[][] = [[]];
      for (const st of stages) combos = combos.flatMap((c) => st.map((t) => [...c, t]));
      return combos.map(
        (c): Candidate => ({
          knob: c.map((t, s) => `${s}->${s + 1} ${tableKnob(t.route)}`).join('; '),
          policy: chainedPolicy(c.map((t) => t.route)),
        }),
      );
    },
  };
}
