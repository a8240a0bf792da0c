// The thin autoscaler loop, and the ScalingSource the runtime reads (controller/runtime/hooks.ts): every
// interval, scrape the routers' /metrics, run the pure strategy for each cascade, keep its decisions, tell the
// runtime when a cascade's desired replicas change, and feed the in-flight readings to the meter.
import { Counter, Gauge, Registry } from 'prom-client';
import type { CascadeTierSpec, ModelCascade } from '../api/types.js';
import { initialCascadeState, tierInput, tiermixStrategy, type CascadeState, type RoutingCostSignal, type ScalingStrategy } from '../autoscale/index.js';
import type { CascadeKey, ScalingDecision, ScalingSource } from '../runtime/hooks.js';
import { cascadeCounters, scrapeEngines, type ScrapeResult } from '../signals/index.js';
import type { EngineReading } from '../autoscale/types.js';
import type { GpuSecondsMeter } from './meter-source.js';
import { cascadeKey } from '../plan/names.js';
import { readyEndpoints, routerCascadeNames } from '../plan/router-config.js';
import type { ObservedTier } from '../plan/types.js';

/** One cascade as the loop needs it at a tick. */
export interface ScaledCascade {
  key: CascadeKey;
  /** spec.tiers (smallest first) and spec.maxGpus. */
  spec: Pick<ModelCascade['spec'], 'tiers' | 'maxGpus'>;
  /** The router's names of the tiers, index-aligned with spec.tiers (see routerTierNames). */
  routerTiers: readonly string[];
  /** Replicas the Deployments ask for and ready pods, per tier; missing = the loop's last decision (ready = that). */
  observed?: Record<string, { current: number; ready: number }>;
  /**
   * Optional per tier: vLLM /metrics URLs of its ready replicas. Their readings (running, waiting, KV cache use,
   * inter-token latency) size the tier by what its replicas can run (controller/autoscale/capacity.ts).
   */
  vllmMetricsUrls?: Record<string, readonly string[]>;
}

export interface AutoscalerLoopOptions {
  /** One scrape of all routers (RouterScraper.scrape bound, or a stand-in in tests). */
  scrape: () => Promise<ScrapeResult>;
  /** The cascades to scale, read at every tick. */
  cascades: () => readonly ScaledCascade[];
  /** ControllerConfig.autoscalerIntervalSeconds. */
  intervalSeconds: number;
  strategy?: ScalingStrategy<CascadeState>;
  meter?: GpuSecondsMeter;
  registry?: Registry;
  now?: () => number;
  /** Every tick's routing cost signal per cascade (the planner puts it into the router configuration). */
  onCostSignal?: (signal: RoutingCostSignal) => void;
  log?: { warn(msg: string): void };
}

interface Kept {
  state: CascadeState;
  decisions: Record<string, ScalingDecision>;
  costSignal?: RoutingCostSignal;
}

export class AutoscalerLoop implements ScalingSource {
  readonly registry: Registry;
  private readonly strategy: ScalingStrategy<CascadeState>;
  private readonly now: () => number;
  private readonly kept = new Map<CascadeKey, Kept>();
  private readonly listeners = new Set<(cascade: CascadeKey) => void>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly desiredGauge: Gauge<'cascade' | 'tier'>;
  private readonly multiplierGauge: Gauge<'cascade'>;
  private readonly scaleEvents: Counter<'cascade' | 'tier' | 'direction'>;
  private readonly ticks: Counter<'result'>;

  constructor(private readonly opts: AutoscalerLoopOptions) {
    this.registry = opts.registry ?? new Registry();
    this.strategy = opts.strategy ?? tiermixStrategy();
    this.now = opts.now ?? Date.now;
    const registers = [this.registry];
    this.desiredGauge = new Gauge({ name: 'tiermix_autoscaler_desired_replicas', help: 'Replicas the autoscaler wants per tier.', labelNames: ['cascade', 'tier'] as const, registers });
    this.multiplierGauge = new Gauge({ name: 'tiermix_autoscaler_cost_multiplier', help: 'Routing cost multiplier from the GPU cap (1 = cap not binding).', labelNames: ['cascade'] as const, registers });
    this.scaleEvents = new Counter({ name: 'tiermix_autoscaler_scale_events_total', help: 'Changes of desired replicas, by direction.', labelNames: ['cascade', 'tier', 'direction'] as const, registers });
    this.ticks = new Counter({ name: 'tiermix_autoscaler_ticks_total', help: 'Autoscaler ticks, by result (ok, no_data: no router answered, error).', labelNames: ['result'] as const, registers });
  }

  desired(cascade: CascadeKey): Record<string, ScalingDecision> | undefined {
    return this.kept.get(cascade)?.decisions;
  }

  costSignal(cascade: CascadeKey): RoutingCostSignal | undefined {
    return this.kept.get(cascade)?.costSignal;
  }

  /** ScalingSource: the cost signal's lambda multiplier while the cascade's GPU cap binds. */
  routingCostMultiplier(cascade: CascadeKey): number | undefined {
    const s = this.costSignal(cascade);
    return s?.binding ? s.lambdaMultiplier : undefined;
  }

  onChange(listener: (cascade: CascadeKey) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.opts.intervalSeconds * 1000);
    this.timer.unref();
    void this.tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One tick (also what tests call); ticks never overlap. */
  async tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.runTick().finally(() => (this.running = undefined));
    return this.running;
  }

  private async runTick(): Promise<void> {
    let scraped: ScrapeResult;
    try {
      scraped = await this.opts.scrape();
    } catch (err) {
      this.ticks.inc({ result: 'error' });
      this.opts.log?.warn(`autoscaler: scrape failed: ${(err as Error).message}`);
      return;
    }
    this.ticks.inc({ result: scraped.hasData ? 'ok' : 'no_data' });
    const nowMs = this.now();
    const cascades = this.opts.cascades();
    for (const key of [...this.kept.keys()]) if (!cascades.some((c) => c.key === key)) this.kept.delete(key);
    for (const c of cascades) {
      try {
        await this.scaleCascade(c, scraped, nowMs);
      } catch (err) {
        this.opts.log?.warn(`autoscaler: cascade ${c.key}: ${(err as Error).message}`);
      }
    }
  }

  private async scaleCascade(c: ScaledCascade, scraped: ScrapeResult, nowMs: number): Promise<void> {
    const prev = this.kept.get(c.key);
    const reading = scraped.hasData ? scraped.reading : null;
    const engines = await this.engines(c);
    const tiers = c.spec.tiers.map((spec: CascadeTierSpec, i) => {
      const lastDesired = prev?.decisions[spec.name]?.desired ?? spec.replicas.min;
      const obs = c.observed?.[spec.name] ?? { current: lastDesired, ready: lastDesired };
      const inFlight = reading ? (reading.inFlight[c.routerTiers[i] ?? ''] ?? 0) : null;
      const e = engines[spec.name] ?? null;
      return tierInput(spec, { ...obs, inFlight, waiting: e ? e.reduce((n, x) => n + x.waiting, 0) : null, engines: e });
    });
    const staleNote = !scraped.hasData ? `no router answered${scraped.staleNote ? ` (${scraped.staleNote})` : ''}` : scraped.staleNote;
    const out = this.strategy.decide(
      {
        key: c.key,
        tiers,
        counters: reading ? cascadeCounters(reading, c.routerTiers) : null,
        ...(c.spec.maxGpus !== undefined ? { maxGpus: c.spec.maxGpus } : {}),
        ...(staleNote ? { staleNote } : {}),
      },
      prev?.state ?? initialCascadeState(),
      nowMs,
    );
    let changed = !prev;
    for (const t of tiers) {
      const d = out.decisions[t.name]!.desired;
      const before = prev?.decisions[t.name]?.desired;
      if (before !== undefined && before !== d) {
        changed = true;
        this.scaleEvents.inc({ cascade: c.key, tier: t.name, direction: d > before ? 'up' : 'down' });
      }
      this.desiredGauge.set({ cascade: c.key, tier: t.name }, d);
      if (t.inFlight !== null) this.opts.meter?.observeInFlight(c.key, t.name, t.inFlight, nowMs);
    }
    const m = out.costSignal?.lambdaMultiplier ?? 1;
    if (Math.abs(m - (prev?.costSignal?.lambdaMultiplier ?? 1)) > 1e-3) changed = true;
    this.multiplierGauge.set({ cascade: c.key }, m);
    this.kept.set(c.key, { state: out.state, decisions: out.decisions, ...(out.costSignal ? { costSignal: out.costSignal } : {}) });
    if (out.costSignal) this.opts.onCostSignal?.(out.costSignal);
    // Reasons change every tick (they quote the load); only changed replica counts or cost re-reconcile.
    if (changed) for (const l of this.listeners) l(c.key);
  }

  /** Engine readings per tier (null: no URLs, or none answered), all tiers scraped at once. */
  private async engines(c: ScaledCascade): Promise<Record<string, EngineReading[] | null>> {
    const entries = await Promise.all(Object.entries(c.vllmMetricsUrls ?? {}).map(async ([tier, urls]) => [tier, urls.length === 0 ? null : await scrapeEngines(urls)] as const));
    return Object.fromEntries(entries);
  }
}

/**
 * The router's tier names of each cascade, index-aligned with spec.tiers, as controller/plan/router-config.ts
 * writes them: "<router cascade name>/<tier>" (the cascade name from the planner's routerCascadeNames). Pass the
 * same cascades the router configuration is built from, i.e. the valid ones: a name is namespace-qualified only when
 * two of them share it (a unit test checks this against buildRouterConfig).
 */
export function routerTierNames(cascades: readonly ModelCascade[]): Map<CascadeKey, string[]> {
  const names = routerCascadeNames(cascades);
  return new Map(cascades.map((mc) => [cascadeKey(mc), mc.spec.tiers.map((t) => `${names.get(cascadeKey(mc))}/${t.name}`)]));
}

/** Replicas asked for (the Deployment's spec) and Ready per tier, from the runtime's observed tiers (ScaledCascade.observed). */
export function observedReplicas(tiers: readonly ObservedTier[]): Record<string, { current: number; ready: number }> {
  const out: Record<string, { current: number; ready: number }> = {};
  for (const t of tiers) {
    const ready = readyEndpoints(t.pods).length;
    out[t.name] = { current: t.deployment?.spec?.replicas ?? t.pods.length, ready: t.deployment?.status?.readyReplicas ?? ready };
  }
  return out;
}

/** vLLM /metrics URLs of each tier's Ready pods (ScaledCascade.vllmMetricsUrls: the engine readings). */
export function vllmMetricsUrls(tiers: readonly ObservedTier[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const t of tiers) out[t.name] = readyEndpoints(t.pods).map((u) => `${u}/metrics`);
  return out;
}
