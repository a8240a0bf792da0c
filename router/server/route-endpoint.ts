// POST /v1/route: the routing decision only, for teams that keep their own gateway. No model is called:
// the caller sends the request (and, optionally, what the tiers it already asked said) and gets back the
// next step: ask tier X (and whether to verify), or return the answer of tier Y.
import type { Request, Response } from 'express';
import { z } from 'zod';
import { ApiError, badRequest } from '../api/errors.js';
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

export function routeHandler(getState: () => RouterState) {
  return (req: Request, res: Response): void => {
    const state = getState();
    const raw = req.body as Record<string, unknown> | undefined;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('The request body must be a JSON object.', null, 'invalid_json');
    const { tiermix, ...openaiBody } = raw;
    const query = 'messages' in openaiBody ? chatQuery(parseChatRequest(openaiBody)) : completionQuery(parseCompletionRequest(openaiBody));
    const model = openaiBody.model as string;
    const cascade = state.cascades.get(model);
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

    const t0 = performance.now();
    const decision = state.policy.decide({ cascade: cascade.view, query: query.query, observations });
    const policySeconds = (performance.now() - t0) / 1000;
    const tierIndex = decision.action === 'ask' ? decision.tier : observations[decision.observation]!.tier;
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
      policy: state.policy.describe(),
      verification: { prompt: state.config.verification.prompt, samples: state.config.verification.samples, temperature: state.config.verification.temperature },
      policy_seconds: policySeconds,
    });
  };
}
