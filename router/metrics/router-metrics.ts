// The router's Prometheus metrics. In-flight requests per tier is the signal the controller scales on;
// escalations and GPU-seconds per tier show what the cascade costs.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { UpstreamHooks } from '../upstream/types.js';

export type RequestMode = 'routed' | 'pinned';
export interface CallLabels {
  cascade: string;
  tier: string;
  purpose: 'answer' | 'verify' | 'passthrough';
}
export type RequestOutcome = 'ok' | 'client_error' | 'upstream_error' | 'error';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160];

export class RouterMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'tiermix_requests_total',
    help: 'Requests by cascade, serving tier, mode (routed or pinned) and outcome.',
    labelNames: ['cascade', 'tier', 'mode', 'outcome'] as const,
    registers: [this.registry],
  });

  // In-flight counts change twice per request (per upstream attempt for tiers): they are kept as plain
  // numbers and copied into their gauges when the registry is collected (a scrape), not on every change.
  private routerInFlightNow = 0;
  /** Upstream calls in flight per tier, summed over every tier client (a reload may leave two per tier). */
  private readonly tierInFlightNow = new Map<string, number>();
  /** Requests held per tier, waiting for the tier to get an endpoint (scale from zero). */
  private readonly tierHeldNow = new Map<string, number>();

  readonly tierInFlight: Gauge<'tier'> = new Gauge({
    name: 'tiermix_tier_in_flight_requests',
    help: 'Upstream requests in flight per tier (answers and verifications), held requests included; the autoscaling signal.',
    labelNames: ['tier'] as const,
    registers: [this.registry],
    collect: () => {
      for (const tier of new Set([...this.tierInFlightNow.keys(), ...this.tierHeldNow.keys()])) {
        this.tierInFlight.set({ tier }, (this.tierInFlightNow.get(tier) ?? 0) + (this.tierHeldNow.get(tier) ?? 0));
      }
    },
  });

  readonly tierHeld: Gauge<'tier'> = new Gauge({
    name: 'tiermix_tier_held_requests',
    help: 'Requests held for a tier with no endpoints (scaled to zero or loading) until a replica appears; counted in tiermix_tier_in_flight_requests too.',
    labelNames: ['tier'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [tier, n] of this.tierHeldNow) this.tierHeld.set({ tier }, n);
    },
  });

  readonly holdSeconds = new Histogram({
    name: 'tiermix_hold_seconds',
    help: 'How long a request was held for a tier with no endpoints, by outcome (endpoint: a replica appeared; expired: served by a warm tier or failed; aborted: the client left).',
    labelNames: ['tier', 'outcome'] as const,
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300],
    registers: [this.registry],
  });

  readonly escalations = new Counter({
    name: 'tiermix_escalations_total',
    help: 'Requests handed from one tier to a larger one, by reason (verify: low confidence; fallback: upstream failure).',
    labelNames: ['cascade', 'from_tier', 'to_tier', 'reason'] as const,
    registers: [this.registry],
  });

  readonly decisionSeconds = new Histogram({
    name: 'tiermix_routing_decision_seconds',
    help: 'Time from a routed request arriving to its answer being chosen (tier calls and verification included).',
    labelNames: ['cascade'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly policySeconds = new Histogram({
    name: 'tiermix_policy_seconds',
    help: 'CPU time of the routing policy itself, summed over one request.',
    labelNames: ['cascade'] as const,
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01],
    registers: [this.registry],
  });

  readonly upstreamSeconds = new Histogram({
    name: 'tiermix_upstream_request_seconds',
    help: 'Latency of one upstream attempt to a vLLM replica, by tier, purpose and outcome.',
    labelNames: ['tier', 'purpose', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly gpuSeconds = new Counter({
    name: 'tiermix_gpu_seconds_total',
    help: 'GPU-seconds attributed to requests (service time x GPUs / requests sharing the replica), by tier and purpose.',
    labelNames: ['cascade', 'tier', 'purpose'] as const,
    registers: [this.registry],
  });

  // Calls and tokens per tier: with tiermix_gpu_seconds_total they give GPU-seconds per request and per 1k
  // tokens of each tier (docs/gpu-seconds.md). Fed by recordTierCall at the places that count GPU-seconds.
  readonly tierCalls = new Counter({
    name: 'tiermix_tier_requests_total',
    help: 'Upstream calls a tier answered, by cascade, tier and purpose (answer, verify, passthrough).',
    labelNames: ['cascade', 'tier', 'purpose'] as const,
    registers: [this.registry],
  });

  readonly tierTokens = new Counter({
    name: 'tiermix_tier_tokens_total',
    help: "Tokens a tier processed for the router, from its responses' usage, by purpose and kind (prompt, completion).",
    labelNames: ['cascade', 'tier', 'purpose', 'kind'] as const,
    registers: [this.registry],
  });

  readonly configReloads = new Counter({
    name: 'tiermix_config_reloads_total',
    help: 'Configuration reloads by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly routerInFlight: Gauge = new Gauge({
    name: 'tiermix_router_in_flight_requests',
    help: 'Client requests the router is handling now.',
    registers: [this.registry],
    collect: () => {
      this.routerInFlight.set(this.routerInFlightNow);
    },
  });

  /** A client request arrived; call requestEnded once it is over (its response closed). */
  requestStarted(): void {
    this.routerInFlightNow++;
  }

  /** Bound, so that it can be passed as the response's 'close' listener as it is. */
  readonly requestEnded = (): void => {
    this.routerInFlightNow--;
  };

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'tiermix_router_' });
  }

  /**
   * One upstream call a tier answered: counts it and the tokens of the response's `usage` (an OpenAI/vLLM body;
   * a streamed response without usage counts the call only). Call it where the call's GPU-seconds are counted.
   */
  recordTierCall(l: CallLabels, body?: unknown): void {
    this.tierCalls.inc(l);
    const usage = usageOf(body);
    if (!usage) return;
    // Label objects written out: { ...l, kind } costs about 1 µs on Node 20, several times per routed request.
    if (usage.prompt > 0) this.tierTokens.inc({ cascade: l.cascade, tier: l.tier, purpose: l.purpose, kind: 'prompt' }, usage.prompt);
    if (usage.completion > 0) this.tierTokens.inc({ cascade: l.cascade, tier: l.tier, purpose: l.purpose, kind: 'completion' }, usage.completion);
  }

  /** GPU-seconds attributed to one upstream call (succeeded or failed), by cascade, tier and purpose. */
  recordGpuSeconds(labels: CallLabels, gpuSeconds: number): void {
    this.gpuSeconds.inc(labels, gpuSeconds);
  }

  /** One client request ended: by cascade, serving tier, mode and outcome. */
  recordRequest(labels: { cascade: string; tier: string; mode: RequestMode; outcome: RequestOutcome }): void {
    this.requests.inc(labels);
  }

  /** A routed request's answer was chosen: its decision time (tier calls included) and the policy's own CPU time. */
  recordDecision(cascade: string, decisionSeconds: number, policySeconds: number): void {
    const labels = { cascade };
    this.decisionSeconds.observe(labels, decisionSeconds);
    this.policySeconds.observe(labels, policySeconds);
  }

  /** A request handed from one tier to a larger one. */
  recordEscalation(labels: { cascade: string; from_tier: string; to_tier: string; reason: 'verify' | 'fallback' }): void {
    this.escalations.inc(labels);
  }

  /** A request starts waiting for the tier to get an endpoint. */
  holdStarted(tier: string): void {
    this.tierHeldNow.set(tier, (this.tierHeldNow.get(tier) ?? 0) + 1);
  }

  /** A held request stopped waiting. */
  holdEnded(tier: string, outcome: 'endpoint' | 'expired' | 'aborted', seconds: number): void {
    this.tierHeldNow.set(tier, Math.max(0, (this.tierHeldNow.get(tier) ?? 0) - 1));
    this.holdSeconds.observe({ tier, outcome }, seconds);
  }

  /**
   * Hooks that feed upstream events from one tier client into these metrics: take one set per client. Each set
   * reports its client's in-flight count, and the tier's gauge is the sum over the sets, so the old and the new
   * client of a tier whose endpoints changed in a reload do not overwrite each other's counts.
   */
  upstreamHooks(): UpstreamHooks {
    const reported = new Map<string, number>();
    return {
      onInFlight: (tier, n) => {
        const delta = n - (reported.get(tier) ?? 0);
        reported.set(tier, n);
        this.tierInFlightNow.set(tier, (this.tierInFlightNow.get(tier) ?? 0) + delta);
      },
      onAttempt: (e) => this.upstreamSeconds.observe({ tier: e.tier, purpose: e.purpose, outcome: e.outcome }, e.seconds),
    };
  }
}

/** prompt_tokens and completion_tokens of a response body's usage, when present and sane. */
export function usageOf(body: unknown): { prompt: number; completion: number } | null {
  const usage = (body as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } } | null | undefined)?.usage;
  if (!usage || typeof usage !== 'object') return null;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  return { prompt: n(usage.prompt_tokens), completion: n(usage.completion_tokens) };
}
