// How much slower each decode step runs as a replica's batch fills. vLLM's continuous batching runs up to
// max-num-seqs sequences at once, and every step of the batch takes longer the more sequences it holds, so
// packing the same load onto fewer replicas raises each one's batch twice over: more load per replica, and
// each request staying longer. The model is a line,
//   itl(r) = a + c r        (r: sequences running on the replica; itl: seconds per output token)
// fitted by least squares to per-replica, per-tick readings (the mean inter-token latency over the tick, from
// vLLM's histogram sum and count, against the batch size), with exponential forgetting so it follows a new
// engine version or GPU type. A steady load runs every replica at about the same batch size, which leaves the
// slope undetermined, so the fit is pulled towards a prior slope with the weight of priorWeight readings.
import type { WeightedSums } from './types.js';

export const emptySums = (): WeightedSums => ({ w: 0, x: 0, y: 0, xx: 0, xy: 0 });

/** Every sum times `factor` (forgetting: 0.5 after one half-life). */
export function decaySums(s: WeightedSums, factor: number): WeightedSums {
  return { w: s.w * factor, x: s.x * factor, y: s.y * factor, xx: s.xx * factor, xy: s.xy * factor };
}

export function addPoint(s: WeightedSums, x: number, y: number, weight = 1): WeightedSums {
  return { w: s.w + weight, x: s.x + weight * x, y: s.y + weight * y, xx: s.xx + weight * x * x, xy: s.xy + weight * x * y };
}

export interface LatencyPrior {
  /** A full batch (capacity sequences) runs each step this many times slower than one sequence. */
  slowdownAtCapacity: number;
  capacity: number;
  /** Weight of the prior, in readings. */
  weight: number;
}

export interface LatencyLine {
  a: number;
  c: number;
  /** Weight of the readings behind it (0 = the prior alone). */
  readings: number;
}

/**
 * The fitted line, or the prior alone (scaled so that itl(1) = 1: only ratios matter) without readings. The
 * prior enters as two pseudo-readings on the prior's relative slope through the readings' mean, a quarter of
 * the capacity either side of it. The slope is kept >= 0 and the intercept > 0 (a negative intercept would
 * say a nearly empty batch costs nothing: the line is then turned about the mean to keep 10% of it).
 */
export function fitLatency(s: WeightedSums, prior: LatencyPrior): LatencyLine {
  const beta = (prior.slowdownAtCapacity - 1) / Math.max(1, prior.capacity - 1);
  if (s.w <= 1e-9 || s.y <= 0) return { a: 1 - beta, c: beta, readings: 0 };
  const mx = s.x / s.w;
  const my = s.y / s.w;
  const h = prior.capacity / 4;
  const at = (x: number) => (my * (1 + beta * (x - 1))) / (1 + beta * (mx - 1));
  const half = prior.weight / 2;
  const all = addPoint(addPoint(s, mx - h, at(mx - h), half), mx + h, at(mx + h), half);
  const ax = all.x / all.w;
  const ay = all.y / all.w;
  const varx = all.xx / all.w - ax * ax;
  let c = varx > 1e-12 ? (all.xy / all.w - ax * ay) / varx : beta * my;
  c = Math.max(0, c);
  let a = ay - c * ax;
  if (a < 0.1 * ay) {
    a = 0.1 * ay;
    c = ax > 0 ? (ay - a) / ax : 0;
  }
  return { a, c, readings: s.w };
}

/** Step time at batch size r (in the line's units). */
export const itlAt = (line: LatencyLine, r: number): number => line.a + line.c * Math.max(0, r);

/**
 * The batch size per replica at which `work` (sequences in flight, measured while steps took itlAt(line, rNow))
 * settles when spread over `replicas`: r = (work / itl(rNow) / replicas) x itl(r), solved for r (the line
 * makes it linear). Infinity when the replicas cannot keep up at any batch size.
 */
export function settledBatch(line: LatencyLine, work: number, rNow: number, replicas: number): number {
  if (replicas <= 0) return work > 0 ? Infinity : 0;
  const x = work / itlAt(line, rNow) / replicas;
  const den = 1 - x * line.c;
  return den <= 1e-9 ? Infinity : (x * line.a) / den;
}
