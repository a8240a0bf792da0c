// Cross-checking the demo's own counts (from the responses' tiermix fields) against the router's
// Prometheus counters: two independent records of the same run must agree.
import { escalationsOf } from './stats.js';
import type { RequestResult } from './types.js';

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Samples of the Prometheus text exposition format (comments skipped; values as numbers). */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of a metric's samples whose labels include all of `match`. */
export function sumMetric(samples: readonly PromSample[], name: string, match: Record<string, string | readonly string[]>): number {
  return samples
    .filter((s) => s.name === name)
    .filter((s) => Object.entries(match).every(([k, v]) => (typeof v === 'string' ? s.labels[k] === v : v.includes(s.labels[k] ?? ''))))
    .reduce((sum, s) => sum + s.value, 0);
}

export interface Check {
  what: string;
  fromResponses: number;
  fromMetrics: number;
  ok: boolean;
}

export interface MetricsCheck {
  ok: boolean;
  checks: Check[];
}

// Counts must match exactly; GPU-seconds are float sums added in a different order.
const same = (a: number, b: number, exact: boolean) => (exact ? a === b : Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b)));

export function crossCheck(opts: {
  samples: readonly PromSample[];
  cascade: string;
  tiers: readonly string[];
  routed: readonly RequestResult[];
  /** Requests pinned to a tier in the comparison phase, and that tier. */
  pinned?: { tier: string; results: readonly RequestResult[] };
}): MetricsCheck {
  const { samples, cascade } = opts;
  const checks: Check[] = [];
  const add = (what: string, fromResponses: number, fromMetrics: number, exact = true) =>
    checks.push({ what, fromResponses, fromMetrics, ok: same(fromResponses, fromMetrics, exact) });
  const ok = opts.routed.filter((r) => r.ok);
  for (const tier of opts.tiers) {
    add(
      `${tier}: routed requests answered (tiermix_requests_total)`,
      ok.filter((r) => r.tier === tier).length,
      sumMetric(samples, 'tiermix_requests_total', { cascade, tier, mode: 'routed', outcome: 'ok' }),
    );
    add(
      `${tier}: escalations out (tiermix_escalations_total)`,
      ok.reduce((n, r) => n + escalationsOf(r.steps).filter((e) => e.from === tier).length, 0),
      sumMetric(samples, 'tiermix_escalations_total', { cascade, from_tier: tier }),
    );
    add(
      `${tier}: routed GPU-seconds, wall (tiermix_gpu_seconds_total)`,
      ok.reduce((sum, r) => sum + r.steps.filter((s) => s.tier === tier).reduce((a, s) => a + s.gpuSeconds, 0), 0),
      sumMetric(samples, 'tiermix_gpu_seconds_total', { cascade, tier, purpose: ['answer', 'verify'] }),
      false,
    );
  }
  if (opts.pinned) {
    const { tier, results } = opts.pinned;
    const pinnedOk = results.filter((r) => r.ok);
    add(`${tier}: pinned requests answered (tiermix_requests_total)`, pinnedOk.length, sumMetric(samples, 'tiermix_requests_total', { cascade, tier, mode: 'pinned', outcome: 'ok' }));
    add(
      `${tier}: pinned GPU-seconds, wall (tiermix_gpu_seconds_total)`,
      pinnedOk.reduce((sum, r) => sum + r.gpuSeconds, 0),
      sumMetric(samples, 'tiermix_gpu_seconds_total', { cascade, tier, purpose: 'passthrough' }),
      false,
    );
  }
  return { ok: checks.every((c) => c.ok), checks };
}
