// Aggregation of the requests the demo sent, as pure functions. Every time and GPU-second the router or
// the client measured is wall-clock at the simulators' time scale s; dividing by s gives modelled seconds
// (what a full-speed deployment would take), which is what the report shows.
import type { RequestResult, StepRecord } from './types.js';

/** Nearest-rank percentile (p in 0..100): always a value that was observed; null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0,100], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Escalations one routed request made: each step after the first was reached from the step before it. */
export function escalationsOf(steps: readonly StepRecord[]): { from: string; to: string }[] {
  return steps.slice(1).map((s, i) => ({ from: steps[i]!.tier, to: s.tier }));
}

export interface TierRow {
  tier: string;
  gpusPerReplica: number;
  /** Routed requests whose returned answer came from this tier. */
  answered: number;
  /** Times the tier was asked (answer calls, failed ones included). */
  asked: number;
  /** Requests handed from this tier to a larger one. */
  escalationsOut: number;
  /** Correct answers among those this tier returned. */
  correct: number;
  /** GPU-seconds of this tier's answer and verification calls, modelled seconds. */
  gpuSeconds: number;
  /** Duration of those calls, modelled seconds. */
  callSeconds: number;
  /** Calls sharing the replica during this tier's calls (see sharing()); null without GPU time. */
  sharing: number | null;
}

/**
 * The router attributes a replica's GPU time to the calls in flight on it in equal shares, so
 * gpus x call time / GPU-seconds is the (harmonic, time-weighted) mean number of calls sharing the
 * replica: the batch size that made each call cheap or expensive.
 */
export function sharing(gpus: number, callSeconds: number, gpuSeconds: number): number | null {
  return gpuSeconds > 0 && gpus > 0 ? (gpus * callSeconds) / gpuSeconds : null;
}

export function tierRows(results: readonly RequestResult[], tiers: readonly { name: string; gpusPerReplica: number }[], timeScale: number): TierRow[] {
  const blank = (tier: string, gpusPerReplica: number): TierRow => ({ tier, gpusPerReplica, answered: 0, asked: 0, escalationsOut: 0, correct: 0, gpuSeconds: 0, callSeconds: 0, sharing: null });
  const rows = new Map<string, TierRow>(tiers.map((t) => [t.name, blank(t.name, t.gpusPerReplica)]));
  // A tier the responses name but the ladder does not (GPUs unknown: no sharing figure).
  const row = (name: string) => {
    let r = rows.get(name);
    if (!r) rows.set(name, (r = blank(name, 0)));
    return r;
  };
  for (const res of results) {
    if (!res.ok) continue;
    if (res.tier) {
      row(res.tier).answered++;
      if (res.correct) row(res.tier).correct++;
    }
    for (const s of res.steps) {
      row(s.tier).asked++;
      row(s.tier).gpuSeconds += s.gpuSeconds / timeScale;
      row(s.tier).callSeconds += s.seconds / timeScale;
    }
    for (const e of escalationsOf(res.steps)) row(e.from).escalationsOut++;
  }
  return [...rows.values()].map((r) => ({ ...r, sharing: sharing(r.gpusPerReplica, r.callSeconds, r.gpuSeconds) }));
}

export interface PhaseSummary {
  requests: number;
  answered: number;
  errors: number;
  /** Correct / answered, or null when nothing was answered. */
  accuracy: number | null;
  correct: number;
  /** Routed requests that went past their first tier (0 for pinned phases). */
  escalatedRequests: number;
  escalations: number;
  /** Modelled GPU-seconds per answered request and in total. */
  gpuSecondsPerRequest: number | null;
  gpuSecondsTotal: number;
  /** Client-side latency of answered requests, modelled seconds. */
  latencyP50: number | null;
  latencyP99: number | null;
  latencyMean: number | null;
  /** Wall seconds the phase took (not scaled: how long you waited). */
  wallSeconds: number;
}

export function summarizePhase(results: readonly RequestResult[], timeScale: number, wallSeconds: number): PhaseSummary {
  const ok = results.filter((r) => r.ok);
  const latencies = ok.map((r) => r.latencySeconds / timeScale);
  const gpu = ok.reduce((sum, r) => sum + r.gpuSeconds, 0) / timeScale;
  const correct = ok.filter((r) => r.correct).length;
  return {
    requests: results.length,
    answered: ok.length,
    errors: results.length - ok.length,
    accuracy: ok.length > 0 ? correct / ok.length : null,
    correct,
    escalatedRequests: ok.filter((r) => r.steps.length > 1).length,
    escalations: ok.reduce((n, r) => n + escalationsOf(r.steps).length, 0),
    gpuSecondsPerRequest: ok.length > 0 ? gpu / ok.length : null,
    gpuSecondsTotal: gpu,
    latencyP50: percentile(latencies, 50),
    latencyP99: percentile(latencies, 99),
    latencyMean: latencies.length > 0 ? latencies.reduce((a, b) => a + b, 0) / latencies.length : null,
    wallSeconds,
  };
}

/** The distinct error messages with their counts, most frequent first. */
export function errorKinds(results: readonly RequestResult[]): { error: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const r of results) if (!r.ok) counts.set(r.error ?? 'unknown error', (counts.get(r.error ?? 'unknown error') ?? 0) + 1);
  return [...counts].map(([error, count]) => ({ error, count })).sort((a, b) => b.count - a.count);
}

/** Per-call costs of each tier (GPU-seconds of one answer and one verification), by tier name. */
export type CallCosts = Record<string, { answer: number; verify: number }>;

/**
 * What the calls of a phase would cost at fixed per-call prices (the cost model's steady batch, not this run's
 * sharing), per answered request: every answer and every verification the responses report.
 */
export function pricedPerRequest(results: readonly RequestResult[], prices: CallCosts, pinnedTier?: string): number | null {
  const ok = results.filter((r) => r.ok);
  if (ok.length === 0) return null;
  let total = 0;
  for (const r of ok) {
    if (pinnedTier !== undefined) {
      const p = prices[pinnedTier];
      if (!p) return null;
      total += p.answer;
      continue;
    }
    for (const s of r.steps) {
      const p = prices[s.tier];
      if (!p) return null;
      total += p.answer + (s.verified ? p.verify : 0);
    }
  }
  return total / ok.length;
}
