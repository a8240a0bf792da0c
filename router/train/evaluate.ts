// Offline evaluation of a policy: a pure function over one row's observable signals that says which tiers
// were asked, which were self-verified, and whose answer was returned. Accuracy is the returned tier's
// correct__; cost is the sum of the asked tiers' answer costs plus the verified tiers' verification costs.
import type { TierCost, TierSpec } from './cost.js';
import type { ObservedRow } from './observe.js';

export interface Trace {
  /** Tiers asked, in order (strictly increasing). */
  asked: number[];
  /** Tiers whose answer was self-verified (a subset of asked). */
  verified: number[];
  /** Tier whose answer was returned (one of asked). */
  returned: number;
}

export type RowPolicy = (row: ObservedRow) => Trace;

/** One operating point of a policy family: a row policy, or a random mix of two (weight w on b). */
export type Candidate =
  | { knob: string; policy: RowPolicy }
  | { knob: string; mix: { a: RowPolicy; b: RowPolicy; w: number } };

export interface EvalContext {
  tiers: TierSpec[];
  costs: TierCost[];
}

export interface Evaluation {
  n: number;
  accuracy: number;
  /** Mean GPU-seconds per request. */
  cost: number;
  /** Per tier: share of requests that asked it, verified it, got its answer. */
  asked: number[];
  verified: number[];
  returned: number[];
  /** Share of requests that asked more than one tier. */
  escalated: number;
}

function checkTrace(t: Trace, tiers: number): void {
  const ok =
    t.asked.length > 0 &&
    t.asked.every((x, i) => Number.isInteger(x) && x >= 0 && x < tiers && (i === 0 || x > t.asked[i - 1]!)) &&
    t.verified.every((x) => t.asked.includes(x)) &&
    t.asked.includes(t.returned);
  if (!ok) throw new Error(`invalid trace ${JSON.stringify(t)} for ${tiers} tiers`);
}

export function evaluate(policy: RowPolicy, rows: readonly ObservedRow[], ctx: EvalContext): Evaluation {
  const k = ctx.tiers.length;
  const asked = new Array<number>(k).fill(0);
  const verified = new Array<number>(k).fill(0);
  const returned = new Array<number>(k).fill(0);
  let correct = 0;
  let cost = 0;
  let escalated = 0;
  for (const row of rows) {
    const t = policy(row);
    checkTrace(t, k);
    for (const i of t.asked) {
      asked[i]!++;
      cost += ctx.costs[i]!.answer;
    }
    for (const i of t.verified) {
      verified[i]!++;
      cost += ctx.costs[i]!.verify;
    }
    returned[t.returned]!++;
    if (row.tiers[t.returned]!.correct) correct++;
    if (t.asked.length > 1) escalated++;
  }
  const n = rows.length;
  const share = (v: number) => (n === 0 ? 0 : v / n);
  return {
    n,
    accuracy: share(correct),
    cost: share(cost),
    asked: asked.map(share),
    verified: verified.map(share),
    returned: returned.map(share),
    escalated: share(escalated),
  };
}

/** The expected result of using b with probability w and a otherwise (random mixing is exact in expectation). */
export function mixEvaluations(a: Evaluation, b: Evaluation, w: number): Evaluation {
  const lerp = (x: number, y: number) => (1 - w) * x + w * y;
  const lerpAll = (x: number[], y: number[]) => x.map((v, i) => lerp(v, y[i]!));
  return {
    n: a.n,
    accuracy: lerp(a.accuracy, b.accuracy),
    cost: lerp(a.cost, b.cost),
    asked: lerpAll(a.asked, b.asked),
    verified: lerpAll(a.verified, b.verified),
    returned: lerpAll(a.returned, b.returned),
    // Requests that escalate under a or b escalate under the mix with the same weights.
    escalated: lerp(a.escalated, b.escalated),
  };
}

export function evaluateCandidate(c: Candidate, rows: readonly ObservedRow[], ctx: EvalContext): Evaluation {
  if ('policy' in c) return evaluate(c.policy, rows, ctx);
  return mixEvaluations(evaluate(c.mix.a, rows, ctx), evaluate(c.mix.b, rows, ctx), c.mix.w);
}

/**
 * Indices of the points no other point dominates (cheaper or equal and at least as accurate), cheapest
 * first. Selecting operating points this way on TRAIN is the only fitting a knob sweep gets.
 */
export function paretoFrontier(points: readonly { cost: number; accuracy: number }[]): number[] {
  const order = points.map((_, i) => i).sort((i, j) => points[i]!.cost - points[j]!.cost || points[j]!.accuracy - points[i]!.accuracy);
  const keep: number[] = [];
  let best = -Infinity;
  for (const i of order) {
    if (points[i]!.accuracy > best + 1e-12) {
      keep.push(i);
      best = points[i]!.accuracy;
    }
  }
  return keep;
}

/** Trace helpers for policies. */
export const only = (tier: number): Trace => ({ asked: [tier], verified: [], returned: tier });
