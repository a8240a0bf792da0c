// What the autoscaler and the meter need from one router's /metrics, and the sum over several routers.
// Router tier names are unique across a router's whole configuration, so tiers are keyed by name alone.
import type { CascadeCounters } from '../autoscale/types.js';
import type { PromSample } from './prom-text.js';

export interface RouterReading {
  /** tiermix_tier_in_flight_requests by tier. */
  inFlight: Record<string, number>;
  /** tiermix_escalations_total by "from\u0000to" (all cascades and reasons summed). */
  escalations: Record<string, number>;
  /** tiermix_requests_total{mode="routed"} by the tier that answered (all outcomes). */
  served: Record<string, number>;
  /** tiermix_requests_total{mode="pinned"} by tier. */
  pinned: Record<string, number>;
  /** tiermix_upstream_request_seconds_sum by tier (all purposes and outcomes). */
  upstreamSeconds: Record<string, number>;
  /** tiermix_upstream_request_seconds_count by tier: upstream calls completed. */
  upstreamCalls: Record<string, number>;
  /** tiermix_tier_requests_total by tier (answer and passthrough calls: requests that reached the tier). */
  tierRequests: Record<string, number>;
}

export const pairKey = (from: string, to: string): string => `${from}\u0000${to}`;

export function emptyReading(): RouterReading {
  return { inFlight: {}, escalations: {}, served: {}, pinned: {}, upstreamSeconds: {}, upstreamCalls: {}, tierRequests: {} };
}

const add = (m: Record<string, number>, k: string | undefined, v: number) => {
  if (k === undefined || !Number.isFinite(v)) return;
  m[k] = (m[k] ?? 0) + v;
};

/** The reading in one router's samples (unrelated metrics are ignored). */
export function readRouter(samples: readonly PromSample[]): RouterReading {
  const r = emptyReading();
  for (const s of samples) {
    const l = s.labels;
    switch (s.name) {
      case 'tiermix_tier_in_flight_requests':
        add(r.inFlight, l.tier, s.value);
        break;
      case 'tiermix_escalations_total':
        if (l.from_tier !== undefined && l.to_tier !== undefined) add(r.escalations, pairKey(l.from_tier, l.to_tier), s.value);
        break;
      case 'tiermix_requests_total':
        if (l.tier) add(l.mode === 'pinned' ? r.pinned : r.served, l.tier, s.value);
        break;
      case 'tiermix_upstream_request_seconds_sum':
        add(r.upstreamSeconds, l.tier, s.value);
        break;
      case 'tiermix_upstream_request_seconds_count':
        add(r.upstreamCalls, l.tier, s.value);
        break;
      case 'tiermix_tier_requests_total':
        if (l.purpose === 'answer' || l.purpose === 'passthrough') add(r.tierRequests, l.tier, s.value);
        break;
    }
  }
  return r;
}

/** The sum of several routers' readings. */
export function sumReadings(readings: readonly RouterReading[]): RouterReading {
  const out = emptyReading();
  for (const r of readings) {
    for (const key of Object.keys(out) as (keyof RouterReading)[]) for (const [k, v] of Object.entries(r[key])) add(out[key], k, v);
  }
  return out;
}

/**
 * The cumulative counters of one cascade (its router tier names, smallest first) for the autoscaler's flow
 * estimate. Arrivals at a tier are its answer and pass-through calls (tiermix_tier_requests_total) when the
 * router exports them; otherwise they are rebuilt from the older metrics, assuming every routed request starts
 * at the smallest tier (true of the threshold policy and, on the test split, of the POMDP): the routed requests
 * of the cascade arrive at tier 0, escalations into a tier arrive there, and pinned requests at their tier.
 * (The tier that answered, tiermix_requests_total's label, may be a smaller one than the last asked.)
 */
export function cascadeCounters(r: RouterReading, tiers: readonly string[]): CascadeCounters {
  const escalations = tiers.map((from) => tiers.map((to) => r.escalations[pairKey(from, to)] ?? 0));
  const calls = tiers.map((t) => r.tierRequests[t] ?? 0);
  const routed = tiers.reduce((n, t) => n + (r.served[t] ?? 0), 0);
  const arrivals = calls.some((n) => n > 0)
    ? calls
    : tiers.map((t, k) => (k === 0 ? routed : escalations.reduce((n, row) => n + row[k]!, 0)) + (r.pinned[t] ?? 0));
  return { arrivals, escalations, upstreamSeconds: tiers.map((t) => r.upstreamSeconds[t] ?? 0), upstreamCalls: tiers.map((t) => r.upstreamCalls[t] ?? 0) };
}
