// The planner: pure functions from a ModelCascade (+ the controller configuration + observations) to the objects
// it should own, the router's configuration and its status. Runtimes (controller/runtime/kubernetes, .../local)
// call these and apply the result; nothing here does I/O or reads a clock.
//
// Use: problems = validateCascade(mc, config); if problems is empty, apply planCascade(...) (server-side apply,
// field manager MANAGER, force) and delete owned objects not in the plan (a removed tier); in every case write
// summarizeStatus(..., problems, ...) when statusChanged(). planRouterConfigMap leaves out invalid cascades itself.
import type { ModelCascade } from '../api/types.js';
import type { ControllerConfig } from '../config/types.js';
import { desiredReplicasOf, resolveTiers } from './defaults.js';
import { buildDeployment } from './deployment.js';
import { buildRouterConfigMap } from './router-config.js';
import { buildService } from './service.js';
import { statusChanged, summarizeStatus } from './status.js';
import type { CascadePlan, PlannerApi } from './types.js';
import { validateCascade } from './validate.js';

export function planCascade(mc: ModelCascade, config: ControllerConfig, desiredReplicas?: Record<string, number>): CascadePlan {
  const tiers = resolveTiers(mc, config);
  return {
    deployments: tiers.map((t) => buildDeployment(mc, t, desiredReplicasOf(t, desiredReplicas))),
    services: tiers.map((t) => buildService(mc, t)),
  };
}

export const planRouterConfigMap: PlannerApi['planRouterConfigMap'] = (cascades, config) => buildRouterConfigMap(cascades, config);

export { validateCascade, summarizeStatus, statusChanged };
export { buildRouterConfig, readyEndpoints, renderRouterYaml, ROUTER_CONFIG_KEY } from './router-config.js';
export { cascadeKey, tierObjectName, tierLabels, tierSelector } from './names.js';
export { canonical } from './canonical.js';
export type { CascadePlan, ObservedTier, PlannerApi, SpecProblem } from './types.js';

/** The whole PlannerApi as one object (for runtimes that take it as a dependency). */
export const planner: PlannerApi = { validateCascade, planCascade, planRouterConfigMap, summarizeStatus, statusChanged };
