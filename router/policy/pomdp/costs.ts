// What one call to a tier costs, for the POMDP's reward: GPUs per replica x occupancy seconds, where the
// occupancy of a call is its service time divided by the calls sharing the replica meanwhile (exactly what
// the router's meter attributes, router/cost/gpu-meter.ts, divided by the replica's GPUs). Answers and
// self-verifications are estimated separately, per tier.
//
// Sources (stated in /v1/route and docs/policy.md):
//   - 'configured': fixed occupancy seconds (from the configuration, else the modelled values in pomdp.json);
//   - 'measured' (default): start there, then an exponentially weighted mean over the last ~`window` calls
//     of each tier and purpose, fed with the metered GPU-seconds of every finished upstream call.
// Pure state with no clock: record() after a call, costs() at a decision.
import type { TierCosts } from './solver.js';

export type CostSource = 'measured' | 'configured';
export type CallPurpose = 'answer' | 'verify';

export interface CostEstimateConfig {
  source: CostSource;
  /** GPUs per replica of each tier (the configuration's gpusPerReplica). */
  gpus: readonly number[];
  /** Starting (or fixed) occupancy seconds per tier. */
  initial: { answer: readonly number[]; verify: readonly number[] };
  /** Calls the running mean effectively spans (weight 1/window per new call once warm). Default 50. */
  window?: number;
}

export interface CostEstimateSnapshot {
  source: CostSource;
  /** GPU-seconds the policy uses now, per tier. */
  gpuSeconds: { answer: number[]; verify: number[] };
  /** Occupancy seconds per tier (gpuSeconds / gpusPerReplica). */
  occupancySeconds: { answer: number[]; verify: number[] };
  /** Calls measured so far per tier (0 = still the starting value). */
  measuredCalls: { answer: number[]; verify: number[] };
}

export class TierCostEstimator {
  private readonly occupancy: { answer: number[]; verify: number[] };
  private readonly calls: { answer: number[]; verify: number[] };
  private cached: TierCosts | null = null;

  constructor(readonly config: CostEstimateConfig) {
    const n = config.gpus.length;
    for (const p of ['answer', 'verify'] as const) {
      if (config.initial[p].length !== n) throw new RangeError(`${config.initial[p].length} ${p} occupancy values for ${n} tiers`);
      if (config.initial[p].some((v) => !(v >= 0 && Number.isFinite(v)))) throw new RangeError(`${p} occupancy seconds must be finite and >= 0`);
    }
    if (config.gpus.some((g) => !(g > 0))) throw new RangeError('gpus per replica must be > 0');
    if (config.window !== undefined && !(config.window >= 1)) throw new RangeError(`window must be >= 1, got ${config.window}`);
    this.occupancy = { answer: [...config.initial.answer], verify: [...config.initial.verify] };
    this.calls = { answer: new Array<number>(n).fill(0), verify: new Array<number>(n).fill(0) };
  }

  /** A call of `purpose` to `tier` was metered at `gpuSeconds`. Ignored for 'configured' and for broken readings. */
  record(tier: number, purpose: CallPurpose, gpuSeconds: number): void {
    if (this.config.source !== 'measured') return;
    if (!(tier >= 0 && tier < this.config.gpus.length) || !(gpuSeconds >= 0 && Number.isFinite(gpuSeconds))) return;
    const n = ++this.calls[purpose][tier]!;
    // The starting value counts as one call: the first measurement moves the estimate half way, later ones 1/n
    // until the window is full, then 1/window (an exponentially weighted mean).
    const w = 1 / Math.min(n + 1, this.config.window ?? 50);
    const o = this.occupancy[purpose];
    o[tier] = o[tier]! + w * (gpuSeconds / this.config.gpus[tier]! - o[tier]!);
    this.cached = null;
  }

  /** GPU-seconds of one answer and one verification per tier, as the policy prices them now. */
  costs(): TierCosts {
    this.cached ??= {
      answer: this.occupancy.answer.map((o, i) => o * this.config.gpus[i]!),
      verify: this.occupancy.verify.map((o, i) => o * this.config.gpus[i]!),
    };
    return this.cached;
  }

  snapshot(): CostEstimateSnapshot {
    const c = this.costs();
    return {
      source: this.config.source,
      gpuSeconds: { answer: [...c.answer], verify: [...c.verify] },
      occupancySeconds: { answer: [...this.occupancy.answer], verify: [...this.occupancy.verify] },
      measuredCalls: { answer: [...this.calls.answer], verify: [...this.calls.verify] },
    };
  }
}
