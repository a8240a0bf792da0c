// CONTRACT between the pure planner (controller/plan) and the runtime adapters (controller/runtime/*).
// The planner implements these functions (plan/index.ts exports them); runtimes call them and apply the result.
// Everything here is pure: inputs in, objects out, the clock passed as `nowMs` where time matters.
import type { V1ConfigMap, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Condition, ModelCascade, ModelCascadeStatus } from '../api/types.js';
import type { ControllerConfig } from '../config/types.js';

/** Result of validating a ModelCascade beyond what the CRD schema can say (unknown gpuProfile, duplicate tier names, min > max...). */
export interface SpecProblem {
  /** JSON path, e.g. spec.tiers[1].gpuProfile */
  path: string;
  message: string;
}

/** The objects one ModelCascade should own. Names: Deployment and Service `<cascade>-<tier>`. */
export interface CascadePlan {
  deployments: V1Deployment[];
  services: V1Service[];
}

/** What the runtime observed about one tier, for status and the router configuration. */
export interface ObservedTier {
  name: string;
  deployment?: V1Deployment;
  pods: V1Pod[];
}

export interface PlannerApi {
  /** [] when the spec is usable. */
  validateCascade(mc: ModelCascade, config: ControllerConfig): SpecProblem[];
  /**
   * Expected Deployments and Services (apply with server-side apply, field manager MANAGER, force).
   * desiredReplicas[tier] comes from the autoscaler; default spec.replicas.min (>= 1 unless min is 0).
   */
  planCascade(mc: ModelCascade, config: ControllerConfig, desiredReplicas?: Record<string, number>): CascadePlan;
  /** The router's configuration ConfigMap for all given cascades and their ready endpoints (key router.yaml). */
  planRouterConfigMap(cascades: { mc: ModelCascade; observed: ObservedTier[]; costMultiplier?: number }[], config: ControllerConfig): V1ConfigMap;
  /**
   * Status from observations; keeps lastTransitionTime of conditions whose status did not change.
   * scalingReasons[tier] (the autoscaler's ScalingDecision.reason) goes to status.tiers[].scalingReason.
   */
  summarizeStatus(
    mc: ModelCascade,
    observed: ObservedTier[],
    problems: SpecProblem[],
    gpuSeconds: Record<string, number>,
    nowMs: number,
    scalingReasons?: Record<string, string>,
  ): ModelCascadeStatus;
  /** True when two statuses differ in anything but ordering-insensitive noise (so steady state writes nothing). */
  statusChanged(a: ModelCascadeStatus | undefined, b: ModelCascadeStatus): boolean;
}

export type { Condition };
