// spec.maxGpus: when the tiers' desired replicas need more GPUs than the cap, give the GPUs to the tiers where
// they carry the most value, and tell the router to weigh cost higher so fewer requests escalate into the
// tiers that were cut (the routing cost signal), instead of letting their queues grow without end.
//
// Allocation rule (by value, in this order):
//   1. every tier keeps spec.replicas.min (the operator's floor; if the floors alone exceed the cap, the
//      floors win and the reason says so);
//   2. every tier with load gets one replica, smallest tier first, so no tier's requests wait forever;
//   3. the remaining GPUs go up the cascade, smallest tier first, up to each tier's desired replicas.
// Why smallest first: every routed request starts at the smallest tier, so a short entry tier delays all
// traffic, including the share that would escalate later; a request waiting for a larger tier already
// holds a smaller tier's answer the router can fall back to; and a small tier carries more in-flight
// requests per GPU (e.g. 24 per GPU for a 7B at target 24 against 3 per GPU for a 70B on 4 GPUs at 12).
import type { TierInput } from './types.js';

export interface CapSettings {
  /** Exponent of the multiplicative step: m <- m x (desired / cap)^gain while binding. */
  gain: number;
  /** Largest lambda multiplier. */
  maxMultiplier: number;
  /** The multiplier relaxes towards 1 only when desired GPUs fall below cap x (1 - slack): hysteresis. */
  slack: number;
}

export const DEFAULT_CAP_SETTINGS: Readonly<CapSettings> = { gain: 0.5, maxMultiplier: 16, slack: 0.1 };

export interface Allocation {
  replicas: number[];
  /** GPUs the desired replicas would hold. */
  desiredGpus: number;
  allocatedGpus: number;
  /** Some tier got fewer replicas than desired. */
  binding: boolean;
  floorsExceedCap: boolean;
}

/** Replicas per tier under the cap (desired unchanged when the cap is absent or not binding). */
export function allocateUnderCap(tiers: readonly TierInput[], desired: readonly number[], load: readonly number[], maxGpus: number | undefined): Allocation {
  const gpus = (r: readonly number[]) => r.reduce((s, n, i) => s + n * tiers[i]!.gpusPerReplica, 0);
  const desiredGpus = gpus(desired);
  if (maxGpus === undefined || desiredGpus <= maxGpus) {
    return { replicas: [...desired], desiredGpus, allocatedGpus: desiredGpus, binding: false, floorsExceedCap: false };
  }
  const replicas = tiers.map((t, i) => Math.min(t.min, desired[i]!));
  let free = maxGpus - gpus(replicas);
  const floorsExceedCap = free < 0;
  const give = (i: number, upTo: number) => {
    const g = tiers[i]!.gpusPerReplica;
    while (replicas[i]! < upTo && free >= g) {
      replicas[i]!++;
      free -= g;
    }
  };
  tiers.forEach((_, i) => {
    if (replicas[i] === 0 && desired[i]! > 0 && (load[i] ?? 0) > 0) give(i, 1);
  });
  tiers.forEach((_, i) => give(i, desired[i]!));
  return { replicas, desiredGpus, allocatedGpus: gpus(replicas), binding: replicas.some((r, i) => r < desired[i]!), floorsExceedCap };
}

/**
 * The routing cost multiplier, an integral controller on the cap: while the desired GPUs exceed the cap it
 * grows by (desired / cap)^gain per tick; once the router's answer (fewer escalations) brings the desired GPUs
 * below cap x (1 - slack), it relaxes back towards 1 by the same rule. The hysteresis band keeps it from
 * flipping between "binding" and "free" every tick, because the load it reacts to is shaped by it.
 */
export function nextCostMultiplier(previous: number, desiredGpus: number, maxGpus: number | undefined, s: CapSettings = DEFAULT_CAP_SETTINGS): number {
  if (maxGpus === undefined || maxGpus <= 0) return 1;
  const ratio = desiredGpus / maxGpus;
  let m = previous;
  if (ratio > 1) m = previous * Math.pow(ratio, s.gain);
  else if (ratio < 1 - s.slack) m = previous * Math.pow(Math.max(ratio, 0.25), s.gain);
  return Math.min(s.maxMultiplier, Math.max(1, m));
}
