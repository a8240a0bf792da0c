// tiermix's N-tier POMDP as a live RoutingPolicy (router/policy/types.ts). Each decide() replays the
// request's observations into a belief over which tiers are correct, then takes the expectimax action of
// the Solver (solver.ts): return the asked tier with the highest posterior P(correct), or ask any larger tier,
// verified or not. Pure: no clock, no I/O; lambda may be a function (e.g. a LambdaController's current value).
import type { Decision, RoutingPolicy, RoutingState } from '../types.js';
import { answerKey, type AnswerFormat } from './answer.js';
import { extend, independentJoint, marginal, tiltJoint, type PomdpModel } from './model.js';
import { observe, rootNode, Solver, type Node, type TierCosts } from './solver.js';

export interface PomdpPolicyOptions {
  model: PomdpModel;
  /** GPU-seconds per answer and per verification of each tier, smallest first (from configuration). */
  costs: TierCosts;
  /** Price of one GPU-second in accuracy; or a function read at every decision (budget controller). */
  lambda: number | (() => number);
  /** How answers are compared: 'letter' (multiple choice, default) or 'text'. */
  answerFormat?: AnswerFormat;
  /** A full joint prior over the 2^N outcomes (index bit i = tier i correct); default: the model's empirical joint. */
  jointPrior?: ArrayLike<number>;
  /**
   * How RoutingState.prior.perTier (a classifier's P(correct)) is used: 'tilt' (default) fits the joint prior to
   * those marginals by iterative proportional fitting, keeping its dependence between tiers; 'independent'
   * takes the tiers as independent; 'ignore' disregards it.
   */
  perTierPrior?: 'tilt' | 'independent' | 'ignore';
  /** Allow verifying the largest tier. Default false. */
  verifyLast?: boolean;
  /** Solvers (one per distinct prior and lambda) kept with their memo. Default 16. */
  maxSolvers?: number;
}

/** lambda as used for caching: 4 significant digits. */
const roundLambda = (l: number) => (l === 0 ? 0 : Number(l.toPrecision(4)));

export class PomdpPolicy implements RoutingPolicy {
  readonly name = 'pomdp';
  private readonly solvers = new Map<string, Solver>();
  private readonly basePrior: Float64Array;

  constructor(readonly opts: PomdpPolicyOptions) {
    const n = opts.model.tiers;
    if (opts.costs.answer.length !== n || opts.costs.verify.length !== n) throw new RangeError(`costs for ${opts.costs.answer.length} tiers, model of ${n}`);
    if (opts.jointPrior) {
      if (opts.jointPrior.length !== 1 << n) throw new RangeError(`jointPrior has ${opts.jointPrior.length} entries; expected ${1 << n}`);
      const p = Float64Array.from(opts.jointPrior);
      const sum = p.reduce((a, b) => a + b, 0);
      if (!(sum > 0) || p.some((v) => !(v >= 0))) throw new RangeError('jointPrior must be non-negative with a positive sum');
      this.basePrior = p.map((v) => v / sum);
    } else this.basePrior = opts.model.jointPrior;
    this.lambda(); // validate
  }

  private lambda(): number {
    const l = typeof this.opts.lambda === 'function' ? this.opts.lambda() : this.opts.lambda;
    if (!(l >= 0 && Number.isFinite(l))) throw new RangeError(`lambda must be a finite number >= 0, got ${l}`);
    return roundLambda(l);
  }

  describe(): Record<string, unknown> {
    return {
      policy: this.name,
      lambda: this.lambda(),
      tiers: this.opts.model.tiers,
      fittedRows: this.opts.model.n,
      verifierSamples: this.opts.model.bins,
      answerCost: [...this.opts.costs.answer],
      verifyCost: [...this.opts.costs.verify],
      prior: this.opts.jointPrior ? 'joint (given)' : 'joint (empirical, train)',
      perTierPrior: this.opts.perTierPrior ?? 'tilt',
    };
  }

  /** The prior of this request and a key naming it. */
  private priorOf(state: RoutingState): { prior: Float64Array; key: string } {
    const how = this.opts.perTierPrior ?? 'tilt';
    const per = state.prior?.perTier;
    if (!per || how === 'ignore') return { prior: this.basePrior, key: 'base' };
    if (per.length !== this.opts.model.tiers) throw new RangeError(`prior.perTier has ${per.length} entries for ${this.opts.model.tiers} tiers`);
    const prior = how === 'independent' ? independentJoint(per) : tiltJoint(this.basePrior, per);
    return { prior, key: `${how}:${per.map((p) => p.toFixed(4)).join(',')}` };
  }

  private solver(priorKey: string, lambda: number): Solver {
    const key = `${priorKey}@${lambda}`;
    let s = this.solvers.get(key);
    if (s) {
      // LRU: move to the end.
      this.solvers.delete(key);
      this.solvers.set(key, s);
      return s;
    }
    s = new Solver(this.opts.model, { lambda, costs: this.opts.costs, verifyLast: this.opts.verifyLast ?? false });
    this.solvers.set(key, s);
    const max = this.opts.maxSolvers ?? 16;
    while (this.solvers.size > max) this.solvers.delete(this.solvers.keys().next().value!);
    return s;
  }

  /** The belief node after the request's observations (exported for tests and logging). */
  node(state: RoutingState): { node: Node; priorKey: string } {
    const n = this.opts.model.tiers;
    if (state.cascade.tiers.length !== n) throw new RangeError(`pomdp: cascade ${state.cascade.name} has ${state.cascade.tiers.length} tiers, the model ${n}`);
    const { prior, key } = this.priorOf(state);
    let node = rootNode(prior);
    const classes: string[] = [];
    for (const o of state.observations) {
      const a = answerKey(o.answer, this.opts.answerFormat ?? 'letter');
      const e = extend(classes, a);
      if (a !== null && e === classes.length) classes.push(a);
      node = observe(this.opts.model, node, o.tier, e, o.confidence);
    }
    return { node, priorKey: key };
  }

  decide(state: RoutingState): Decision {
    const { node, priorKey } = this.node(state);
    const lambda = this.lambda();
    const plan = this.solver(priorKey, lambda).plan(node);
    const a = plan.action;
    if (a.kind === 'return') {
      const observation = state.observations.findIndex((o) => o.tier === a.tier);
      return {
        action: 'return',
        observation,
        confidence: a.pCorrect,
        reason: `posterior P(correct) ${a.pCorrect.toFixed(3)} for tier ${a.tier}; no tier is worth its cost at lambda ${lambda}`,
      };
    }
    const pNow = node.asked === 0 ? 0 : Math.max(...state.observations.map((o) => marginal(node.belief, o.tier)));
    return {
      action: 'ask',
      tier: a.tier,
      verify: a.verify,
      reason: `expected reward ${plan.value.toFixed(3)} at lambda ${lambda} beats returning now (${pNow.toFixed(3)})`,
    };
  }
}
