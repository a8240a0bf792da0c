// POST /v1/chat/completions and /v1/completions. The `model` field names a cascade (routed: the policy
// picks the tier, the answer is verified before anything is sent) or a tier (pinned: plain pass-through).
import type { Request, Response } from 'express';
import { badRequest, unknownModel } from '../api/errors.js';
import { parseChatRequest, parseCompletionRequest, type ApiKind } from '../api/requests.js';
import { executeCascade, type CascadeOutcome, type CascadeRuntime } from '../cascade/execute.js';
import { chatQuery, completionQuery } from '../cascade/query.js';
import { sseFramesFromResponse } from '../cascade/sse-replay.js';
import { TierAccess, type HoldRecord, type ReadyTier, type TierSource } from '../cascade/tier-access.js';
import type { RouterMetrics } from '../metrics/router-metrics.js';
import type { UpstreamPath } from '../upstream/types.js';
import type { RequestLabels } from './errors-middleware.js';
import { ClientGone } from './client-gone.js';
import { sendJson } from './send-json.js';
import { SseUsageTap } from './sse-usage.js';
import type { RouterState, TierEntry } from './state.js';

const PATHS: Record<ApiKind, UpstreamPath> = { chat: '/v1/chat/completions', completion: '/v1/completions' };
const NONE: readonly string[] = [];

export const formatConfidence = (c: number | null) => (c === null ? 'none' : c.toFixed(3));
export const formatGpuSeconds = (s: number) => s.toFixed(6);

export function completionsHandler(kind: ApiKind, getState: () => RouterState, metrics: RouterMetrics, holds?: TierSource) {
  return async (req: Request, res: Response): Promise<void> => {
    const state = getState();
    const request = kind === 'chat' ? parseChatRequest(req.body) : parseCompletionRequest(req.body);
    const cascade = state.cascades.get(request.model);
    if (cascade) return routed(kind, request, cascade, state, metrics, res, holds);
    const tier = state.tiers.get(request.model);
    if (tier) return pinned(kind, req.body as Record<string, unknown>, tier, state, metrics, res, holds);
    throw unknownModel(request.model, state.modelIds, state.configured ? undefined : 'the router has not loaded its configuration yet');
  };
}

/**
 * Headers and the body's `scale_from_zero` field for a request that was held or served by a warm tier instead;
 * undefined (nothing to spread) for the usual request.
 */
function scaleFromZeroReport(res: Response, holds: readonly HoldRecord[], coldTiers: readonly string[]): Record<string, unknown> | undefined {
  if (holds.length === 0 && coldTiers.length === 0) return undefined;
  const heldSeconds = holds.reduce((s, h) => s + h.seconds, 0);
  if (holds.length > 0) res.setHeader('x-tiermix-held-seconds', heldSeconds.toFixed(3));
  if (coldTiers.length > 0) res.setHeader('x-tiermix-fallback-from', coldTiers.join(','));
  return {
    scale_from_zero: {
      held_seconds: heldSeconds,
      holds: holds.map((h) => ({ tier: h.tier, seconds: h.seconds, outcome: h.outcome })),
      // Tiers the request was meant for that had no replica, so that x-tiermix-tier served it instead.
      fallback_from: [...coldTiers],
    },
  };
}

async function routed(
  kind: ApiKind,
  request: ReturnType<typeof parseChatRequest> | ReturnType<typeof parseCompletionRequest>,
  cascade: CascadeRuntime,
  state: RouterState,
  metrics: RouterMetrics,
  res: Response,
  holds: TierSource | undefined,
): Promise<void> {
  res.locals.tiermix = { cascade: cascade.config.name, tier: '', mode: 'routed' } satisfies RequestLabels;
  if ((request.n ?? 1) > 1) {
    throw badRequest('A routed request returns one verified answer; use n=1, or name a tier to get n samples.', 'n', 'unsupported_value');
  }
  const query = kind === 'chat' ? chatQuery(request as ReturnType<typeof parseChatRequest>) : completionQuery(request as ReturnType<typeof parseCompletionRequest>);
  const started = performance.now();
  const { stream: _stream, stream_options: _opts, ...upstreamBody } = request as Record<string, unknown>;
  const routing = state.routing.get(cascade.config.name)!;
  // The classifier's prior (featurize + one ONNX run); its wall time is reported in the body, not in policy_seconds.
  const prior = routing.prior ? await routing.prior(query.query) : undefined;
  const priorSeconds = (performance.now() - started) / 1000;
  const outcome: CascadeOutcome = await executeCascade(cascade, query, upstreamBody, {
    policy: routing.policy,
    verification: state.config.verification,
    retry: state.config.retry,
    metrics,
    signal: new ClientGone(res),
    ...(prior ? { prior } : {}),
    ...(holds ? { scaleFromZero: { source: holds, holdSeconds: state.config.scaleFromZero.holdSeconds } } : {}),
  });
  routing.finished(outcome);
  const name = cascade.config.name;
  metrics.recordDecision(name, (performance.now() - started) / 1000, outcome.policySeconds);
  metrics.recordRequest({ cascade: name, tier: outcome.tier, mode: 'routed', outcome: 'ok' });

  const tiermix = {
    cascade: name,
    tier: outcome.tier,
    confidence: outcome.confidence,
    gpu_seconds: outcome.gpuSeconds,
    reason: outcome.reason,
    ...scaleFromZeroReport(res, outcome.holds, outcome.coldTiers),
    ...(prior ? { prior: { per_tier: prior.perTier, classifier_seconds: priorSeconds } } : {}),
    policy: routing.describe(),
    verification: { prompt: state.config.verification.prompt, samples: state.config.verification.samples, temperature: state.config.verification.temperature },
    steps: outcome.steps.map((s) => ({
      tier: s.tier, outcome: s.outcome, confidence: s.confidence, verifier_samples: s.verifierSamples,
      answer_seconds: s.answerSeconds, verify_seconds: s.verifySeconds, gpu_seconds: s.gpuSeconds, reason: s.reason,
      ...(s.heldSeconds > 0 ? { held_seconds: s.heldSeconds } : {}),
      ...(s.error ? { error: s.error } : {}),
    })),
  };
  res.setHeader('x-tiermix-cascade', name);
  res.setHeader('x-tiermix-tier', outcome.tier);
  res.setHeader('x-tiermix-confidence', formatConfidence(outcome.confidence));
  res.setHeader('x-tiermix-gpu-seconds', formatGpuSeconds(outcome.gpuSeconds));

  if (request.stream) {
    res.status(200).setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    const frames = sseFramesFromResponse(kind, outcome.body, { includeUsage: request.stream_options?.include_usage === true, tiermix });
    res.end(frames.join(''));
    return;
  }
  sendJson(res, 200, { ...outcome.body, tiermix });
}

async function pinned(
  kind: ApiKind,
  rawBody: Record<string, unknown>,
  asked: TierEntry,
  state: RouterState,
  metrics: RouterMetrics,
  res: Response,
  holds: TierSource | undefined,
): Promise<void> {
  const cascade = asked.cascade.config.name;
  res.locals.tiermix = { cascade, tier: asked.tier.name, mode: 'pinned' } satisfies RequestLabels;
  const signal = new ClientGone(res);
  // A tier with no replica: hold the request until one appears, else a warm tier of the cascade serves it.
  const access = new TierAccess(asked.cascade, holds, state.config.scaleFromZero.holdSeconds, signal);
  const got = await access.get(asked.index);
  let target: ReadyTier;
  let reason = 'pinned to this tier';
  if (got.kind === 'ready') target = got.ready;
  else {
    if (got.fallback < 0) throw access.noReplica(asked.index, got.heldSeconds);
    target = access.warm(got.fallback)!;
    const held = got.heldSeconds > 0 ? ` after holding ${got.heldSeconds.toFixed(1)}s` : '';
    reason = `pinned to ${asked.tier.name}, which has no replica${held}; served by warm tier ${target.tier.name}`;
  }
  const { tier, client } = target;
  const labels = { cascade, tier: tier.name, mode: 'pinned' } satisfies RequestLabels;
  res.locals.tiermix = labels;
  const body = { ...rawBody, model: tier.model };
  const report = scaleFromZeroReport(res, access.holds, got.kind === 'cold' ? [asked.tier.name] : NONE);
  res.setHeader('x-tiermix-cascade', labels.cascade);
  res.setHeader('x-tiermix-tier', tier.name);
  res.setHeader('x-tiermix-confidence', 'none');
  const callLabels = { cascade, tier: tier.name, purpose: 'passthrough' } as const;

  if (rawBody.stream === true) {
    const up = await client.postStream(PATHS[kind], body, { purpose: 'passthrough', signal });
    // GPU-seconds are known only when the stream ends, so they travel as an HTTP trailer.
    res.status(up.status);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('trailer', 'x-tiermix-gpu-seconds');
    // The usage arrives in the last event when the client asked for it (stream_options.include_usage).
    const includeUsage = (rawBody.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const usage = includeUsage ? new SseUsageTap() : null;
    if (usage) up.stream.on('data', (chunk: Buffer) => usage.push(chunk));
    up.stream.pipe(res, { end: false });
    const done = await up.finished;
    metrics.recordGpuSeconds(callLabels, done.gpuSeconds);
    if (!done.error) metrics.recordTierCall(callLabels, usage?.usageBody());
    metrics.recordRequest({ ...labels, outcome: done.error ? 'upstream_error' : 'ok' });
    if (!res.writableEnded) {
      res.addTrailers({ 'x-tiermix-gpu-seconds': formatGpuSeconds(done.gpuSeconds) });
      res.end();
    }
    return;
  }

  const up = await client.postJson<Record<string, unknown>>(PATHS[kind], body, { purpose: 'passthrough', signal });
  metrics.recordGpuSeconds(callLabels, up.gpuSeconds);
  metrics.recordTierCall(callLabels, up.body);
  metrics.recordRequest({ ...labels, outcome: 'ok' });
  res.setHeader('x-tiermix-gpu-seconds', formatGpuSeconds(up.gpuSeconds));
  sendJson(res, up.status, {
    ...up.body,
    tiermix: { cascade, tier: tier.name, confidence: null, gpu_seconds: up.gpuSeconds, reason, ...report },
  });
}
