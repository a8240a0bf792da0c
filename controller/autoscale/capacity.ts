// Sizing a tier by what its replicas can really run (WVA-style saturation awareness, in numbers), instead of by
// a fixed number of in-flight requests per replica. A vLLM replica batches up to max-num-seqs sequences (or
// what its KV cache holds) at once and only queues beyond that, so a fixed target of 8 in flight leaves most
// of a 7B's 64 slots empty. From the engines' /metrics at every tick this learns, per tier:
//   capacity C      sequences a replica runs before it queues: the spec's --max-num-seqs, the batch at which
//                   replicas were seen queueing, or what the KV cache would hold at its current use per
//                   sequence (the lowest known);
//   sequences/call  a verification with n = 8 runs 8 sequences for one router call;
//   latency line    how much slower each step gets as the batch fills (latency-model.ts).
// and sizes the tier as the fewest replicas N whose settled batch r (the load spread over N, each request
// staying longer at the fuller batch) leaves room for one replica's fluctuation:
//   r + z sqrt(I r) <= maxUtilisation x C                 (and r within maxSlowdown, if set)
// where I is the measured variance-to-mean ratio of one replica's batch (1 for Poisson arrivals of single
// sequences; more when the router, which balances calls by count, hands one replica several n = 8
// verifications): square-root staffing, so replicas with more room run relatively fuller.
import { addPoint, decaySums, emptySums, fitLatency, itlAt, settledBatch, type LatencyLine } from './latency-model.js';
import type { CapacityState, TierInput } from './types.js';
import { mean, pushSample, since } from './window.js';

export interface CapacitySettings {
  /** Headroom: this many standard deviations of the running sequences above the settled mean. */
  headroomZ: number;
  /** Scale down only to sizes that leave headroomZ + hysteresisZ standard deviations (a band against flapping). */
  hysteresisZ: number;
  /** Plan replicas to at most this share of their capacity (imbalance between replicas, an n = 8 request's 8 sequences). */
  maxUtilisation: number;
  /** Readings this old count half (latency line, saturation points, KV use, sequences per call). */
  halfLifeSeconds: number;
  /** Until the readings tell: a full batch runs each step this many times slower than one sequence. */
  priorSlowdownAtCapacity: number;
  /** Weight of that prior, in replica-ticks of readings. */
  priorWeight: number;
  /** KV-cache use counted as full (WVA's saturation test uses 0.8). */
  kvLimit: number;
  /** Fewer output tokens than this in a tick on a replica: no latency reading from it. */
  minTokens: number;
  /** Optional latency bound: plan no batch whose steps run more than this many times slower than one sequence's. */
  maxSlowdown?: number;
}

export const DEFAULT_CAPACITY_SETTINGS: Readonly<CapacitySettings> = {
  headroomZ: 2.5,
  hysteresisZ: 0.5,
  maxUtilisation: 0.9,
  halfLifeSeconds: 1800,
  priorSlowdownAtCapacity: 2,
  priorWeight: 20,
  kvLimit: 0.9,
  minTokens: 10,
};

const f1 = (x: number) => (Math.round(x * 10) / 10).toString();

/** The batch one replica's readings are compared with: the mean over the last minute. */
const DISPERSION_REFERENCE_MS = 60_000;
/** Until readings tell: Poisson spread (variance = mean), with the weight of this many replica-readings' worth of mean. */
const PRIOR_DISPERSION_WEIGHT = 50;

/** Variance over mean of one replica's running sequences (1 = Poisson; an n = 8 request's sequences raise it). */
export function dispersionIndex(state: CapacityState): number {
  return (state.dispersion.dev2 + PRIOR_DISPERSION_WEIGHT) / (state.dispersion.mean + PRIOR_DISPERSION_WEIGHT);
}

function emptyCapacityState(nowMs: number): CapacityState {
  return { latency: emptySums(), saturation: { w: 0, sum: 0 }, kvSeqs: { w: 0, sum: 0 }, seqsPerCall: { seqs: 0, calls: 0 }, dispersion: { dev2: 0, mean: 0 }, slots: [], perReplica: [], last: {}, lastQueueAtMs: null, atMs: nowMs };
}

/** The state after one tick's engine readings (unchanged but for the decay when the tier has none). */
export function observeEngines(prev: CapacityState | undefined, t: TierInput, nowMs: number, keepMs: number, s: CapacitySettings): CapacityState {
  const base = prev && prev.atMs <= nowMs ? prev : emptyCapacityState(nowMs);
  const k = Math.pow(0.5, (nowMs - base.atMs) / 1000 / s.halfLifeSeconds);
  let latency = decaySums(base.latency, k);
  const saturation = { w: base.saturation.w * k, sum: base.saturation.sum * k };
  const kvSeqs = { w: base.kvSeqs.w * k, sum: base.kvSeqs.sum * k };
  const seqsPerCall = { seqs: base.seqsPerCall.seqs * k, calls: base.seqsPerCall.calls * k };
  const dispersion = { dev2: base.dispersion.dev2 * k, mean: base.dispersion.mean * k };
  const engines = t.engines ?? [];
  if (engines.length === 0) return { ...base, latency, saturation, kvSeqs, seqsPerCall, dispersion, atMs: nowMs };
  const last: CapacityState['last'] = {};
  let running = 0;
  let waiting = 0;
  for (const e of engines) {
    running += e.running;
    waiting += e.waiting;
    const before = base.last[e.id];
    if (e.itlSeconds !== null && e.itlCount !== null) {
      if (before && e.itlCount - before.itlCount >= s.minTokens && e.itlSeconds >= before.itlSeconds) {
        const y = (e.itlSeconds - before.itlSeconds) / (e.itlCount - before.itlCount);
        latency = addPoint(latency, (before.running + e.running) / 2, y);
      }
      last[e.id] = { itlSeconds: e.itlSeconds, itlCount: e.itlCount, running: e.running };
    }
    // Queueing below max-num-seqs (or with it unknown): the KV cache or something else bounds the batch there.
    if (e.waiting > 0 && e.running > 0 && (t.maxNumSeqs === undefined || e.running < 0.8 * t.maxNumSeqs)) {
      saturation.w += 1;
      saturation.sum += e.running;
    }
    if (e.kvCacheUsage !== null && e.kvCacheUsage > 0.05 && e.running >= 1) {
      kvSeqs.w += 1;
      kvSeqs.sum += (s.kvLimit * e.running) / e.kvCacheUsage;
    }
  }
  // How far one replica's batch strays from the recent mean batch (the last minute's running sequences over
  // today's replicas, so that a change in replicas is no deviation): with calls balanced by count, a replica
  // that drew several n = 8 verifications runs far fuller than the mean.
  const slots = pushSample(base.slots, running, nowMs, keepMs);
  const recent = mean(since(slots, nowMs - DISPERSION_REFERENCE_MS)) / engines.length;
  if (waiting === 0 && recent > 0) {
    for (const e of engines) dispersion.dev2 += (e.running - recent) ** 2;
    dispersion.mean += recent * engines.length;
  }
  // Sequences per router call, from ticks without queues (then every call in flight is running).
  const inFlight = t.inFlight ?? 0;
  if (waiting === 0 && inFlight > 0 && running > 0 && t.ready > 0) {
    seqsPerCall.seqs += running;
    seqsPerCall.calls += inFlight;
  }
  return {
    latency,
    saturation,
    kvSeqs,
    seqsPerCall,
    dispersion,
    slots,
    perReplica: pushSample(base.perReplica, running / engines.length, nowMs, keepMs),
    last,
    lastQueueAtMs: waiting > 0 ? nowMs : base.lastQueueAtMs,
    atMs: nowMs,
  };
}

/** Sequences per router call (null until a tick without queues was seen). */
export function seqsPerCall(state: CapacityState): number | null {
  return state.seqsPerCall.calls > 1e-9 ? state.seqsPerCall.seqs / state.seqsPerCall.calls : null;
}

/** Mean running sequences since `fromMs` (null = no reading in that window). */
export function meanRunning(state: CapacityState, fromMs: number): number | null {
  const xs = since(state.slots, fromMs);
  return xs.length === 0 ? null : mean(xs);
}

/** Sequences a replica runs before it queues, and where that figure comes from; null = not known yet. */
export function capacityOf(state: CapacityState, maxNumSeqs: number | undefined): { seqs: number; source: string } | null {
  const known: { seqs: number; source: string }[] = [];
  if (maxNumSeqs !== undefined && maxNumSeqs > 0) known.push({ seqs: maxNumSeqs, source: 'max-num-seqs' });
  if (state.saturation.w > 0.5) known.push({ seqs: state.saturation.sum / state.saturation.w, source: 'queueing seen' });
  if (state.kvSeqs.w > 0.5) known.push({ seqs: state.kvSeqs.sum / state.kvSeqs.w, source: 'KV cache' });
  return known.length === 0 ? null : known.reduce((a, b) => (b.seqs < a.seqs ? b : a));
}

export function latencyLine(state: CapacityState, capacity: number, s: CapacitySettings): LatencyLine {
  return fitLatency(state.latency, { slowdownAtCapacity: s.priorSlowdownAtCapacity, capacity, weight: s.priorWeight });
}

export interface CapacityPlan {
  replicas: number;
  /** Settled sequences per replica at that size. */
  batch: number;
  text: string;
}

/**
 * Replicas for `demandCalls` router calls in flight (the tier's own load or what the cascade sends it), or null
 * when the readings cannot say yet (no capacity known, no sequences-per-call ratio): the caller falls back to
 * the fixed target. `batchFromMs` picks the readings whose batch size the demand's service time belongs to
 * (the burst window during a burst).
 */
export function planByCapacity(a: { demandCalls: number; state: CapacityState; tier: TierInput; batchFromMs: number; s: CapacitySettings }): CapacityPlan | null {
  const { state, tier: t, s } = a;
  const cap = capacityOf(state, t.maxNumSeqs);
  const perCall = seqsPerCall(state);
  if (!cap || perCall === null || state.slots.length === 0) return null;
  const demand = a.demandCalls * perCall;
  const line = latencyLine(state, cap.seqs, s);
  const batchNow = mean(since(state.perReplica, a.batchFromMs));
  const spread = dispersionIndex(state);
  const usable = s.maxUtilisation * cap.seqs;
  const latencyBound = s.maxSlowdown !== undefined && line.c > 0 ? (s.maxSlowdown * itlAt(line, 1) - line.a) / line.c : Infinity;
  const fitsAt = (n: number, z: number) => {
    const r = settledBatch(line, demand, batchNow, n);
    return Number.isFinite(r) && r <= latencyBound && r + z * Math.sqrt(spread * r) <= usable + 1e-9;
  };
  const fewest = (z: number) => {
    let n = demand <= 0 ? 0 : Math.max(1, t.min);
    while (demand > 0 && n < t.max && !fitsAt(n, z)) n++;
    return n;
  };
  // Hysteresis: up as soon as the headroom is short of z, down only to a size with z + band to spare, so a
  // load hovering at a boundary does not start a replica, cancel it while it loads, and start it again.
  const up = fewest(s.headroomZ);
  const n = up >= t.current ? up : Math.min(t.current, fewest(s.headroomZ + s.hysteresisZ));
  const kept = n > up;
  const r = settledBatch(line, demand, batchNow, n);
  const slow = itlAt(line, r) / itlAt(line, 1);
  const lineText = line.readings >= 1 ? `latency line from ${Math.round(line.readings)} readings` : 'prior latency line';
  const text =
    `${f1(demand)} sequences in flight (${f1(a.demandCalls)} calls x ${f1(perCall)}) at ${f1(batchNow)}/replica; ` +
    `capacity ${f1(cap.seqs)} (${cap.source}); a replica's batch + ${s.headroomZ} sd (variance ${f1(spread)} x mean) <= ${f1(usable)}` +
    `${Number.isFinite(latencyBound) ? `, batch <= ${f1(latencyBound)} (steps x${s.maxSlowdown})` : ''}: ` +
    `${n} replicas settle at ${Number.isFinite(r) ? f1(r) : 'saturation'}/replica, steps x${Number.isFinite(slow) ? f1(slow) : 'inf'} (${lineText})` +
    (kept ? `; ${up} would do, but down only where ${s.headroomZ + s.hysteresisZ} sd fit` : '') +
    (n >= t.max && demand > 0 && !fitsAt(n, s.headroomZ) ? `; even ${n} (max) run fuller than planned` : '');
  return { replicas: n, batch: r, text };
}
