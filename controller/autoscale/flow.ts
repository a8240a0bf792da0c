// Cascade flow from the router's cumulative counters: which share of the requests reaching tier k the router
// hands on to tier j, and how long a request keeps tier k busy. Rates come from the difference between the
// newest snapshot and the oldest one inside the window, so one missed scrape changes nothing.
import type { CascadeCounters, CounterSnapshot, FlowEstimate } from './types.js';

export interface FlowSettings {
  /** Counter history kept for the rates. */
  windowSeconds: number;
  /** Fewer new arrivals at a tier than this in the window: keep its previous estimate (too little traffic to tell). */
  minArrivals: number;
}

export const DEFAULT_FLOW_SETTINGS: Readonly<FlowSettings> = { windowSeconds: 300, minArrivals: 20 };

/** True when some counter went down: a router restarted (or one was dropped from the sum); rates restart. */
function wentDown(a: CascadeCounters, b: CascadeCounters): boolean {
  const down = (x: readonly number[], y: readonly number[]) => y.some((v, i) => v < (x[i] ?? 0) - 1e-9);
  return (
    a.arrivals.length !== b.arrivals.length ||
    down(a.arrivals, b.arrivals) ||
    down(a.upstreamSeconds, b.upstreamSeconds) ||
    down(a.upstreamCalls ?? [], b.upstreamCalls ?? []) ||
    b.escalations.some((row, k) => down(a.escalations[k] ?? [], row))
  );
}

/** History with `counters` appended at `nowMs`, trimmed to the window (one snapshot at or before its start is kept). */
export function pushCounters(history: readonly CounterSnapshot[], counters: CascadeCounters, nowMs: number, s: FlowSettings = DEFAULT_FLOW_SETTINGS): CounterSnapshot[] {
  const last = history.at(-1);
  if (last && (nowMs < last.atMs || wentDown(last.counters, counters))) return [{ atMs: nowMs, counters }];
  const next = [...history, { atMs: nowMs, counters }];
  const start = nowMs - s.windowSeconds * 1000;
  let drop = 0;
  while (drop + 1 < next.length && next[drop + 1]!.atMs <= start) drop++;
  return next.slice(drop);
}

/**
 * Shares and service times over the window; tiers with too little traffic keep `previous` (or 0 / null). A
 * tier marked in `queued` (vLLM queued there inside the window) keeps its previous seconds per request: the
 * router's upstream seconds include vLLM's queue, and a tier that queued would otherwise look as if every
 * request stayed there that much longer (pre-scaling would then size it for a backlog long gone).
 */
export function estimateFlow(history: readonly CounterSnapshot[], previous: FlowEstimate | null, s: FlowSettings = DEFAULT_FLOW_SETTINGS, queued: readonly boolean[] = []): FlowEstimate | null {
  const first = history[0];
  const last = history.at(-1);
  if (!first || !last || first === last) return previous;
  const n = last.counters.arrivals.length;
  const share: number[][] = [];
  const secondsPerArrival: (number | null)[] = [];
  const arrivals: number[] = [];
  for (let k = 0; k < n; k++) {
    const arr = last.counters.arrivals[k]! - (first.counters.arrivals[k] ?? 0);
    const enough = arr >= s.minArrivals;
    const row: number[] = [];
    for (let j = 0; j < n; j++) {
      if (j <= k) row.push(0);
      else if (enough) row.push(clamp01((last.counters.escalations[k]?.[j] ?? 0) - (first.counters.escalations[k]?.[j] ?? 0), arr));
      else row.push(previous?.share[k]?.[j] ?? 0);
    }
    share.push(row);
    const secs = last.counters.upstreamSeconds[k]! - (first.counters.upstreamSeconds[k] ?? 0);
    const kept = previous?.secondsPerArrival[k] ?? null;
    secondsPerArrival.push(enough && secs > 0 && !(queued[k] && kept !== null) ? secs / arr : kept);
    arrivals.push(enough ? arr : (previous?.arrivals[k] ?? 0));
  }
  return { share, secondsPerArrival, arrivals };
}

const clamp01 = (num: number, den: number): number => Math.min(1, Math.max(0, num / den));

/** One contribution to a tier's expected load, for the reason text. */
export interface Inflow {
  from: number;
  load: number;
  share: number;
  /** Seconds a request spends at the receiving tier over seconds at the sending one. */
  timeRatio: number;
  expected: number;
}

/**
 * Expected in-flight load per tier from the load now at the tiers below it (Little's law along the cascade):
 * a request in flight at tier k moves on to tier j with probability share[k][j] and then stays there
 * secondsPerArrival[j], against secondsPerArrival[k] at tier k, so in steady state
 *   inflow_j = sum over k < j of E_k x share[k][j] x W_j / W_k,   E_j = max(own_j, inflow_j).
 * Taking E_k (not the own load) of the lower tiers carries a wave through the whole cascade: requests queued
 * at a saturated tier k will reach tier j once k drains, before j's own queue shows them.
 */
export function expectedLoad(own: readonly number[], flow: FlowEstimate | null): { expected: number[]; inflow: number[]; parts: Inflow[][] } {
  const expected: number[] = [];
  const inflow: number[] = [];
  const parts: Inflow[][] = [];
  own.forEach((o, j) => {
    const mine: Inflow[] = [];
    let total = 0;
    for (let k = 0; k < j && flow; k++) {
      const share = flow.share[k]?.[j] ?? 0;
      const load = expected[k]!;
      if (share <= 0 || load <= 0) continue;
      const wj = flow.secondsPerArrival[j] ?? null;
      const wk = flow.secondsPerArrival[k] ?? null;
      // Without both service times, assume a request stays as long at j as at k.
      const timeRatio = wj !== null && wk !== null && wk > 0 ? wj / wk : 1;
      const e = load * share * timeRatio;
      mine.push({ from: k, load, share, timeRatio, expected: e });
      total += e;
    }
    inflow.push(total);
    expected.push(Math.max(o, total));
    parts.push(mine);
  });
  return { expected, inflow, parts };
}
