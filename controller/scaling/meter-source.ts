// The MeterSource the runtime calls (controller/runtime/hooks.ts): the pure per-tier meter (controller/meter)
// fed with pod observations from the informers and in-flight readings from the autoscaler loop, exported as
// monotonic prom-client counters tiermix_gpu_seconds_total{cascade,tier,state} in the registry the controller's
// /metrics serves. The router's own tiermix_gpu_seconds_total{cascade,tier,purpose} is a different number
// (GPU time attributed to requests): docs/gpu-seconds.md explains both and how they relate.
import type { V1Pod } from '@kubernetes/client-node';
import { Counter, Registry } from 'prom-client';
import type { CascadeKey, MeterSource } from '../runtime/hooks.js';
import { advanceMeter, METER_STATES, newTierMeter, podFacts, totalOf, type GpuSecondsByState, type MeterUpdate, type TierMeter } from '../meter/index.js';

export const GPU_SECONDS_METRIC = 'tiermix_gpu_seconds_total';

export interface GpuSecondsMeterOptions {
  /** Registry to register the counter in (the controller's); a new one when absent. */
  registry?: Registry;
  /** Clock for scrapes of the counter (ms); observations carry their own nowMs. */
  now?: () => number;
}

export class GpuSecondsMeter implements MeterSource {
  readonly registry: Registry;
  readonly counter: Counter<'cascade' | 'tier' | 'state'>;
  private readonly now: () => number;
  private readonly meters = new Map<CascadeKey, Map<string, TierMeter>>();
  /** GPU-seconds counted before this process (seeded from status after a restart), per cascade and tier. */
  private readonly baselines = new Map<CascadeKey, Map<string, number>>();
  private readonly exported = new Map<string, number>();

  constructor(opts: GpuSecondsMeterOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    this.now = opts.now ?? Date.now;
    const self = this;
    this.counter = new Counter({
      name: GPU_SECONDS_METRIC,
      help: 'GPU-seconds held by tier pods, metered by the controller from pod lifecycle and router in-flight: serving (Ready, requests in flight), idle (Ready, none), loading (scheduled, not Ready).',
      labelNames: ['cascade', 'tier', 'state'] as const,
      registers: [this.registry],
      collect() {
        // A scrape sees the counters up to now, not up to the last pod event.
        self.advanceAll(self.now());
      },
    });
  }

  observePods(cascade: CascadeKey, tier: string, gpusPerReplica: number, pods: readonly V1Pod[], nowMs: number): void {
    this.update(cascade, tier, nowMs, { pods: pods.map((p) => podFacts(p, gpusPerReplica, nowMs)) });
  }

  /** The routers' in-flight requests to a tier (from the autoscaler loop's scrape). */
  observeInFlight(cascade: CascadeKey, tier: string, inFlight: number, nowMs: number): void {
    this.update(cascade, tier, nowMs, { inFlight });
  }

  gpuSeconds(cascade: CascadeKey, nowMs: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [tier, t] of Object.entries(this.byState(cascade, nowMs))) out[tier] = totalOf(t) + (this.baselines.get(cascade)?.get(tier) ?? 0);
    for (const [tier, base] of this.baselines.get(cascade) ?? []) out[tier] ??= base;
    return out;
  }

  /** Per tier and state, metered by this process (without the seeded baseline). */
  byState(cascade: CascadeKey, nowMs: number): Record<string, GpuSecondsByState> {
    const out: Record<string, GpuSecondsByState> = {};
    for (const tier of this.meters.get(cascade)?.keys() ?? []) out[tier] = { ...this.update(cascade, tier, nowMs, {}).totals };
    return out;
  }

  /**
   * GPU-seconds counted before this process started (e.g. status.tiers[].gpuSeconds read at start-up), so the
   * status total continues across controller restarts. Only tiers without a baseline yet are set.
   */
  seed(cascade: CascadeKey, perTier: Record<string, number>): void {
    const b = this.baselines.get(cascade) ?? new Map<string, number>();
    for (const [tier, v] of Object.entries(perTier)) if (!b.has(tier) && Number.isFinite(v) && v > 0) b.set(tier, v);
    this.baselines.set(cascade, b);
  }

  forget(cascade: CascadeKey): void {
    this.advanceCascade(cascade, this.now());
    this.meters.delete(cascade);
    this.baselines.delete(cascade);
    // The exported series keep their values; a cascade re-created under the same key counts on from there.
    for (const key of [...this.exported.keys()]) if (key.startsWith(`${cascade}\u0000`)) this.exported.delete(key);
  }

  private update(cascade: CascadeKey, tier: string, nowMs: number, u: MeterUpdate): TierMeter {
    let tiers = this.meters.get(cascade);
    if (!tiers) this.meters.set(cascade, (tiers = new Map()));
    const next = advanceMeter(tiers.get(tier) ?? newTierMeter(nowMs), nowMs, u);
    tiers.set(tier, next);
    this.export(cascade, tier, next.totals);
    return next;
  }

  private advanceCascade(cascade: CascadeKey, nowMs: number): void {
    for (const tier of this.meters.get(cascade)?.keys() ?? []) this.update(cascade, tier, nowMs, {});
  }

  private advanceAll(nowMs: number): void {
    for (const cascade of this.meters.keys()) this.advanceCascade(cascade, nowMs);
  }

  private export(cascade: CascadeKey, tier: string, totals: GpuSecondsByState): void {
    for (const state of METER_STATES) {
      const key = `${cascade}\u0000${tier}\u0000${state}`;
      const delta = totals[state] - (this.exported.get(key) ?? 0);
      if (delta > 0) {
        this.counter.inc({ cascade, tier, state }, delta);
        this.exported.set(key, totals[state]);
      } else if (!this.exported.has(key)) {
        this.counter.inc({ cascade, tier, state }, 0); // the series exists from the first observation
        this.exported.set(key, 0);
      }
    }
  }
}
