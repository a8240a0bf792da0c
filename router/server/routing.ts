// Per cascade: the routing policy and what feeds it, built from the configuration before requests arrive
// (on start and on every reload) and swapped in with the rest of the router state.
//
//   threshold: ThresholdPolicy alone.
//   pomdp:     PomdpPolicy on the fitted parameters of `model` (pomdp.json); the query classifier's output as
//              RoutingState.prior (featurize + one onnxruntime-node run per request); tier costs from a
//              TierCostEstimator; lambda fixed, or held by a LambdaController to a GPU-seconds budget.
//
// A cascade uses its own `policy` when it has one, else the top-level `policy`. A POMDP model is fitted for a
// number of tiers, so a cascade with another number is refused with the path of the mismatch. A cascade whose
// policy, tiers (names, models, GPUs) and model folder did not change keeps its runtime across a reload,
// with its cost estimates and budget controller; anything else starts afresh.
import type { CascadeConfig, PolicyConfig, PomdpPolicyConfig, RouterConfig } from '../config/schema.js';
import { ConfigError, type ConfigProblem } from '../config/load.js';
import type { CascadeOutcome } from '../cascade/execute.js';
import type { OnnxQueryClassifier } from '../classifier/runtime.js';
import { TierCostEstimator } from '../policy/pomdp/costs.js';
import { LambdaController } from '../policy/pomdp/lambda.js';
import { PomdpPolicy, type PomdpExplanation } from '../policy/pomdp/policy.js';
import type { TierCosts } from '../policy/pomdp/solver.js';
import { ThresholdPolicy } from '../policy/threshold.js';
import type { RoutingPolicy, RoutingState } from '../policy/types.js';
import type { LoadedRoutingModel, RoutingModelLoader } from './routing-models.js';

export type Prior = NonNullable<RoutingState['prior']>;

export interface CascadeRouting {
  readonly policy: RoutingPolicy;
  /** Identity for reuse across reloads. */
  readonly fingerprint: string;
  /** The classifier's prior for the query text; absent when the policy takes none. */
  prior?(query: string): Promise<Prior>;
  /** A routed request finished: its calls feed the cost estimate, its GPU-seconds the budget controller. */
  finished(outcome: CascadeOutcome): void;
  /** The decision with the belief it rested on (POMDP only). */
  explain?(state: RoutingState): PomdpExplanation;
  /** Policy settings, lambda, budget and costs as of now: recorded in /v1/route and routed responses. */
  describe(): Record<string, unknown>;
}

class ThresholdRouting implements CascadeRouting {
  readonly policy: ThresholdPolicy;
  constructor(
    threshold: number,
    readonly fingerprint: string,
  ) {
    this.policy = new ThresholdPolicy(threshold);
  }
  finished(): void {}
  describe(): Record<string, unknown> {
    return this.policy.describe();
  }
}

/**
 * A budget-held lambda reaches the policy rounded to steps of 2% (log scale): the policy keys its solvers and root
 * plans on lambda, so a controller that moves it a little after every request would otherwise leave no tree reusable.
 */
const LAMBDA_STEP = 0.02;
export const quantiseLambda = (l: number) => (l > 0 ? Math.exp(Math.round(Math.log(l) / LAMBDA_STEP) * LAMBDA_STEP) : 0);

export class PomdpRouting implements CascadeRouting {
  readonly policy: PomdpPolicy;
  readonly costs: TierCostEstimator;
  readonly budget: LambdaController | null;
  private readonly classifier: OnnxQueryClassifier | null;
  private published: TierCosts;
  private publishedAt: number;

  constructor(
    readonly config: PomdpPolicyConfig,
    cascade: CascadeConfig,
    readonly loaded: LoadedRoutingModel,
    readonly fingerprint: string,
    private readonly now: () => number = Date.now,
  ) {
    const p = loaded.params;
    this.classifier = config.classifier ? loaded.classifier : null;
    this.costs = new TierCostEstimator({
      source: config.costs.source,
      gpus: cascade.tiers.map((t) => t.gpusPerReplica),
      initial: { answer: config.costs.answerSeconds ?? p.occupancySeconds.answer, verify: config.costs.verifySeconds ?? p.occupancySeconds.verify },
      window: config.costs.window,
    });
    const o = config.objective;
    this.budget =
      'gpuSecondsPerRequest' in o
        ? new LambdaController(
            {
              targetGpuSeconds: o.gpuSecondsPerRequest,
              initialLambda: o.initialLambda,
              minLambda: 1e-4,
              maxLambda: 100,
              halfLifeMs: o.halfLifeSeconds * 1000,
            },
            now,
          )
        : null;
    const budget = this.budget;
    this.published = this.costs.costs();
    this.publishedAt = now();
    this.policy = new PomdpPolicy({
      model: loaded.model,
      costs: () => this.published,
      lambda: budget ? () => quantiseLambda(budget.lambda) : (o as { lambda: number }).lambda,
      answerFormat: p.answerFormat,
      perTierPrior: 'tilt',
      priorQuantum: config.priorQuantum,
      maxSolvers: 64,
    });
  }

  async prior(query: string): Promise<Prior> {
    if (!this.classifier) throw new Error('no classifier');
    const out = await this.classifier.predict(query);
    return { perTier: out.tiers, joint: out.joint };
  }

  finished(outcome: CascadeOutcome): void {
    for (const s of outcome.steps) {
      if (s.outcome !== 'answered') continue;
      this.costs.record(s.index, 'answer', s.answerGpuSeconds);
      if (s.verifierSamples > 0 || s.verifyGpuSeconds > 0) this.costs.record(s.index, 'verify', s.verifyGpuSeconds);
    }
    this.budget?.record(outcome.gpuSeconds);
    const t = this.now();
    if (t - this.publishedAt >= this.config.costs.publishSeconds * 1000) {
      this.published = this.costs.costs();
      this.publishedAt = t;
    }
  }

  explain(state: RoutingState): PomdpExplanation {
    return this.policy.explain(state);
  }

  describe(): Record<string, unknown> {
    const c = this.costs.snapshot();
    const b = this.budget?.snapshot;
    return {
      policy: 'pomdp',
      model: this.config.model,
      tiers: this.loaded.params.tiers,
      fitted_rows: this.loaded.model.n,
      fitted_verifier: this.loaded.params.verifier,
      verifier_samples: this.loaded.params.verifierSamples,
      classifier: this.classifier ? this.classifier.name : null,
      lambda: this.budget ? quantiseLambda(this.budget.lambda) : (this.config.objective as { lambda: number }).lambda,
      prior_quantum: this.config.priorQuantum,
      objective: this.budget
        ? { gpu_seconds_per_request: this.budget.config.targetGpuSeconds, running_average: b!.average, requests_weight: b!.weight }
        : { lambda: (this.config.objective as { lambda: number }).lambda },
      costs: {
        source: c.source,
        answer_gpu_seconds: [...this.published.answer],
        verify_gpu_seconds: [...this.published.verify],
        estimate_answer_gpu_seconds: c.gpuSeconds.answer,
        estimate_verify_gpu_seconds: c.gpuSeconds.verify,
        published_every_seconds: this.config.costs.publishSeconds,
        measured_calls: { answer: c.measuredCalls.answer, verify: c.measuredCalls.verify },
      },
    };
  }
}

const policyPath = (cascade: CascadeConfig, index: number) => (cascade.policy ? `cascades.${index}.policy` : 'policy');

function fingerprintOf(policy: PolicyConfig, cascade: CascadeConfig, samples: number, stamp = ''): string {
  return JSON.stringify({ policy, tiers: cascade.tiers.map((t) => [t.name, t.model, t.gpusPerReplica]), samples, stamp });
}

/** The checks a POMDP model must pass for this cascade and configuration; problems name their paths. */
export function pomdpProblems(config: RouterConfig, cascade: CascadeConfig, index: number, policy: PomdpPolicyConfig, loaded: LoadedRoutingModel): ConfigProblem[] {
  const at = policyPath(cascade, index);
  const p = loaded.params;
  const problems: ConfigProblem[] = [];
  const n = cascade.tiers.length;
  if (p.tiers.length !== n) {
    problems.push({
      path: `cascades.${index}.tiers`,
      message:
        `cascade "${cascade.name}" has ${n} tier${n === 1 ? '' : 's'}, but the POMDP model at ${at}.model (${policy.model}) was fitted for ` +
        `${p.tiers.length} (${p.tiers.join(', ')}); give this cascade its own policy (cascades.${index}.policy) or a model trained for its tiers (tiermix train)`,
    });
  }
  for (const f of ['answerSeconds', 'verifySeconds'] as const) {
    const v = policy.costs[f];
    if (v && v.length !== n) problems.push({ path: `${at}.costs.${f}`, message: `lists ${v.length} values for the ${n} tiers of cascade "${cascade.name}"` });
  }
  // Confidence bins are fitted for k samples; a verifier that draws another k would be read against the wrong bins.
  const verifies = loaded.model.pUnknown.some((u) => u < 1);
  if (verifies && config.verification.samples !== p.verifierSamples) {
    problems.push({
      path: 'verification.samples',
      message: `is ${config.verification.samples}, but the POMDP model at ${at}.model was fitted for k=${p.verifierSamples} verifier samples; set ${p.verifierSamples} or retrain with tiermix train --verify-samples ${config.verification.samples}`,
    });
  }
  return problems;
}

/**
 * Build every cascade's routing from the configuration, loading models through `loader` (async: the
 * classifier session). Throws a ConfigError listing every problem with its path.
 */
export async function prepareRouting(
  config: RouterConfig,
  loader: RoutingModelLoader,
  previous?: ReadonlyMap<string, CascadeRouting>,
  source = 'configuration',
  now: () => number = Date.now,
): Promise<Map<string, CascadeRouting>> {
  const out = new Map<string, CascadeRouting>();
  const problems: ConfigProblem[] = [];
  for (const [index, cascade] of config.cascades.entries()) {
    const policy = cascade.policy ?? config.policy;
    if (policy.type === 'threshold') {
      const fp = fingerprintOf(policy, cascade, config.verification.samples);
      const prev = previous?.get(cascade.name);
      out.set(cascade.name, prev?.fingerprint === fp ? prev : new ThresholdRouting(policy.threshold, fp));
      continue;
    }
    const at = policyPath(cascade, index);
    let loaded: LoadedRoutingModel;
    try {
      loaded = await loader.load(policy.model, policy.classifier);
    } catch (err) {
      problems.push({ path: `${at}.model`, message: `cannot load ${JSON.stringify(policy.model)}: ${(err as Error).message}` });
      continue;
    }
    const found = pomdpProblems(config, cascade, index, policy, loaded);
    if (found.length > 0) {
      problems.push(...found);
      continue;
    }
    const fp = fingerprintOf(policy, cascade, config.verification.samples, `${loaded.dir}|${loaded.stamp}`);
    const prev = previous?.get(cascade.name);
    try {
      out.set(cascade.name, prev?.fingerprint === fp ? prev : new PomdpRouting(policy, cascade, loaded, fp, now));
    } catch (err) {
      problems.push({ path: at, message: (err as Error).message });
    }
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  return out;
}
