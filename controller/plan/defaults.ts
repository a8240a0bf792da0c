// A tier with every default filled in. The CRD applies most defaults at the API server, but the planner must not
// depend on that (the local runtime has no API server, and objects created before a default was added lack it).
import type { CascadeTierSpec, ModelCascade } from '../api/types.js';
import type { ControllerConfig, GpuProfile } from '../config/types.js';

export const DEFAULT_TARGET_IN_FLIGHT = 8;
export const DEFAULT_SCALE_DOWN_DELAY_SECONDS = 120;

export interface ResolvedTier {
  spec: CascadeTierSpec;
  name: string;
  servedModelName: string;
  image: string;
  gpusPerReplica: number;
  profileName: string;
  /** undefined when the profile is unknown (validate.ts reports it). */
  profile: GpuProfile | undefined;
  replicas: { min: number; max: number };
  targetInFlightPerReplica: number;
  scaleDownDelaySeconds: number;
}

/** Without a config (status needs only names, GPUs and replicas) the profile is unresolved and the image empty. */
export function resolveTier(tier: CascadeTierSpec, config?: ControllerConfig): ResolvedTier {
  const profileName = tier.gpuProfile ?? config?.defaultGpuProfile ?? '';
  const min = tier.replicas?.min ?? 1;
  return {
    spec: tier,
    name: tier.name,
    servedModelName: tier.servedModelName ?? tier.model,
    image: tier.vllm?.image ?? config?.vllmImage ?? '',
    gpusPerReplica: tier.gpusPerReplica ?? 1,
    profileName,
    profile: config && Object.hasOwn(config.gpuProfiles, profileName) ? config.gpuProfiles[profileName] : undefined,
    replicas: { min, max: tier.replicas?.max ?? Math.max(1, min) },
    targetInFlightPerReplica: tier.autoscaling?.targetInFlightPerReplica ?? DEFAULT_TARGET_IN_FLIGHT,
    scaleDownDelaySeconds: tier.autoscaling?.scaleDownDelaySeconds ?? DEFAULT_SCALE_DOWN_DELAY_SECONDS,
  };
}

export function resolveTiers(mc: ModelCascade, config: ControllerConfig): ResolvedTier[] {
  return (mc.spec?.tiers ?? []).map((t) => resolveTier(t, config));
}

/**
 * Replicas the controller asks for: the autoscaler's number when it has one, else spec.replicas.min; always clamped
 * to [min, max].
 */
export function desiredReplicasOf(tier: ResolvedTier, desired?: Record<string, number>): number {
  const asked = desired?.[tier.name];
  const n = asked === undefined || !Number.isFinite(asked) ? tier.replicas.min : Math.round(asked);
  return Math.min(Math.max(n, tier.replicas.min), Math.max(tier.replicas.max, tier.replicas.min));
}
