// spec.routing -> the router's per-cascade policy block (router/config/schema.ts: cascades[].policy, PomdpPolicySchema).
//
// The shipped routing model (builtin:default-ladder) was fitted for a 3-tier ladder and k=8 verifier samples, and the
// router refuses it for anything else, which would make the whole router configuration invalid. So a cascade that
// would use it with another tier count is routed by the threshold policy instead (it works for any ladder), and
// validate.ts refuses other sample counts with it. A test keeps these constants in step with the shipped pomdp.json.
import type { ModelCascade, RoutingSpec } from '../api/types.js';

/** The router's built-in classifier+POMDP model (router/classifier/models/default-ladder). */
export const BUILTIN_ROUTER_MODEL = 'builtin:default-ladder';
export const BUILTIN_MODEL_TIERS = 3;
export const BUILTIN_MODEL_VERIFIER_SAMPLES = 8;

/** True when the cascade's routing uses the shipped model (no classifier directory named). */
export function usesBuiltinModel(routing: RoutingSpec | undefined): boolean {
  return routing?.classifier === undefined || routing.classifier === 'none';
}

/** spec.routing as the router's pomdp policy block. */
export function pomdpPolicy(routing: RoutingSpec): Record<string, unknown> {
  const classifier = routing.classifier;
  const o = routing.objective;
  const objective = o?.gpuSecondsPerRequest !== undefined ? { gpuSecondsPerRequest: o.gpuSecondsPerRequest } : o?.lambda !== undefined ? { lambda: o.lambda } : undefined;
  return {
    type: 'pomdp',
    // 'none' = no classifier prior: the POMDP's fitted joint prior from the built-in model only.
    model: usesBuiltinModel(routing) ? BUILTIN_ROUTER_MODEL : classifier,
    classifier: classifier !== 'none',
    objective,
  };
}

/**
 * The policy of one router cascade, or undefined to inherit the router's top-level policy. A cascade without
 * spec.routing inherits config.router.base.policy when the operator set one; otherwise it gets the POMDP with its
 * defaults (the threshold policy when the shipped model does not fit its tier count).
 */
export function cascadePolicy(mc: ModelCascade, basePolicy: unknown): Record<string, unknown> | undefined {
  const routing = mc.spec.routing;
  if (routing === undefined && basePolicy !== undefined) return undefined;
  if (usesBuiltinModel(routing) && mc.spec.tiers.length !== BUILTIN_MODEL_TIERS) return { type: 'threshold' };
  return pomdpPolicy(routing ?? {});
}
