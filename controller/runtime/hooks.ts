// CONTRACT between the Kubernetes/local runtimes (which watch the world and apply plans) and the autoscaler and
// GPU-seconds meter (controller/autoscale, controller/meter), which are pure cores with thin loops around them.
// The runtime works without them (replicas = spec min, GPU-seconds 0); the controller's main wires them in.
import type { V1Pod } from '@kubernetes/client-node';
import type { ModelCascade } from '../api/types.js';
import type { ObservedTier } from '../plan/types.js';

/** "<namespace>/<name>" of a ModelCascade. */
export type CascadeKey = string;

/** One cascade as a runtime observes it (either runtime's cascades()): what the autoscaler's wiring reads at each tick. */
export interface CascadeSnapshot {
  key: CascadeKey;
  mc: ModelCascade;
  observed: ObservedTier[];
}

export interface ScalingDecision {
  desired: number;
  /** Human-readable, goes into status.tiers[].scalingReason and an Event when it changes. */
  reason: string;
}

/** Desired replicas per tier, from the autoscaler. */
export interface ScalingSource {
  /** undefined = no opinion yet (use spec.replicas.min). Keys are tier names. */
  desired(cascade: CascadeKey): Record<string, ScalingDecision> | undefined;
  /**
   * How much dearer GPU-seconds should be for this cascade's routing (>= 1; 1 or undefined = as configured). Above 1
   * when a GPU cap (spec.maxGpus) binds: the planner multiplies the router's lambda (or divides its GPU-seconds budget)
   * so fewer requests escalate instead of queueing without end.
   */
  routingCostMultiplier?(cascade: CascadeKey): number | undefined;
  /** The runtime re-reconciles a cascade (and the router configuration) when its decisions change. Returns an unsubscribe function. */
  onChange(listener: (cascade: CascadeKey) => void): () => void;
}

/** GPU-seconds per tier, from the meter. */
export interface MeterSource {
  /** Called by the runtime whenever the pods of a tier change (informer events), with the clock's now. */
  observePods(cascade: CascadeKey, tier: string, gpusPerReplica: number, pods: readonly V1Pod[], nowMs: number): void;
  /** Cumulative GPU-seconds per tier (all states), for status. */
  gpuSeconds(cascade: CascadeKey, nowMs: number): Record<string, number>;
  /** Forget a deleted cascade (its counters stay exported; its state is dropped). */
  forget(cascade: CascadeKey): void;
}
