// Wires the autoscaler (controller/scaling AutoscalerLoop) and the GPU-seconds meter (GpuSecondsMeter) into a runtime
// through its hooks (controller/runtime/hooks.ts): the same wiring for the Kubernetes runtime and the local one. The
// loop reads the cascades and their observed tiers from the runtime (the controller's caches, or the local runtime's
// processes) at every tick; the meter is seeded from the stored status the first time a cascade's GPU-seconds are
// asked for, so the total in status carries on across controller restarts.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ControllerConfig } from '../config/types.js';
import { validateCascade } from '../plan/index.js';
import type { CascadeKey, CascadeSnapshot, MeterSource } from '../runtime/hooks.js';
import { AutoscalerLoop, GpuSecondsMeter, routerTierNames, vllmMetricsUrls, type ScaledCascade } from '../scaling/index.js';
import { RouterScraper } from '../signals/index.js';

const podReady = (p: V1Pod): boolean =>
  !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/**
 * What the autoscaler's tick needs from the runtime's snapshot. The router's tier names come from the valid cascades
 * only, as the router's configuration leaves the invalid ones out: a name is namespace-qualified only when two valid
 * cascades share it. An invalid cascade stays in the list (its decisions are kept for when it is fixed), with no
 * router tiers.
 */
export function scaledCascades(snapshots: readonly CascadeSnapshot[], config: ControllerConfig): ScaledCascade[] {
  const names = routerTierNames(snapshots.filter((s) => validateCascade(s.mc, config).length === 0).map((s) => s.mc));
  return snapshots.map((s) => ({
    key: s.key,
    spec: s.mc.spec,
    routerTiers: names.get(s.key) ?? [],
    observed: Object.fromEntries(
      s.observed.map((o) => [o.name, { current: o.deployment?.spec?.replicas ?? 0, ready: o.pods.filter(podReady).length }]),
    ),
    // <pod IP>:<its http port>/metrics: 8000 on a cluster, each process's own port in the local runtime.
    vllmMetricsUrls: vllmMetricsUrls(s.observed),
  }));
}

/**
 * The autoscaler's clock: each tick stamped with its nominal time on the tick grid (the first tick's time plus whole
 * intervals), not with the moment its scrape returned. Windows counted in ticks then line up exactly: the scale-down
 * window keeps the recommendations of the last `delay` seconds (controller/autoscale/window.ts drops older ones), so
 * with stamps a few milliseconds late, as setInterval and a scrape make them, the window of a delay that is a whole
 * number of intervals never reached the delay and a tier never scaled down.
 */
export function tickClock(now: () => number, intervalMs: number): () => number {
  let origin: number | undefined;
  return () => {
    const t = now();
    origin ??= t;
    // Floor: a tick's stamp is late, never early, so it belongs to the grid point it fired at.
    return origin + Math.floor((t - origin) / intervalMs) * intervalMs;
  };
}

/** The meter, seeded once per cascade from status.tiers[].gpuSeconds (what earlier controller processes counted). */
class SeededMeter implements MeterSource {
  private readonly seeded = new Set<CascadeKey>();

  constructor(
    readonly meter: GpuSecondsMeter,
    private readonly lookup: (key: CascadeKey) => CascadeSnapshot | undefined,
  ) {}

  observePods(cascade: CascadeKey, tier: string, gpusPerReplica: number, pods: readonly V1Pod[], nowMs: number): void {
    this.meter.observePods(cascade, tier, gpusPerReplica, pods, nowMs);
  }

  gpuSeconds(cascade: CascadeKey, nowMs: number): Record<string, number> {
    if (!this.seeded.has(cascade)) {
      this.seeded.add(cascade);
      const stored = this.lookup(cascade)?.mc.status?.tiers ?? [];
      this.meter.seed(cascade, Object.fromEntries(stored.map((t) => [t.name, t.gpuSeconds])));
    }
    return this.meter.gpuSeconds(cascade, nowMs);
  }

  forget(cascade: CascadeKey): void {
    this.seeded.delete(cascade);
    this.meter.forget(cascade);
  }
}

export interface ScalingWiring {
  /** undefined when no router metrics URL is configured (replicas then stay at spec.replicas.min). */
  scaling: AutoscalerLoop | undefined;
  meter: MeterSource;
  start(): void;
  stop(): Promise<void>;
}

export function wireScaling(opts: {
  config: ControllerConfig;
  registry: Registry;
  log: Logger;
  cascades: () => readonly CascadeSnapshot[];
  /** The controller's clock (ms); default Date.now. The local runtime with simulators passes a scaled one. */
  now?: () => number;
  /**
   * Wall seconds per second of `now` (1 = real time; the local runtime's --time-scale): config.autoscalerIntervalSeconds
   * is in the clock's seconds, so the loop fires every interval x timeScale wall seconds.
   */
  timeScale?: number;
}): ScalingWiring {
  const now = opts.now ?? Date.now;
  const gpuMeter = new GpuSecondsMeter({ registry: opts.registry, now });
  const meter = new SeededMeter(gpuMeter, (key) => opts.cascades().find((c) => c.key === key));
  const urls = opts.config.router.metricsUrls ?? [];
  if (urls.length === 0) {
    opts.log.warn('router.metricsUrls is empty: no autoscaling (each tier runs spec.replicas.min); GPU-seconds are still metered');
  }
  const scraper = new RouterScraper({ urls: () => urls, now });
  const scaling =
    urls.length > 0
      ? new AutoscalerLoop({
          scrape: () => scraper.scrape(),
          cascades: () => scaledCascades(opts.cascades(), opts.config),
          intervalSeconds: opts.config.autoscalerIntervalSeconds * (opts.timeScale ?? 1),
          meter: gpuMeter,
          registry: opts.registry,
          now: tickClock(now, opts.config.autoscalerIntervalSeconds * 1000),
          log: { warn: (msg: string) => opts.log.warn(msg) },
        })
      : undefined;
  return {
    scaling,
    meter,
    start: () => scaling?.start(),
    stop: async () => {
      await scaling?.stop();
    },
  };
}
