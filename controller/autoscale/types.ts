// What the autoscaling strategies read and return. Pure data: the thin loop (controller/scaling) fills the
// inputs from the routers' /metrics and the cluster, keeps the state between ticks, and acts on the output.
import type { CascadeKey, ScalingDecision } from '../runtime/hooks.js';

/** One tier as the autoscaler sees it at one tick. */
export interface TierInput {
  name: string;
  gpusPerReplica: number;
  /** spec.tiers[].replicas. */
  min: number;
  max: number;
  /** spec.tiers[].autoscaling, defaults applied (see tierSettings). */
  targetInFlightPerReplica: number;
  /**
   * The spec sets targetInFlightPerReplica itself: the operator's fixed target is used even with engine readings
   * (capacity sizing applies only to tiers that leave it at its default).
   */
  targetExplicit?: boolean;
  scaleDownDelaySeconds: number;
  /** Replicas the tier's Deployment currently asks for (the last decision applied). */
  current: number;
  /** Ready replicas (pods serving). */
  ready: number;
  /** Upstream requests in flight to this tier, summed over the router replicas; null = no reading. */
  inFlight: number | null;
  /** Optional saturation signal: vllm:num_requests_waiting summed over the tier's replicas. */
  waiting?: number | null;
  /**
   * Optional: one reading per ready replica of the tier's engine (vLLM /metrics). With these and a known
   * capacity the tier is sized to what its replicas can run (capacity.ts) instead of by the fixed target.
   */
  engines?: readonly EngineReading[] | null;
  /** Sequences one replica runs at once (vLLM --max-num-seqs) when the spec says; otherwise learned. */
  maxNumSeqs?: number;
}

/** One vLLM replica's /metrics at one tick (the v1 engine's names; n > 1 requests count once per sequence). */
export interface EngineReading {
  /** Stable across ticks (its metrics URL): the cumulative counters are differenced per replica. */
  id: string;
  /** vllm:num_requests_running: sequences in the running batch. */
  running: number;
  /** vllm:num_requests_waiting. */
  waiting: number;
  /** vllm:kv_cache_usage_perc (0-1; gpu_cache_usage_perc on older versions); null = not exported. */
  kvCacheUsage: number | null;
  /** Cumulative vllm:inter_token_latency_seconds sum and count (time_per_output_token on older versions); null = not exported. */
  itlSeconds: number | null;
  itlCount: number | null;
}

/**
 * Cumulative router counters of one cascade at one moment (never reset by the reader; a router restart resets
 * them, which the rate code treats as a fresh start). Index-aligned with the cascade's tiers.
 */
export interface CascadeCounters {
  /** Requests that reached tier k: served there plus handed on from there (tiermix_requests_total + escalations out). */
  arrivals: number[];
  /** escalations[k][j]: requests handed from tier k to tier j (j > k), any reason. */
  escalations: number[][];
  /** Seconds of upstream calls at tier k (tiermix_upstream_request_seconds_sum): with arrivals, the time a request spends there. */
  upstreamSeconds: number[];
  /** Upstream calls completed at tier k (tiermix_upstream_request_seconds_count): the burst demand estimate (demand.ts). */
  upstreamCalls?: number[];
}

export interface CascadeInput {
  key: CascadeKey;
  /** Smallest first, as in spec.tiers. */
  tiers: TierInput[];
  /** Cumulative counters now (null = no router answered). */
  counters: CascadeCounters | null;
  /** spec.maxGpus. */
  maxGpus?: number;
  /** Why some of the readings are old (routers down); carried into every reason. */
  staleNote?: string;
}

/** Per-tier memory of the stateless strategy between ticks. */
export interface TierState {
  /** In-flight samples (time, value) inside the averaging window. */
  samples: { atMs: number; value: number }[];
  /** vLLM waiting samples at the same moments (when that signal is scraped). */
  waiting: { atMs: number; value: number }[];
  /** Recommendations (time, replicas) inside the scale-down stabilisation window. */
  recommendations: { atMs: number; value: number }[];
  /** Last measured seconds a call runs at this tier (demand.ts), kept for ticks where nothing completes. */
  serviceS: number | null;
  /** What the engine readings taught about the tier's replicas (capacity.ts); absent until the first reading. */
  capacity?: CapacityState;
  /** How long the tier's replicas take to become Ready (stabilise.ts); absent until it first scaled up. */
  coldStart?: ColdStart;
}

export interface ColdStart {
  /** Since when more replicas are asked for than are Ready (null = not measuring), and how many were Ready then. */
  loadingSinceMs: number | null;
  readyAtStart: number;
  /** This scale-up was measured; the next measurement starts once all replicas are Ready. */
  measured: boolean;
  /** Measured seconds from asked for to Ready (smoothed); null = not seen yet. */
  seconds: number | null;
}

/** Exponentially weighted sums of a least-squares line y = a + c x (latency-model.ts). */
export interface WeightedSums {
  w: number;
  x: number;
  y: number;
  xx: number;
  xy: number;
}

/** Per tier memory of the capacity model (capacity.ts). */
export interface CapacityState {
  /** Inter-token latency (s) against sequences running on the replica: how much slower a fuller batch runs. */
  latency: WeightedSums;
  /** Running sequences of replicas seen queueing (vLLM waiting > 0 with the batch below max-num-seqs): decayed mean. */
  saturation: { w: number; sum: number };
  /** Sequences a fully used KV cache would hold, from usage per running sequence: decayed mean. */
  kvSeqs: { w: number; sum: number };
  /** Sequences per router call (a verification with n = 8 runs 8): decayed ratio of sums. */
  seqsPerCall: { seqs: number; calls: number };
  /** Spread of one replica's batch about the recent mean (squared deviations, and the means they are about): decayed sums. */
  dispersion: { dev2: number; mean: number };
  /** Running sequences summed over replicas and per replica, at each tick inside the averaging window. */
  slots: { atMs: number; value: number }[];
  perReplica: { atMs: number; value: number }[];
  /** Last cumulative counters and running per replica id (to difference the next tick against). */
  last: Record<string, { itlSeconds: number; itlCount: number; running: number }>;
  /** Last tick some replica queued (vLLM waiting > 0); null = never. */
  lastQueueAtMs: number | null;
  /** Last tick (for the decay). */
  atMs: number;
}

/** Counter snapshots inside the rate window, oldest first. */
export interface CounterSnapshot {
  atMs: number;
  counters: CascadeCounters;
}

export interface CascadeState {
  tiers: Record<string, TierState>;
  counterHistory: CounterSnapshot[];
  /** Last escalation shares and service times that had enough traffic behind them (kept when traffic stops). */
  flow: FlowEstimate | null;
  /** The routing cost multiplier held by the GPU-cap loop (1 = not binding). */
  costMultiplier: number;
}

/** Measured cascade flow: where requests go after each tier, and how long they stay at each. */
export interface FlowEstimate {
  /** share[k][j]: of the requests that reached tier k, the share handed on to tier j. */
  share: number[][];
  /** Mean seconds of upstream calls per request that reached tier k (answer + verification); null = unknown. */
  secondsPerArrival: (number | null)[];
  /** Requests behind each tier's shares (for the reason text). */
  arrivals: number[];
}

/**
 * The routing cost signal: when spec.maxGpus binds, the router should weigh GPU cost higher so that fewer
 * requests escalate into the capped tiers, instead of queueing without end. The planner puts it into the
 * router configuration of the cascade:
 *   objective {lambda: L}                 -> lambda: L x lambdaMultiplier
 *   objective {gpuSecondsPerRequest: B}   -> gpuSecondsPerRequest: B x budgetMultiplier
 * lambdaMultiplier = 1 / budgetMultiplier; both are 1 when the cap does not bind.
 */
export interface RoutingCostSignal {
  cascade: CascadeKey;
  /** True while the cap cuts some tier below its desired replicas (or the multiplier is still relaxing back to 1). */
  binding: boolean;
  /** >= 1: multiply the cascade's lambda (the price of a GPU-second in accuracy) by this. */
  lambdaMultiplier: number;
  /** (0, 1]: multiply the cascade's GPU-seconds-per-request budget by this. */
  budgetMultiplier: number;
  /** GPUs the cascade would hold without the cap, and the cap. */
  desiredGpus: number;
  maxGpus: number | null;
  /** Per tier: share of its expected load the allocated replicas can carry at target (1 = all). */
  capacityShare: Record<string, number>;
  reason: string;
}

/** One tick's result: decisions per tier (tier name -> {desired, reason}), the new state, the cost signal. */
export interface CascadeDecision {
  decisions: Record<string, ScalingDecision>;
  state: CascadeState;
  costSignal: RoutingCostSignal;
}

/** A stateless autoscaling strategy (AIBrix style): inputs and state in, decision and next state out, clock injected. */
export interface ScalingStrategy<S = CascadeState> {
  readonly name: string;
  initialState(): S;
  decide(input: CascadeInput, state: S, nowMs: number): { decisions: Record<string, ScalingDecision>; state: S; costSignal?: RoutingCostSignal };
}

export type { CascadeKey, ScalingDecision };
