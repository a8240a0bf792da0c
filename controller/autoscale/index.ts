// The autoscaler: pure strategies over router load (tiermix's cascade-aware one and the KubeAI baseline),
// the capacity model behind sizing by what replicas can run, the flow estimate behind pre-scaling, the
// scale-down stabilisation, the GPU-cap allocation and the routing cost signal.
import type { CascadeTierSpec } from '../api/types.js';
import { resolveTier } from '../plan/defaults.js';
import type { EngineReading, TierInput } from './types.js';

export * from './types.js';
export { initialCascadeState, tiermixStrategy, DEFAULT_TIERMIX_SETTINGS, type TiermixSettings } from './tiermix-strategy.js';
export { kubeaiStrategy, KUBEAI_DEFAULTS, type KubeaiSettings, type KubeaiState } from './kubeai-strategy.js';
export { allocateUnderCap, nextCostMultiplier, DEFAULT_CAP_SETTINGS, type Allocation, type CapSettings } from './gpu-cap.js';
export { estimateFlow, expectedLoad, pushCounters, DEFAULT_FLOW_SETTINGS, type FlowSettings, type Inflow } from './flow.js';
export { capacityOf, dispersionIndex, latencyLine, observeEngines, planByCapacity, seqsPerCall, DEFAULT_CAPACITY_SETTINGS, type CapacityPlan, type CapacitySettings } from './capacity.js';
export { fitLatency, itlAt, settledBatch, type LatencyLine, type LatencyPrior } from './latency-model.js';
export { observeColdStart, stabilise } from './stabilise.js';

/** vLLM's --max-num-seqs from the tier's extra arguments ("--max-num-seqs 64" or "--max-num-seqs=64"); undefined = not set. */
export function maxNumSeqsOf(spec: Pick<CascadeTierSpec, 'vllm'>): number | undefined {
  const args = spec.vllm?.args ?? [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = a === '--max-num-seqs' ? args[i + 1] : a.startsWith('--max-num-seqs=') ? a.slice('--max-num-seqs='.length) : undefined;
    const n = v === undefined ? NaN : Number(v);
    if (Number.isInteger(n) && n > 0) return n;
  }
  return undefined;
}

/** A tier's spec (defaults filled in by the planner's resolveTier) plus what was observed, as the strategies read it. */
export function tierInput(
  spec: CascadeTierSpec,
  observed: { current: number; ready: number; inFlight: number | null; waiting?: number | null; engines?: readonly EngineReading[] | null },
): TierInput {
  const r = resolveTier(spec);
  const maxNumSeqs = maxNumSeqsOf(spec);
  return {
    name: r.name,
    gpusPerReplica: r.gpusPerReplica,
    min: r.replicas.min,
    max: r.replicas.max,
    targetInFlightPerReplica: r.targetInFlightPerReplica,
    scaleDownDelaySeconds: r.scaleDownDelaySeconds,
    ...(spec.autoscaling?.targetInFlightPerReplica !== undefined ? { targetExplicit: true } : {}),
    ...(maxNumSeqs !== undefined ? { maxNumSeqs } : {}),
    ...observed,
  };
}
