// spec.routing -> the router's per-cascade policy block (router/config/schema.ts: cascades[].policy, PomdpPolicySchema).
//
// The shipped routing model (builtin:default-ladder) was fitted for a 3-tier ladder and k=8 verifier samples, and the
// router refuses it for anything else, which would make the whole router configuration invalid. So a cascade that
// would use it with another tier count is routed by the threshold policy instead (it works for any ladder), and
// validate.ts refuses other sample counts with it. A test keeps these constants in step with the shipped pomdp.json.
import type { ModelCascade, RoutingSpec } from '../api/types.js';
import { PomdpPolicySchema } from '../../router/config/schema.js';

/** The router's built-in classifier+POMDP model (router/classifier/models/default-ladder). */
const BUILTIN_ROUTER_MODEL = 'builtin:default-ladder';
export const BUILTIN_MODEL_TIERS = 3;
export const BUILTIN_MODEL_VERIFIER_SAMPLES = 8;

/** True when the cascade's routing uses the shipped model (no classifier directory named). */
export function usesBuiltinModel(routing: RoutingSpec | undefined): boolean {
  return routing?.classifier === undefined || routing.classifier === 'none';
}

/** The router's lambda when a pomdp block names no objective. */
const ROUTER_DEFAULT_LAMBDA = (() => {
  const o = PomdpPolicySchema.parse({ type: 'pomdp' }).objective;
  return 'lambda' in o ? o.lambda : 0.3;
})();

/**
 * The autoscaler's cost multiplier, rounded to steps of 0.05 so that small wobbles of the signal do not rewrite the
 * router's configuration. 1 (or less, or not finite) = no change.
 */
function roundCostMultiplier(m: number | undefined): number {
  if (m === undefined || !Number.isFinite(m) || m <= 1) return 1;
  return Math.round(m * 20) / 20;
}

/** spec.routing as the router's pomdp policy block; costMultiplier > 1 makes GPU-seconds dearer (a GPU cap binds). */
function pomdpPolicy(routing: RoutingSpec, costMultiplier = 1): Record<string, unknown> {
  const classifier = routing.classifier;
  const o = routing.objective;
  const m = roundCostMultiplier(costMultiplier);
  const round = (x: number) => Number(x.toPrecision(6));
  const objective =
    o?.gpuSecondsPerRequest !== undefined
      ? { gpuSecondsPerRequest: round(o.gpuSecondsPerRequest / m) }
      : o?.lambda !== undefined
        ? { lambda: round(o.lambda * m) }
        : m > 1
          ? { lambda: round(ROUTER_DEFAULT_LAMBDA * m) }
          : undefined;
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
export function cascadePolicy(mc: ModelCascade, basePolicy: unknown, costMultiplier = 1): Record<string, unknown> | undefined {
  const routing = mc.spec.routing;
  if (routing === undefined && basePolicy !== undefined) return undefined;
  // The threshold policy has no price of a GPU-second, so a binding GPU cap cannot reach it (documented).
  if (usesBuiltinModel(routing) && mc.spec.tiers.length !== BUILTIN_MODEL_TIERS) return { type: 'threshold' };
  return pomdpPolicy(routing ?? {}, costMultiplier);
}
