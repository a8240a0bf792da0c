// POST /v1/route: the routing decision only, for teams that keep their own gateway. No model is called:
// the caller sends the request (and, optionally, what the tiers it already asked said) and gets back the
// next step: ask tier X (and whether to verify), or return the answer of tier Y.
import type { Request, Response } from 'express';
import { z } from 'zod';
import { ApiError, badRequest, unknownModel } from '../api/errors.js';
import { parseChatRequest, parseCompletionRequest } from '../api/requests.js';
import { chatQuery, completionQuery } from '../cascade/query.js';
import type { TierObservation } from '../policy/types.js';
import type { RouterState } from './state.js';

const ObservationSchema = z
  .object({
    tier: z.union([z.string(), z.number().int().min(0)]),
    confidence: z.number().min(0).max(1).nullable(),
    answer: z.string().optional(),
    verifier_samples: z.number().int().min(0).optional(),
  })
  .strict();

const RouteExtrasSchema = z.object({ observations: z.array(ObservationSchema).max(16).default([]) }).strict();

/** A joint over 2^N outcomes as [{correct: [tier names], p}], bit i of the index = tier i correct. */
function jointJson(joint: readonly number[], names: readonly string[]) {
  return joint.map((p, s) => ({ correct: names.filter((_, i) => s & (1 << i)), p }));
}

const perTierJson = (perTier: readonly number[], names: readonly string[]) => Object.fromEntries(names.map((n, i) => [n, perTier[i]]));

export function routeHandler(getState: () => RouterState) {
  return async (req: Request, res: Response): Promise<void> => {
    const state = getState();
    const raw = req.body as Record<string, unknown> | undefined;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('The request body must be a JSON object.', null, 'invalid_json');
    const { tiermix, ...openaiBody } = raw;
    const query = 'messages' in openaiBody ? chatQuery(parseChatRequest(openaiBody)) : completionQuery(parseCompletionRequest(openaiBody));
    const model = openaiBody.model as string;
    const cascade = state.cascades.get(model);
    if (!cascade && state.cascades.size === 0) throw unknownModel(model, [], state.configured ? undefined : 'the router has not loaded its configuration yet');
    if (!cascade) {
      throw new ApiError(404, 'not_found_error', `'${model}' is not a cascade; /v1/route decides within a cascade: ${[...state.cascades.keys()].join(', ')}.`, 'model', 'model_not_found');
    }
    const extras = RouteExtrasSchema.safeParse(tiermix ?? {});
    if (!extras.success) {
      const issue = extras.error.issues[0]!;
      throw badRequest(`tiermix.${issue.path.join('.')}: ${issue.message}`, `tiermix.${issue.path.join('.')}`);
    }
    const tiers = cascade.config.tiers;
    let previous = -1;
    const observations: TierObservation[] = extras.data.observations.map((o, i) => {
      const index = typeof o.tier === 'number' ? o.tier : tiers.findIndex((t) => t.name === o.tier);
      if (index < 0 || index >= tiers.length) throw badRequest(`tiermix.observations.${i}.tier: no tier '${o.tier}' in cascade ${model}`, `tiermix.observations.${i}.tier`);
      if (index <= previous) throw badRequest(`tiermix.observations.${i}.tier: observations must follow the cascade upward`, `tiermix.observations.${i}.tier`);
      previous = index;
      return { tier: index, answer: o.answer ?? '', confidence: o.confidence, verifierSamples: o.verifier_samples ?? (o.confidence === null ? 0 : state.config.verification.samples) };
    });

    const routing = state.routing.get(model)!;
    const t0 = performance.now();
    const prior = routing.prior ? await routing.prior(query.query) : undefined;
    const t1 = performance.now();
    const routingState = { cascade: cascade.view, query: query.query, observations, ...(prior ? { prior } : {}) };
    const explained = routing.explain?.(routingState);
    const decision = explained?.decision ?? routing.policy.decide(routingState);
    const policySeconds = (performance.now() - t1) / 1000;
    const tierIndex = decision.action === 'ask' ? decision.tier : observations[decision.observation]!.tier;
    const names = tiers.map((t) => t.name);
    const described = routing.describe();
    res.status(200).json({
      object: 'tiermix.route',
      cascade: model,
      decision: {
        action: decision.action,
        tier: tiers[tierIndex]!.name,
        tier_model: tiers[tierIndex]!.model,
        tier_index: tierIndex,
        ...(decision.action === 'ask' ? { verify: decision.verify } : { confidence: decision.confidence }),
        reason: decision.reason,
      },
      ...(explained
        ? {
            belief: {
              prior: { source: explained.prior.source, per_tier: perTierJson(explained.prior.perTier, names), joint: jointJson(explained.prior.joint, names) },
              ...(prior ? { classifier: { per_tier: perTierJson(prior.perTier, names), ...(prior.joint ? { joint: jointJson(prior.joint, names) } : {}) } } : {}),
              posterior: { observations: observations.length, per_tier: perTierJson(explained.posterior.perTier, names), joint: jointJson(explained.posterior.joint, names) },
            },
            lambda: explained.lambda,
            ...(described.objective ? { objective: described.objective } : {}),
            costs: {
              ...(described.costs as Record<string, unknown>),
              answer_gpu_seconds: perTierJson(explained.costs.answer, names),
              verify_gpu_seconds: perTierJson(explained.costs.verify, names),
            },
            expected_reward: explained.value,
          }
        : {}),
      policy: described,
      verification: { prompt: state.config.verification.prompt, samples: state.config.verification.samples, temperature: state.config.verification.temperature },
      policy_seconds: policySeconds,
      classifier_seconds: prior ? (t1 - t0) / 1000 : null,
    });
  };
}
