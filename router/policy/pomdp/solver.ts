// tiermix's POMDP, part 2: belief updates and the exact solver. Reward = P(returned answer correct) -
// lambda x GPU-seconds spent. From a node (tiers asked so far, their answer pattern, belief over s) the actions
// are: return the asked tier with the highest posterior P(correct); or ask any larger tier j, with or without
// self-verification. Expectimax over actions and observation outcomes (answer-pattern symbol x confidence
// bin), exact over the whole remaining tree; values are memoised per history within one Solver (one prior,
// one lambda), so a policy with a fixed prior pays the tree once and then looks decisions up.
import { binOf, classesOf, extensionTable, extIndex, marginal, type PomdpModel } from './model.js';

export interface TierCosts {
  /** GPU-seconds of one answer per tier. */
  answer: readonly number[];
  /** GPU-seconds of one self-verification per tier. */
  verify: readonly number[];
}

export interface SolverOptions {
  lambda: number;
  costs: TierCosts;
  /** Allow verifying the largest tier (only useful to choose between answers already in hand). Default false. */
  verifyLast?: boolean;
  /** Observation outcomes rarer than this are skipped. Default 1e-9. */
  minProb?: number;
}

export type PlanAction = { kind: 'return'; tier: number; pCorrect: number } | { kind: 'ask'; tier: number; verify: boolean };

export interface PlanResult {
  /** Expected reward from here (accuracy - lambda x further GPU-seconds). */
  value: number;
  action: PlanAction;
}

/** Where a request stands: tiers asked (bit mask), their answer pattern (in tier order), the belief over s. */
export interface Node {
  asked: number;
  pattern: number[];
  belief: Float64Array;
  /** History key: identifies the node within one Solver. */
  key: string;
}

export const rootNode = (prior: Float64Array): Node => ({ asked: 0, pattern: [], belief: prior, key: '' });

const topOf = (mask: number) => 31 - Math.clz32(mask);

function normalise(w: Float64Array): number {
  let sum = 0;
  for (const v of w) sum += v;
  if (sum > 0) for (let i = 0; i < w.length; i++) w[i]! /= sum;
  return sum;
}

/** The tier to return: the asked tier with the highest posterior P(correct) (ties: the larger tier). */
export function bestReturn(belief: Float64Array, asked: number): { tier: number; pCorrect: number } {
  let tier = -1;
  let p = -1;
  for (let i = 0; asked >> i; i++) {
    if (!(asked & (1 << i))) continue;
    const m = marginal(belief, i);
    if (m >= p) [tier, p] = [i, m];
  }
  return { tier, pCorrect: p };
}

/** The node after asking tier j and seeing answer symbol e and, if verified, confidence (null = none). */
export function observe(model: PomdpModel, node: Node, j: number, e: number, confidence: number | null): Node {
  if (j <= topOf(node.asked) || j >= model.tiers) throw new RangeError(`tier ${j} after asked mask ${node.asked}`);
  const S = node.belief.length;
  const w = new Float64Array(S);
  const ei = extIndex(e);
  const E = classesOf(node.pattern) + 2;
  if (ei < 0 || ei >= E) throw new RangeError(`answer symbol ${e} after pattern ${node.pattern.join(',')}`);
  const table = extensionTable(model, node.asked, node.pattern, j);
  for (let s = 0; s < S; s++) w[s] = node.belief[s]! * table[s * E + ei]!;
  let key = `${node.key}${j}:${e}`;
  if (confidence !== null) {
    const b = binOf(confidence, model.bins);
    for (let s = 0; s < S; s++) w[s]! *= model.verify[j]![s & (1 << j) ? 1 : 0]![b]!;
    key += `v${b}`;
  }
  normalise(w);
  return { asked: node.asked | (1 << j), pattern: [...node.pattern, e], belief: w, key: key + ';' };
}

/** max over asked tiers i of sum_s w(s) [s_i]: P(obs) x P(best asked answer correct | obs), from unnormalised w. */
function leafValue(w: Float64Array, asked: number): number {
  let best = 0;
  for (let i = 0; asked >> i; i++) {
    if (!(asked & (1 << i))) continue;
    let m = 0;
    for (let s = 0; s < w.length; s++) if (s & (1 << i)) m += w[s]!;
    if (m > best) best = m;
  }
  return best;
}

export class Solver {
  private readonly memo = new Map<string, PlanResult>();
  private readonly minProb: number;

  constructor(
    readonly model: PomdpModel,
    readonly opts: SolverOptions,
  ) {
    if (opts.costs.answer.length !== model.tiers || opts.costs.verify.length !== model.tiers) {
      throw new RangeError(`costs for ${opts.costs.answer.length} tiers, model of ${model.tiers}`);
    }
    if (!(opts.lambda >= 0)) throw new RangeError(`lambda must be >= 0, got ${opts.lambda}`);
    this.minProb = opts.minProb ?? 1e-9;
  }

  /** Nodes memoised so far. */
  get size(): number {
    return this.memo.size;
  }

  /**
   * The best action at a node and its expected reward. Nodes with two or more tiers still askable are memoised
   * by history key; nodes with one left are cheap and solved afresh (keeps the memo and the garbage small).
   */
  plan(node: Node): PlanResult {
    if (this.model.tiers - 1 - topOf(node.asked) < 2) return this.solve(node);
    const hit = this.memo.get(node.key);
    if (hit) return hit;
    const r = this.solve(node);
    this.memo.set(node.key, r);
    return r;
  }

  private solve(node: Node): PlanResult {
    const { model } = this;
    const n = model.tiers;
    const S = node.belief.length;
    let best: PlanResult = { value: -Infinity, action: { kind: 'return', tier: -1, pCorrect: 0 } };
    if (node.asked !== 0) {
      const r = bestReturn(node.belief, node.asked);
      best = { value: r.pCorrect, action: { kind: 'return', ...r } };
    }
    const E = classesOf(node.pattern) + 2;
    for (let j = topOf(node.asked) + 1; j < n; j++) {
      // Per answer symbol: the unnormalised joint b(s) P(e | s).
      const w = Array.from({ length: E }, () => new Float64Array(S));
      const table = extensionTable(model, node.asked, node.pattern, j);
      for (let s = 0; s < S; s++) {
        const b = node.belief[s]!;
        if (b === 0) continue;
        for (let ei = 0; ei < E; ei++) w[ei]![s] = b * table[s * E + ei]!;
      }
      // Upper bound on any continuation that asks j: some tier among those asked and j.. is right, for free.
      const reachable = node.asked | (((1 << n) - 1) & ~((1 << j) - 1));
      let pAny = 0;
      for (let s = 0; s < S; s++) if (s & reachable) pAny += node.belief[s]!;
      const asked = node.asked | (1 << j);
      // After j, can anything still be asked? If not, a child's value is that of returning (no allocation).
      const leaf = j === n - 1;
      const memoChild = n - 1 - j >= 2;
      const pu = model.pUnknown[j]!;
      const vt = model.verify[j]!;
      const wb = new Float64Array(S);
      for (const verify of [false, true]) {
        if (verify && ((leaf && !this.opts.verifyLast) || pu >= 1)) continue;
        const cost = this.opts.lambda * (this.opts.costs.answer[j]! + (verify ? this.opts.costs.verify[j]! : 0));
        if (pAny - cost <= best.value) continue; // even an oracle over the reachable answers could not beat the best action so far
        let expected = 0;
        // weight x value of the child reached with unnormalised belief u (sum = its probability).
        const child = (u: Float64Array, p: number, e: number, suffix: string): number => {
          if (leaf) return leafValue(u, asked);
          const belief = new Float64Array(S);
          for (let s = 0; s < S; s++) belief[s] = u[s]! / p;
          const key = memoChild ? `${node.key}${j}:${e}${suffix};` : '';
          return p * this.plan({ asked, pattern: [...node.pattern, e], belief, key }).value;
        };
        for (let ei = 0; ei < E; ei++) {
          const we = w[ei]!;
          let pe = 0;
          for (let s = 0; s < S; s++) pe += we[s]!;
          if (pe < this.minProb) continue;
          const e = ei - 1;
          const unverified = verify ? pu : 1;
          if (unverified > 0) expected += unverified * child(we, pe, e, '');
          if (!verify) continue;
          for (let bin = 0; bin <= model.bins; bin++) {
            let pb = 0;
            for (let s = 0; s < S; s++) pb += wb[s] = we[s]! * vt[s & (1 << j) ? 1 : 0]![bin]!;
            if (pb < this.minProb) continue;
            expected += (1 - pu) * child(wb, pb, e, `v${bin}`);
          }
        }
        const q = expected - cost;
        if (q > best.value + 1e-12) best = { value: q, action: { kind: 'ask', tier: j, verify } };
      }
    }
    return best;
  }
}
