// The autoscaler: pure strategies over router load (tiermix's cascade-aware one and the KubeAI baseline),
// the flow estimate behind pre-scaling, the GPU-cap allocation and the routing cost signal.
import type { CascadeTierSpec } from '../api/types.js';
import type { TierInput } from './types.js';

export * from './types.js';
export { decideCascade, initialCascadeState, tiermixStrategy, DEFAULT_TIERMIX_SETTINGS, type TiermixSettings } from './tiermix-strategy.js';
export { kubeaiStrategy, KUBEAI_DEFAULTS, type KubeaiSettings, type KubeaiState } from './kubeai-strategy.js';
export { allocateUnderCap, nextCostMultiplier, DEFAULT_CAP_SETTINGS, type Allocation, type CapSettings } from './gpu-cap.js';
export { estimateFlow, expectedLoad, pushCounters, DEFAULT_FLOW_SETTINGS, type FlowSettings, type Inflow } from './flow.js';

/** spec.tiers[].autoscaling defaults (documented in controller/api/types.ts). */
export const DEFAULT_TARGET_IN_FLIGHT_PER_REPLICA = 8;
export const DEFAULT_SCALE_DOWN_DELAY_SECONDS = 120;

/** A tier's spec plus what was observed, as the strategies read it. */
export function tierInput(
  spec: CascadeTierSpec,
  observed: { current: number; ready: number; inFlight: number | null; waiting?: number | null },
): TierInput {
  return {
    name: spec.name,
    gpusPerReplica: spec.gpusPerReplica,
    min: spec.replicas.min,
    max: spec.replicas.max,
    targetInFlightPerReplica: spec.autoscaling?.targetInFlightPerReplica ?? DEFAULT_TARGET_IN_FLIGHT_PER_REPLICA,
    scaleDownDelaySeconds: spec.autoscaling?.scaleDownDelaySeconds ?? DEFAULT_SCALE_DOWN_DELAY_SECONDS,
    ...observed,
  };
}
