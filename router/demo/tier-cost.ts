// GPU-seconds per tier (pure; tested), from the two places that count them (docs/gpu-seconds.md):
// - the controller's meter, tiermix_gpu_seconds_total{cascade,tier,state}: what each tier's replicas held, split into
//   serving, idle and loading. The controller runs on the simulators' clock, so these are modelled seconds already.
// - the router's attribution, tiermix_gpu_seconds_total{cascade,tier,purpose} with tiermix_tier_requests_total and
//   tiermix_tier_tokens_total: what the requests used, per request and per 1,000 tokens. Wall seconds at the time
//   scale, divided by it here. When the router does not count calls and tokens per tier, the demo's own records of
//   the responses stand in (and the report says so).
import { sumMetric, type PromSample } from './metrics-check.js';
import type { DemoTier, RequestResult } from './types.js';

export interface MeterSplit {
  serving: number;
  idle: number;
  loading: number;
}

export const meterTotal = (m: MeterSplit) => m.serving + m.idle + m.loading;

/** The controller's meter per ModelCascade tier name, for one cascade ("<namespace>/<name>"). */
export function meterSnapshot(samples: readonly PromSample[], cascadeKey: string, tiers: readonly string[]): Record<string, MeterSplit> {
  const get = (tier: string, state: string) => sumMetric(samples, 'tiermix_gpu_seconds_total', { cascade: cascadeKey, tier, state });
  return Object.fromEntries(tiers.map((t) => [t, { serving: get(t, 'serving'), idle: get(t, 'idle'), loading: get(t, 'loading') }]));
}

/** What the meter counted between two snapshots. */
export function meterDelta(from: Record<string, MeterSplit>, to: Record<string, MeterSplit>): Record<string, MeterSplit> {
  const zero = { serving: 0, idle: 0, loading: 0 };
  return Object.fromEntries(
    Object.entries(to).map(([tier, b]) => {
      const a = from[tier] ?? zero;
      return [tier, { serving: b.serving - a.serving, idle: b.idle - a.idle, loading: b.loading - a.loading }];
    }),
  );
}

export interface TierCostRow {
  /** The router's tier name. */
  tier: string;
  /** Answer calls (requests that reached the tier) and self-verification calls. */
  answerCalls: number;
  verifyCalls: number;
  /** Prompt + completion tokens counted (see TierCosts.source for which calls). */
  tokens: number;
  /** GPU-seconds the router attributed to the tier's calls, modelled. */
  attributed: number;
  attributedPerRequest: number | null;
  attributedPer1kTokens: number | null;
  /** The controller's meter over the same run (modelled); null when not measured. */
  metered: MeterSplit | null;
  /** Metered GPU-seconds (all states) per request that reached the tier: the fully loaded cost. */
  meteredPerRequest: number | null;
}

export interface TierCosts {
  /** Where calls and tokens come from. */
  source: 'router metrics' | 'demo records';
  note: string;
  rows: TierCostRow[];
}

const per = (a: number, b: number, scale = 1) => (b > 0 ? (a / b) * scale : null);

/**
 * Per tier of the routed run: calls, tokens and attributed GPU-seconds, from the router's counters (`routerSamples`,
 * read right after the routed phase) when it counts calls per tier, else from the responses (`results`).
 */
export function tierCosts(o: {
  tiers: readonly DemoTier[];
  cascade: string;
  routerSamples: readonly PromSample[];
  results: readonly RequestResult[];
  timeScale: number;
  metered: Record<string, MeterSplit> | null;
}): TierCosts {
  const fromRouter = o.tiers.some((t) => sumMetric(o.routerSamples, 'tiermix_tier_requests_total', { cascade: o.cascade, tier: t.name }) > 0);
  const rows = o.tiers.map((t): TierCostRow => {
    let answerCalls: number;
    let verifyCalls: number;
    let tokens: number;
    let attributed: number;
    if (fromRouter) {
      const m = { cascade: o.cascade, tier: t.name };
      answerCalls = sumMetric(o.routerSamples, 'tiermix_tier_requests_total', { ...m, purpose: 'answer' });
      verifyCalls = sumMetric(o.routerSamples, 'tiermix_tier_requests_total', { ...m, purpose: 'verify' });
      tokens = sumMetric(o.routerSamples, 'tiermix_tier_tokens_total', { ...m, purpose: ['answer', 'verify'] });
      attributed = sumMetric(o.routerSamples, 'tiermix_gpu_seconds_total', { ...m, purpose: ['answer', 'verify'] }) / o.timeScale;
    } else {
      const ok = o.results.filter((r) => r.ok);
      const steps = ok.flatMap((r) => r.steps.filter((s) => s.tier === t.name));
      answerCalls = steps.length;
      verifyCalls = steps.filter((s) => s.verified).length;
      tokens = ok.filter((r) => r.tier === t.name).reduce((n, r) => n + (r.usage ? r.usage.prompt + r.usage.completion : 0), 0);
      attributed = steps.reduce((sum, s) => sum + s.gpuSeconds, 0) / o.timeScale;
    }
    const metered = o.metered?.[t.tier] ?? null;
    return {
      tier: t.name,
      answerCalls,
      verifyCalls,
      tokens,
      attributed,
      attributedPerRequest: per(attributed, answerCalls),
      attributedPer1kTokens: per(attributed, tokens, 1000),
      metered,
      meteredPerRequest: metered ? per(meterTotal(metered), answerCalls) : null,
    };
  });
  return {
    source: fromRouter ? 'router metrics' : 'demo records',
    note: fromRouter
      ? 'calls and tokens: the router\'s tiermix_tier_requests_total and tiermix_tier_tokens_total (answer and verification calls)'
      : 'the router does not count calls and tokens per tier (tiermix_tier_requests_total is empty), so they come from the ' +
        'responses: calls from tiermix.steps, tokens from the usage of the returned answers only (a tier\'s verification calls ' +
        'and the answers of tiers a request left are not in the response), so GPU-s per 1k tokens is overstated',
    rows,
  };
}
