// Running one routed request through a cascade: the policy decides, this loop carries the decisions out
// (ask a tier, self-verify on the same tier, fall back past a failing tier) and records what happened.
import type { RetryConfig, VerificationConfig, CascadeConfig } from '../config/schema.js';
import type { RouterMetrics } from '../metrics/router-metrics.js';
import type { CascadeView, Decision, RoutingPolicy, RoutingState, TierObservation } from '../policy/types.js';
import { UpstreamError, type CancelSignal, type TierClient, type UpstreamPath } from '../upstream/types.js';
import { confidenceFrom } from '../verify/confidence.js';
import { VERIFY_STOP, buildVerificationPrompt } from '../verify/prompt.js';
import { answerText, type RoutedQuery } from './query.js';
import { TierAccess, type HoldRecord, type TierSource } from './tier-access.js';

export interface CascadeRuntime {
  config: CascadeConfig;
  view: CascadeView;
  /** One client per tier, index-aligned with config.tiers. */
  clients: TierClient[];
}

export interface TierStep {
  tier: string;
  index: number;
  outcome: 'answered' | 'failed';
  confidence: number | null;
  verifierSamples: number;
  answerSeconds: number;
  verifySeconds: number;
  gpuSeconds: number;
  /** gpuSeconds split into the answer call and the verification call (0 when not verified). */
  answerGpuSeconds: number;
  verifyGpuSeconds: number;
  /** Why this tier was asked. */
  reason: string;
  /** Seconds the request was held for this tier to get a replica (scale from zero); 0 when it had one. */
  heldSeconds: number;
  error?: string;
}

export interface CascadeOutcome {
  /** The chosen tier's response body, as the tier returned it. */
  body: Record<string, unknown>;
  tierIndex: number;
  tier: string;
  confidence: number | null;
  reason: string;
  /** GPU-seconds of every upstream call this request made (answers and verifications, all tiers). */
  gpuSeconds: number;
  steps: TierStep[];
  policySeconds: number;
  /** Holds for tiers with no replica (scale from zero), in order. */
  holds: HoldRecord[];
  /** The tiers the request was meant for that had no replica, so that another tier served it. */
  coldTiers: string[];
}

export interface ExecuteOptions {
  policy: RoutingPolicy;
  verification: VerificationConfig;
  retry: RetryConfig;
  metrics?: RouterMetrics;
  signal?: CancelSignal;
  /** The query classifier's prior (RoutingState.prior), computed before the first decision. */
  prior?: RoutingState['prior'];
  /** Scale from zero: newer router states and holding for a tier with no replica (tier-access.ts). */
  scaleFromZero?: { source: TierSource; holdSeconds: number };
}

const PATHS: Record<RoutedQuery['kind'], UpstreamPath> = { chat: '/v1/chat/completions', completion: '/v1/completions' };

export async function executeCascade(
  runtime: CascadeRuntime,
  routed: RoutedQuery,
  requestBody: Record<string, unknown>,
  opts: ExecuteOptions,
): Promise<CascadeOutcome> {
  const { config, view } = runtime;
  const last = config.tiers.length - 1;
  const state: RoutingState = { cascade: view, query: routed.query, observations: [], ...(opts.prior ? { prior: opts.prior } : {}) };
  const bodies: Record<string, unknown>[] = [];
  const steps: TierStep[] = [];
  const access = new TierAccess(runtime, opts.scaleFromZero?.source, opts.scaleFromZero?.holdSeconds ?? 0, opts.signal);
  const coldTiers: string[] = [];
  let gpuSeconds = 0;
  let policySeconds = 0;
  let fallbacksLeft = opts.retry.tierFallbacks;
  let lastAsked = -1;

  const decide = (): Decision => {
    const t0 = performance.now();
    const d = opts.policy.decide(state);
    policySeconds += (performance.now() - t0) / 1000;
    return d;
  };

  const finish = (index: number, confidence: number | null, reason: string): CascadeOutcome => {
    const obs = state.observations[index]!;
    return {
      body: bodies[index]!, tierIndex: obs.tier, tier: config.tiers[obs.tier]!.name, confidence, reason, gpuSeconds, steps, policySeconds,
      holds: access.holds, coldTiers,
    };
  };
  /** No way forward: an answer already in hand (from a smaller tier) beats an error; with none, the error goes out. */
  const bestOrThrow = (err: UpstreamError, why: string): CascadeOutcome => {
    const best = bestSoFar(state.observations);
    if (best < 0) throw err;
    const b = state.observations[best]!;
    return finish(best, b.confidence, `${why}; returning the best answer so far, from tier ${config.tiers[b.tier]!.name}`);
  };

  // Each tier is asked at most once and tiers only grow, so the loop ends within tiers.length asks (a tier with no
  // replica is skipped at most once more: it joins access.cold).
  let decision = decide();
  for (;;) {
    if (decision.action === 'return') {
      if (!state.observations[decision.observation]) {
        throw new Error(`policy ${opts.policy.name} returned observation ${decision.observation}, which does not exist`);
      }
      return finish(decision.observation, decision.confidence, decision.reason);
    }
    if (decision.tier <= lastAsked || decision.tier > last) {
      throw new Error(`policy ${opts.policy.name} asked tier ${decision.tier} after tier ${lastAsked} in a ${last + 1}-tier cascade`);
    }
    if (lastAsked >= 0) {
      opts.metrics?.recordEscalation({ cascade: config.name, from_tier: config.tiers[lastAsked]!.name, to_tier: config.tiers[decision.tier]!.name, reason: 'verify' });
    }
    let ask: { tier: number; verify: boolean; reason: string } = decision;
    for (;;) {
      const tierName = config.tiers[ask.tier]!.name;
      // A tier with no replica: held until one appears (a newer state's client), else the nearest warm tier.
      const got = await access.get(ask.tier, lastAsked);
      if (got.kind === 'cold') {
        if (!coldTiers.includes(tierName)) coldTiers.push(tierName);
        const held = got.heldSeconds > 0 ? ` after holding ${got.heldSeconds.toFixed(1)}s` : '';
        steps.push({
          tier: tierName, index: ask.tier, outcome: 'failed', confidence: null, verifierSamples: 0, answerSeconds: 0, verifySeconds: 0,
          gpuSeconds: 0, answerGpuSeconds: 0, verifyGpuSeconds: 0, reason: ask.reason, heldSeconds: got.heldSeconds,
          error: `no_replica: tier ${tierName} has no replica${held}`,
        });
        if (got.fallback < 0) return bestOrThrow(access.noReplica(ask.tier, got.heldSeconds), `tier ${tierName} has no replica${held}`);
        const to = config.tiers[got.fallback]!.name;
        if (got.fallback > ask.tier) opts.metrics?.recordEscalation({ cascade: config.name, from_tier: tierName, to_tier: to, reason: 'fallback' });
        ask = { tier: got.fallback, verify: got.fallback < last, reason: `scale from zero: tier ${tierName} has no replica${held}; served by warm tier ${to}` };
        continue;
      }
      const { tier: tierCfg, client } = got.ready;
      lastAsked = ask.tier;
      try {
        const answer = await client.postJson<Record<string, unknown>>(
          PATHS[routed.kind],
          { ...requestBody, model: tierCfg.model, stream: false },
          { purpose: 'answer', ...(opts.signal ? { signal: opts.signal } : {}) },
        );
        const step: TierStep = {
          tier: tierName, index: ask.tier, outcome: 'answered', confidence: null, verifierSamples: 0,
          answerSeconds: answer.seconds, verifySeconds: 0, gpuSeconds: answer.gpuSeconds,
          answerGpuSeconds: answer.gpuSeconds, verifyGpuSeconds: 0, reason: ask.reason, heldSeconds: got.heldSeconds,
        };
        gpuSeconds += answer.gpuSeconds;
        opts.metrics?.recordGpuSeconds({ cascade: config.name, tier: tierName, purpose: 'answer' }, answer.gpuSeconds);
        opts.metrics?.recordTierCall({ cascade: config.name, tier: tierName, purpose: 'answer' }, answer.body);
        const text = answerText(routed.kind, answer.body) ?? '';
        const observation: TierObservation = { tier: ask.tier, answer: text, confidence: null, verifierSamples: 0 };
        if (ask.verify) await verify(client, tierCfg.model, routed, text, observation, step, opts, config.name, tierName);
        gpuSeconds += step.gpuSeconds - answer.gpuSeconds;
        steps.push(step);
        state.observations.push(observation);
        bodies.push(answer.body);
        break;
      } catch (err) {
        if (!(err instanceof UpstreamError) || err.kind === 'aborted') throw err;
        // Failed attempts used GPU time too (a replica may have worked before it failed).
        gpuSeconds += err.gpuSeconds;
        if (err.gpuSeconds > 0) opts.metrics?.recordGpuSeconds({ cascade: config.name, tier: tierName, purpose: 'answer' }, err.gpuSeconds);
        steps.push({
          tier: tierName, index: ask.tier, outcome: 'failed', confidence: null, verifierSamples: 0,
          answerSeconds: 0, verifySeconds: 0, gpuSeconds: err.gpuSeconds, answerGpuSeconds: err.gpuSeconds, verifyGpuSeconds: 0,
          reason: ask.reason, heldSeconds: got.heldSeconds, error: `${err.kind}: ${err.message}`,
        });
        // A failing tier hands the request to the next larger one, a bounded number of times
        // (a 4xx from the first tier is the request's own fault and goes to the client).
        if (!err.canFallBack || fallbacksLeft <= 0 || ask.tier >= last) return bestOrThrow(err, `tier ${tierName} failed (${err.kind})`);
        fallbacksLeft--;
        const next = ask.tier + 1;
        opts.metrics?.recordEscalation({ cascade: config.name, from_tier: tierName, to_tier: config.tiers[next]!.name, reason: 'fallback' });
        ask = { tier: next, verify: next < last, reason: `fallback: tier ${tierName} failed (${err.kind})` };
      }
    }
    decision = decide();
  }
}

/** The observation with the highest verifier confidence (unknown counts lowest; ties: the larger tier). */
function bestSoFar(observations: readonly TierObservation[]): number {
  let best = -1;
  observations.forEach((o, i) => {
    const c = o.confidence ?? -1;
    if (best < 0 || c >= (observations[best]!.confidence ?? -1)) best = i;
  });
  return best;
}

/** Self-verification on the same tier, k samples in one request; a failed verification leaves confidence null. */
async function verify(
  client: TierClient,
  model: string,
  routed: RoutedQuery,
  answer: string,
  observation: TierObservation,
  step: TierStep,
  opts: ExecuteOptions,
  cascade: string,
  tier: string,
): Promise<void> {
  const v = opts.verification;
  try {
    const res = await client.postJson<{ choices?: { text?: unknown }[] }>(
      '/v1/completions',
      {
        model,
        prompt: buildVerificationPrompt({ context: routed.context, question: routed.question, answer }),
        n: v.samples,
        temperature: v.temperature,
        max_tokens: v.maxTokens,
        stop: [VERIFY_STOP],
      },
      { purpose: 'verify', ...(opts.signal ? { signal: opts.signal } : {}) },
    );
    const texts = (res.body.choices ?? []).map((c) => (typeof c.text === 'string' ? c.text : ''));
    const result = confidenceFrom(texts);
    observation.confidence = result.confidence;
    observation.verifierSamples = result.correct + result.incorrect;
    step.confidence = result.confidence;
    step.verifierSamples = observation.verifierSamples;
    step.verifySeconds = res.seconds;
    step.gpuSeconds += res.gpuSeconds;
    step.verifyGpuSeconds = res.gpuSeconds;
    opts.metrics?.recordGpuSeconds({ cascade, tier, purpose: 'verify' }, res.gpuSeconds);
    opts.metrics?.recordTierCall({ cascade, tier, purpose: 'verify' }, res.body);
  } catch (err) {
    if (err instanceof UpstreamError && err.kind === 'aborted') throw err;
    if (!(err instanceof UpstreamError)) throw err;
    step.error = `verification failed: ${err.kind}`;
    // A failed verification may still have used GPU time before it failed: it is the request's cost too.
    if (err.gpuSeconds > 0) {
      step.gpuSeconds += err.gpuSeconds;
      step.verifyGpuSeconds = err.gpuSeconds;
      opts.metrics?.recordGpuSeconds({ cascade, tier, purpose: 'verify' }, err.gpuSeconds);
    }
  }
}
