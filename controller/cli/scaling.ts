// Wires the autoscaler (controller/scaling AutoscalerLoop) and the GPU-seconds meter (GpuSecondsMeter) into the
// Kubernetes runtime through its hooks (controller/runtime/hooks.ts). The loop reads the cascades and their observed
// tiers from the controller's caches at every tick; the meter is seeded from the stored status the first time a
// cascade's GPU-seconds are asked for, so the total in status carries on across controller restarts.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { VLLM_PORT } from '../api/types.js';
import type { ControllerConfig } from '../config/types.js';
import type { CascadeKey, MeterSource } from '../runtime/hooks.js';
import type { CascadeSnapshot } from '../runtime/kubernetes/controller.js';
import { AutoscalerLoop, GpuSecondsMeter, routerTierNames, type ScaledCascade } from '../scaling/index.js';
import { RouterScraper } from '../signals/index.js';

const podReady = (p: V1Pod): boolean =>
  !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** What the autoscaler's tick needs from the controller's snapshot. */
export function scaledCascades(snapshots: readonly CascadeSnapshot[]): ScaledCascade[] {
  const names = routerTierNames(snapshots.map((s) => s.mc));
  return snapshots.map((s) => ({
    key: s.key,
    spec: s.mc.spec,
    routerTiers: names.get(s.key) ?? [],
    observed: Object.fromEntries(
      s.observed.map((o) => [o.name, { current: o.deployment?.spec?.replicas ?? 0, ready: o.pods.filter(podReady).length }]),
    ),
    vllmMetricsUrls: Object.fromEntries(
      s.observed.map((o) => [o.name, o.pods.filter(podReady).map((p) => `http://${p.status?.podIP}:${VLLM_PORT}/metrics`)]),
    ),
  }));
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
}): ScalingWiring {
  const gpuMeter = new GpuSecondsMeter({ registry: opts.registry });
  const meter = new SeededMeter(gpuMeter, (key) => opts.cascades().find((c) => c.key === key));
  const urls = opts.config.router.metricsUrls ?? [];
  if (urls.length === 0) {
    opts.log.warn('router.metricsUrls is empty: no autoscaling (each tier runs spec.replicas.min); GPU-seconds are still metered');
  }
  const scaling =
    urls.length > 0
      ? new AutoscalerLoop({
          scrape: () => scraper.scrape(),
          cascades: () => scaledCascades(opts.cascades()),
          intervalSeconds: opts.config.autoscalerIntervalSeconds,
          meter: gpuMeter,
          registry: opts.registry,
          log: { warn: (msg: string) => opts.log.warn(msg) },
        })
      : undefined;
  const scraper = new RouterScraper({ urls: () => urls });
  return {
    scaling,
    meter,
    start: () => scaling?.start(),
    stop: async () => {
      await scaling?.stop();
    },
  };
}
