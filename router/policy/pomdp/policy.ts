// tiermix's N-tier POMDP as a live RoutingPolicy (router/policy/types.ts). Each decide() replays the
// request's observations into a belief over which tiers are correct, then takes the expectimax action of
// the Solver (solver.ts): return the asked tier with the highest posterior P(correct), or ask any larger tier,
// verified or not. Pure: no clock, no I/O; lambda and the costs may be functions read at every decision (a
// budget controller, a live cost estimate), and solvers are cached per (prior, lambda, costs).
import type { Decision, RoutingPolicy, RoutingState } from '../types.js';
import { answerKey, type AnswerFormat } from './answer.js';
import { extend, independentJoint, marginal, tiltJoint, type PomdpModel } from './model.js';
import { observe, rootNode, Solver, type Node, type PlanResult, type TierCosts } from './solver.js';

export interface PomdpPolicyOptions {
  model: PomdpModel;
  /** GPU-seconds per answer and per verification of each tier, smallest first; or a function read at every decision. */
  costs: TierCosts | (() => TierCosts);
  /** Price of one GPU-second in accuracy; or a function read at every decision (budget controller). */
  lambda: number | (() => number);
  /** How answers are compared: 'letter' (multiple choice, default) or 'text'. */
  answerFormat?: AnswerFormat;
  /** A full joint prior over the 2^N outcomes (index bit i = tier i correct); default: the model's empirical joint. */
  jointPrior?: ArrayLike<number>;
  /**
   * How RoutingState.prior (a classifier's output) is used: 'tilt' (default) fits the joint prior to its
   * perTier marginals by iterative proportional fitting, keeping the joint's dependence between tiers;
   * 'joint' takes the classifier's own joint (prior.joint; tilt when absent); 'independent' multiplies the
   * marginals; 'ignore' disregards it.
   */
  perTierPrior?: 'tilt' | 'joint' | 'independent' | 'ignore';
  /**
   * Round the classifier's probabilities to multiples of this before use (e.g. 0.01), so that requests with
   * nearly the same prior share a solver and its memoised tree. 0 (default) = exact (4 decimals).
   */
  priorQuantum?: number;
  /** Allow verifying the largest tier. Default false. */
  verifyLast?: boolean;
  /** Solvers (one per distinct prior, lambda and costs) kept with their memo. Default 16. */
  maxSolvers?: number;
  /** First decisions (the root of the tree) kept per (prior, lambda, costs), so a prior seen before costs a lookup. Default 8192. */
  maxRootPlans?: number;
}

/** What a decision rested on, for /v1/route and logs. */
export interface PomdpExplanation {
  lambda: number;
  costs: { answer: number[]; verify: number[] };
  /** The prior used (after tilting / quantising), per tier and joint (bit i = tier i correct). */
  prior: { perTier: number[]; joint: number[]; source: string };
  /** The belief after the request's observations. */
  posterior: { perTier: number[]; joint: number[] };
  /** Expected reward (accuracy - lambda x further GPU-seconds) of the chosen action. */
  value: number;
  decision: Decision;
}

/** lambda as used for caching, and live costs: 4 and 3 significant digits. */
const roundLambda = (l: number) => (l === 0 ? 0 : Number(l.toPrecision(4)));
const roundCost = (c: number) => (c === 0 ? 0 : Number(c.toPrecision(3)));
const marginals = (joint: Float64Array, n: number) => Array.from({ length: n }, (_, i) => marginal(joint, i));

export class PomdpPolicy implements RoutingPolicy {
  readonly name = 'pomdp';
  private readonly solvers = new Map<string, Solver>();
  private readonly rootPlans = new Map<string, PlanResult>();
  private readonly basePrior: Float64Array;
  private lastCosts: { key: string; costs: TierCosts } | null = null;

  constructor(readonly opts: PomdpPolicyOptions) {
    const n = opts.model.tiers;
    const costs = this.costs();
    if (costs.costs.answer.length !== n || costs.costs.verify.length !== n) throw new RangeError(`costs for ${costs.costs.answer.length} tiers, model of ${n}`);
    if (opts.jointPrior) {
      if (opts.jointPrior.length !== 1 << n) throw new RangeError(`jointPrior has ${opts.jointPrior.length} entries; expected ${1 << n}`);
      const p = Float64Array.from(opts.jointPrior);
      const sum = p.reduce((a, b) => a + b, 0);
      if (!(sum > 0) || p.some((v) => !(v >= 0))) throw new RangeError('jointPrior must be non-negative with a positive sum');
      this.basePrior = p.map((v) => v / sum);
    } else this.basePrior = opts.model.jointPrior;
    if (opts.priorQuantum !== undefined && !(opts.priorQuantum >= 0 && opts.priorQuantum < 0.5)) throw new RangeError(`priorQuantum must be in [0, 0.5), got ${opts.priorQuantum}`);
    this.lambda(); // validate
  }

  private lambda(): number {
    const l = typeof this.opts.lambda === 'function' ? this.opts.lambda() : this.opts.lambda;
    if (!(l >= 0 && Number.isFinite(l))) throw new RangeError(`lambda must be a finite number >= 0, got ${l}`);
    return roundLambda(l);
  }

  /** The costs of this decision, rounded, and a key naming them (the same object while they do not change). */
  private costs(): { key: string; costs: TierCosts } {
    const live = typeof this.opts.costs === 'function';
    const raw = typeof this.opts.costs === 'function' ? this.opts.costs() : this.opts.costs;
    // Live estimates move a little with every request: rounded, so that solvers can be reused. Fixed costs are exact.
    const answer = live ? raw.answer.map(roundCost) : [...raw.answer];
    const verify = live ? raw.verify.map(roundCost) : [...raw.verify];
    if ([...answer, ...verify].some((c) => !(c >= 0 && Number.isFinite(c)))) throw new RangeError(`costs must be finite numbers >= 0, got ${JSON.stringify(raw)}`);
    const key = `${answer.join(',')}/${verify.join(',')}`;
    if (this.lastCosts?.key !== key) this.lastCosts = { key, costs: { answer, verify } };
    return this.lastCosts;
  }

  describe(): Record<string, unknown> {
    const { costs } = this.costs();
    return {
      policy: this.name,
      lambda: this.lambda(),
      tiers: this.opts.model.tiers,
      fittedRows: this.opts.model.n,
      verifierSamples: this.opts.model.bins,
      answerCost: [...costs.answer],
      verifyCost: [...costs.verify],
      prior: this.opts.jointPrior ? 'joint (given)' : 'joint (empirical, train)',
      perTierPrior: this.opts.perTierPrior ?? 'tilt',
      priorQuantum: this.opts.priorQuantum ?? 0,
    };
  }

  /** The prior of this request and a key naming it. */
  private priorOf(state: RoutingState): { prior: Float64Array; key: string; source: string } {
    const how = this.opts.perTierPrior ?? 'tilt';
    const n = this.opts.model.tiers;
    const given = state.prior;
    if (!given || how === 'ignore') return { prior: this.basePrior, key: 'base', source: this.opts.jointPrior ? 'joint (given)' : 'empirical joint (train)' };
    const q = this.opts.priorQuantum ?? 0;
    const round = q > 0 ? (p: number) => Math.min(1 - q / 2, Math.max(q / 2, Math.round(p / q) * q)) : (p: number) => p;
    if (how === 'joint' && given.joint) {
      if (given.joint.length !== 1 << n) throw new RangeError(`prior.joint has ${given.joint.length} entries for ${n} tiers`);
      const j = Float64Array.from(given.joint, (p) => Math.max(round(p), 1e-9));
      const sum = j.reduce((a, b) => a + b, 0);
      for (let s = 0; s < j.length; s++) j[s]! /= sum;
      return { prior: j, key: `joint:${[...j].map((p) => p.toFixed(4)).join(',')}`, source: 'classifier joint' };
    }
    if (given.perTier.length !== n) throw new RangeError(`prior.perTier has ${given.perTier.length} entries for ${n} tiers`);
    const per = given.perTier.map(round);
    const kind = how === 'independent' ? 'independent' : 'tilt';
    const prior = kind === 'independent' ? independentJoint(per) : tiltJoint(this.basePrior, per);
    return {
      prior,
      key: `${kind}:${per.map((p) => p.toFixed(4)).join(',')}`,
      source: kind === 'independent' ? 'classifier marginals, tiers independent' : 'classifier marginals tilted onto the empirical joint',
    };
  }

  private solver(priorKey: string, lambda: number, costs: { key: string; costs: TierCosts }): Solver {
    const key = `${priorKey}@${lambda}@${costs.key}`;
    let s = this.solvers.get(key);
    if (s) {
      // LRU: move to the end.
      this.solvers.delete(key);
      this.solvers.set(key, s);
      return s;
    }
    s = new Solver(this.opts.model, { lambda, costs: costs.costs, verifyLast: this.opts.verifyLast ?? false });
    this.solvers.set(key, s);
    const max = this.opts.maxSolvers ?? 16;
    while (this.solvers.size > max) this.solvers.delete(this.solvers.keys().next().value!);
    return s;
  }

  /** The first decision for this prior, lambda and costs: looked up, or solved and kept (oldest dropped first). */
  private rootPlan(priorKey: string, lambda: number, costs: { key: string; costs: TierCosts }, node: Node): PlanResult {
    const key = `${priorKey}@${lambda}@${costs.key}`;
    const hit = this.rootPlans.get(key);
    if (hit) return hit;
    const plan = this.solver(priorKey, lambda, costs).plan(node);
    this.rootPlans.set(key, plan);
    if (this.rootPlans.size > (this.opts.maxRootPlans ?? 8192)) this.rootPlans.delete(this.rootPlans.keys().next().value!);
    return plan;
  }

  /** The belief node after the request's observations (exported for tests and logging). */
  node(state: RoutingState): { node: Node; priorKey: string; prior: Float64Array; source: string } {
    const n = this.opts.model.tiers;
    if (state.cascade.tiers.length !== n) throw new RangeError(`pomdp: cascade ${state.cascade.name} has ${state.cascade.tiers.length} tiers, the model ${n}`);
    const { prior, key, source } = this.priorOf(state);
    let node = rootNode(prior);
    const classes: string[] = [];
    for (const o of state.observations) {
      const a = answerKey(o.answer, this.opts.answerFormat ?? 'letter');
      const e = extend(classes, a);
      if (a !== null && e === classes.length) classes.push(a);
      node = observe(this.opts.model, node, o.tier, e, o.confidence);
    }
    return { node, priorKey: key, prior, source };
  }

  decide(state: RoutingState): Decision {
    return this.plan(state).decision;
  }

  /** decide() with what it rested on: the prior, the posterior, lambda, the costs and the plan's value. */
  explain(state: RoutingState): PomdpExplanation {
    const r = this.plan(state);
    const n = this.opts.model.tiers;
    return {
      lambda: r.lambda,
      costs: { answer: [...r.costs.answer], verify: [...r.costs.verify] },
      prior: { perTier: marginals(r.prior, n), joint: [...r.prior], source: r.source },
      posterior: { perTier: marginals(r.node.belief, n), joint: [...r.node.belief] },
      value: r.plan.value,
      decision: r.decision,
    };
  }

  private plan(state: RoutingState) {
    const { node, priorKey, prior, source } = this.node(state);
    const lambda = this.lambda();
    const costs = this.costs();
    const plan: PlanResult = node.asked === 0 ? this.rootPlan(priorKey, lambda, costs, node) : this.solver(priorKey, lambda, costs).plan(node);
    const a = plan.action;
    let decision: Decision;
    if (a.kind === 'return') {
      const observation = state.observations.findIndex((o) => o.tier === a.tier);
      decision = {
        action: 'return',
        observation,
        confidence: a.pCorrect,
        reason: `posterior P(correct) ${a.pCorrect.toFixed(3)} for tier ${a.tier}; no tier is worth its cost at lambda ${lambda}`,
      };
    } else {
      const pNow = node.asked === 0 ? 0 : Math.max(...state.observations.map((o) => marginal(node.belief, o.tier)));
      decision = {
        action: 'ask',
        tier: a.tier,
        verify: a.verify,
        reason: `expected reward ${plan.value.toFixed(3)} at lambda ${lambda} beats returning now (${pNow.toFixed(3)})`,
      };
    }
    return { decision, plan, node, prior, source, lambda, costs: costs.costs };
  }
}
