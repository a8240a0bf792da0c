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

/** max over asked tiers i of sum_s w(s) [s_i]: P(obs) x P(best asked answer correct | obs), from unnormalised w[off..off+S). */
function leafValue(w: Float64Array, off: number, S: number, asked: number): number {
  let best = 0;
  for (let i = 0; asked >> i; i++) {
    if (!(asked & (1 << i))) continue;
    let m = 0;
    for (let s = 0; s < S; s++) if (s & (1 << i)) m += w[off + s]!;
    if (m > best) best = m;
  }
  return best;
}

/** Answer-pattern tables by a numeric key (asked mask, next tier, pattern code): no string per lookup. */
const tableCache = new WeakMap<PomdpModel, Map<number, Float64Array>>();

/** Pattern symbols (-1..7) packed 4 bits each, first asked tier highest: a pattern's code given its length. */
const codeOf = (pattern: readonly number[]) => pattern.reduce((c, e) => c * 16 + (e + 1), 0);

function tableFor(model: PomdpModel, asked: number, pattern: readonly number[], code: number, j: number): Float64Array {
  let byKey = tableCache.get(model);
  if (!byKey) tableCache.set(model, (byKey = new Map()));
  const key = (code * 256 + asked) * 8 + j;
  let t = byKey.get(key);
  if (!t) byKey.set(key, (t = extensionTable(model, asked, pattern, j)));
  return t;
}

const popcount = (x: number) => {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
};

export class Solver {
  private readonly memo = new Map<string, PlanResult>();
  private readonly minProb: number;
  // Scratch buffers per depth (tiers asked): a node at depth d works in w[d] and wb[d] and hands its children
  // their belief in belief[d + 1] and pattern in pattern[d + 1]. Frames on one recursion path have distinct
  // depths, so nothing is overwritten while in use, and solving allocates (almost) nothing.
  private readonly w: Float64Array[];
  private readonly wb: Float64Array[];
  private readonly belief: Float64Array[];
  private readonly pattern: number[][];
  // The best action of the last solveAt() call (read by the caller right after it returns).
  private lastKind: 'return' | 'ask' = 'return';
  private lastTier = -1;
  private lastVerify = false;
  private lastP = 0;

  constructor(
    readonly model: PomdpModel,
    readonly opts: SolverOptions,
  ) {
    if (opts.costs.answer.length !== model.tiers || opts.costs.verify.length !== model.tiers) {
      throw new RangeError(`costs for ${opts.costs.answer.length} tiers, model of ${model.tiers}`);
    }
    if (!(opts.lambda >= 0)) throw new RangeError(`lambda must be >= 0, got ${opts.lambda}`);
    this.minProb = opts.minProb ?? 1e-9;
    const n = model.tiers;
    const S = 1 << n;
    this.w = Array.from({ length: n + 1 }, () => new Float64Array((n + 2) * S));
    this.wb = Array.from({ length: n + 1 }, () => new Float64Array(S));
    this.belief = Array.from({ length: n + 2 }, () => new Float64Array(S));
    this.pattern = Array.from({ length: n + 2 }, (_, d) => new Array<number>(d).fill(0));
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
    const memoise = this.model.tiers - 1 - topOf(node.asked) >= 2;
    if (memoise) {
      const hit = this.memo.get(node.key);
      if (hit) return hit;
    }
    const value = this.solveAt(node.asked, node.pattern, codeOf(node.pattern), classesOf(node.pattern), node.belief, node.key);
    const r = this.result(value);
    if (memoise) this.memo.set(node.key, r);
    return r;
  }

  private result(value: number): PlanResult {
    return {
      value,
      action: this.lastKind === 'return' ? { kind: 'return', tier: this.lastTier, pCorrect: this.lastP } : { kind: 'ask', tier: this.lastTier, verify: this.lastVerify },
    };
  }

  /** The value of a child node (memoised when two or more tiers remain askable below it). */
  private childValue(asked: number, pattern: number[], code: number, classes: number, belief: Float64Array, key: string): number {
    if (key === '') return this.solveAt(asked, pattern, code, classes, belief, key);
    const hit = this.memo.get(key);
    if (hit) return hit.value;
    const value = this.solveAt(asked, pattern, code, classes, belief, key);
    this.memo.set(key, this.result(value));
    return value;
  }

  /** Expectimax at a node; returns its value and leaves its best action in last*. */
  private solveAt(nodeAsked: number, nodePattern: readonly number[], code: number, classes: number, nodeBelief: Float64Array, nodeKey: string): number {
    const { model } = this;
    const n = model.tiers;
    const S = nodeBelief.length;
    const depth = popcount(nodeAsked);
    let bestValue = -Infinity;
    let bestKind: 'return' | 'ask' = 'return';
    let bestTier = -1;
    let bestVerify = false;
    let bestP = 0;
    if (nodeAsked !== 0) {
      const r = bestReturn(nodeBelief, nodeAsked);
      bestValue = r.pCorrect;
      bestTier = r.tier;
      bestP = r.pCorrect;
    }
    const E = classes + 2;
    const w = this.w[depth]!;
    const wb = this.wb[depth]!;
    const childBelief = this.belief[depth + 1]!;
    const childPattern = this.pattern[depth + 1]!;
    for (let i = 0; i < depth; i++) childPattern[i] = nodePattern[i]!;
    for (let j = topOf(nodeAsked) + 1; j < n; j++) {
      // Per answer symbol ei: the unnormalised joint b(s) P(e | s), in w[ei * S + s].
      const table = tableFor(model, nodeAsked, nodePattern, code, j);
      w.fill(0, 0, E * S);
      for (let s = 0; s < S; s++) {
        const b = nodeBelief[s]!;
        if (b === 0) continue;
        for (let ei = 0; ei < E; ei++) w[ei * S + s] = b * table[s * E + ei]!;
      }
      // Upper bound on any continuation that asks j: some tier among those asked and j.. is right, for free.
      const reachable = nodeAsked | (((1 << n) - 1) & ~((1 << j) - 1));
      let pAny = 0;
      for (let s = 0; s < S; s++) if (s & reachable) pAny += nodeBelief[s]!;
      const asked = nodeAsked | (1 << j);
      // After j, can anything still be asked? If not, a child's value is that of returning (no allocation).
      const leaf = j === n - 1;
      const memoChild = n - 1 - j >= 2;
      const pu = model.pUnknown[j]!;
      const vt = model.verify[j]!;
      for (let v = 0; v < 2; v++) {
        const verify = v === 1;
        if (verify && ((leaf && !this.opts.verifyLast) || pu >= 1)) continue;
        const cost = this.opts.lambda * (this.opts.costs.answer[j]! + (verify ? this.opts.costs.verify[j]! : 0));
        if (pAny - cost <= bestValue) continue; // even an oracle over the reachable answers could not beat the best action so far
        let expected = 0;
        for (let ei = 0; ei < E; ei++) {
          const off = ei * S;
          let pe = 0;
          for (let s = 0; s < S; s++) pe += w[off + s]!;
          if (pe < this.minProb) continue;
          const e = ei - 1;
          const childClasses = Math.max(classes, e + 1);
          const childCode = code * 16 + ei;
          childPattern[depth] = e;
          // weight x value of the child reached with unnormalised belief u (sum p = its probability).
          const child = (u: Float64Array, uOff: number, p: number, suffix: string): number => {
            if (leaf) return leafValue(u, uOff, S, asked);
            for (let s = 0; s < S; s++) childBelief[s] = u[uOff + s]! / p;
            const key = memoChild ? `${nodeKey}${j}:${e}${suffix};` : '';
            return p * this.childValue(asked, childPattern, childCode, childClasses, childBelief, key);
          };
          const unverified = verify ? pu : 1;
          if (unverified > 0) expected += unverified * child(w, off, pe, '');
          if (!verify) continue;
          for (let bin = 0; bin <= model.bins; bin++) {
            let pb = 0;
            for (let s = 0; s < S; s++) pb += wb[s] = w[off + s]! * vt[s & (1 << j) ? 1 : 0]![bin]!;
            if (pb < this.minProb) continue;
            expected += (1 - pu) * child(wb, 0, pb, `v${bin}`);
          }
        }
        const q = expected - cost;
        if (q > bestValue + 1e-12) {
          bestValue = q;
          bestKind = 'ask';
          bestTier = j;
          bestVerify = verify;
        }
      }
    }
    this.lastKind = bestKind;
    this.lastTier = bestTier;
    this.lastVerify = bestVerify;
    this.lastP = bestP;
    return bestValue;
  }
}
