// Wiring for the controller's main: the autoscaler loop (ScalingSource) and the GPU-seconds meter (MeterSource)
// from the controller configuration, the ModelCascades the runtime watches, and the registry its /metrics serves.
//
//   let runtime: KubernetesController | undefined;
//   const snapshot = () => runtime?.cascades() ?? [];
//   const { loop, meter } = createAutoscaling({
//     config, registry,
//     cascades: () => snapshot().map((c) => c.mc),
//     observed: (key) => observedReplicas(snapshot().find((c) => c.key === key)?.observed ?? []),
//     vllmMetricsUrls: (key) => vllmMetricsUrls(snapshot().find((c) => c.key === key)?.observed ?? []),
//   });
//   runtime = await startKubernetesController({ ..., scaling: loop, meter });
//   loop.start();            // on the leader only; loop.stop() when leadership is lost
import type { Registry } from 'prom-client';
import type { ModelCascade } from '../api/types.js';
import type { RoutingCostSignal, ScalingStrategy, CascadeState } from '../autoscale/index.js';
import type { ControllerConfig } from '../config/types.js';
import { cascadeKey, readyEndpoints, validateCascade } from '../plan/index.js';
import type { ObservedTier } from '../plan/types.js';
import type { CascadeKey } from '../runtime/hooks.js';
import { RouterScraper } from '../signals/index.js';
import { AutoscalerLoop, routerTierNames, type ScaledCascade } from './loop.js';
import { GpuSecondsMeter } from './meter-source.js';

export interface AutoscalingOptions {
  config: ControllerConfig;
  /** The ModelCascades the runtime knows (its informer cache), read at every tick. */
  cascades: () => readonly ModelCascade[];
  /** Replicas asked for and ready per tier, from the runtime's Deployments; absent = the loop's own last decision. */
  observed?: (cascade: CascadeKey) => Record<string, { current: number; ready: number }> | undefined;
  /** vLLM /metrics URLs per tier (http://<podIP>:8000/metrics of ready pods), for the saturation guard; optional. */
  vllmMetricsUrls?: (cascade: CascadeKey) => Record<string, readonly string[]> | undefined;
  registry?: Registry;
  strategy?: ScalingStrategy<CascadeState>;
  onCostSignal?: (signal: RoutingCostSignal) => void;
  now?: () => number;
  log?: { warn(msg: string): void };
}

export function createAutoscaling(opts: AutoscalingOptions): { loop: AutoscalerLoop; meter: GpuSecondsMeter; scraper: RouterScraper } {
  const now = opts.now ?? Date.now;
  const meter = new GpuSecondsMeter({ ...(opts.registry ? { registry: opts.registry } : {}), now });
  const scraper = new RouterScraper({ urls: () => opts.config.router.metricsUrls ?? [], now });
  const cascades = (): ScaledCascade[] => {
    // The same cascades the router configuration is built from (invalid ones are left out of it), so the
    // router's tier names line up.
    const valid = opts.cascades().filter((mc) => validateCascade(mc, opts.config).length === 0);
    const names = routerTierNames(valid);
    return valid.map((mc) => {
      const key = cascadeKey(mc);
      const observed = opts.observed?.(key);
      const urls = opts.vllmMetricsUrls?.(key);
      return { key, spec: mc.spec, routerTiers: names.get(key) ?? [], ...(observed ? { observed } : {}), ...(urls ? { vllmMetricsUrls: urls } : {}) };
    });
  };
  const loop = new AutoscalerLoop({
    scrape: () => scraper.scrape(),
    cascades,
    intervalSeconds: opts.config.autoscalerIntervalSeconds,
    meter,
    now,
    ...(opts.registry ? { registry: opts.registry } : {}),
    ...(opts.strategy ? { strategy: opts.strategy } : {}),
    ...(opts.onCostSignal ? { onCostSignal: opts.onCostSignal } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  return { loop, meter, scraper };
}

/** Replicas asked for (the Deployment's spec) and ready per tier, from the runtime's observed tiers. */
export function observedReplicas(tiers: readonly ObservedTier[]): Record<string, { current: number; ready: number }> {
  const out: Record<string, { current: number; ready: number }> = {};
  for (const t of tiers) {
    const ready = readyEndpoints(t.pods).length;
    out[t.name] = { current: t.deployment?.spec?.replicas ?? t.pods.length, ready: t.deployment?.status?.readyReplicas ?? ready };
  }
  return out;
}

/** vLLM /metrics URLs of each tier's ready pods (for the saturation guard's vllm:num_requests_waiting). */
export function vllmMetricsUrls(tiers: readonly ObservedTier[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const t of tiers) out[t.name] = readyEndpoints(t.pods).map((u) => `${u}/metrics`);
  return out;
}
