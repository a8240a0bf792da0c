// tiermix's autoscaler for a cascade of tiers: a stateless strategy (AIBrix style: inputs and state in, the
// decision and the next state out, the clock injected), one call per tick for the whole cascade.
//
// Per tier:
//   load        = moving average of the routers' in-flight requests over averageWindowSeconds; when the last
//                 burstWindowSeconds show more (by burstThreshold), the burst estimate instead: the demand at
//                 the new arrival rate plus the backlog drained over drainSeconds (demand.ts), so the tier is
//                 sized for the rate and not for the queue that grows while its new replicas load
//   expected    = max(load, inflow from the tiers below: their load x escalation share x time ratio) [flow.ts]
//   recommended = ceil(expected / target), target lowered to what a replica really runs when vLLM queues
//                 (saturation guard), at least 1 when requests are held at zero replicas, within [min, max]
//   desired     = recommended when it is >= the current replicas (fast up); below it, only once every
//                 recommendation of the last scaleDownDelaySeconds was lower, and then their maximum
//                 (stabilisation: no flapping, one step down to what the whole window needed)
// Then spec.maxGpus is applied across the tiers (gpu-cap.ts) and the routing cost signal computed.
import { capacityOf, DEFAULT_CAPACITY_SETTINGS, meanRunning, observeEngines, planByCapacity, seqsPerCall, type CapacitySettings } from './capacity.js';
import { estimateDemand, type DemandEstimate } from './demand.js';
import { allocateUnderCap, DEFAULT_CAP_SETTINGS, nextCostMultiplier, type CapSettings } from './gpu-cap.js';
import { DEFAULT_FLOW_SETTINGS, estimateFlow, expectedLoad, pushCounters, type FlowSettings, type Inflow } from './flow.js';
import type { CapacityState, CascadeInput, CascadeState, CounterSnapshot, RoutingCostSignal, ScalingDecision, ScalingStrategy, TierInput, TierState } from './types.js';
import { observeColdStart, stabilise } from './stabilise.js';
import { mean, pushSample, since, type Sample } from './window.js';

export interface TiermixSettings {
  /** Window of the in-flight moving average. */
  averageWindowSeconds: number;
  /** Short window for bursts (fast up). */
  burstWindowSeconds: number;
  /** The burst estimate replaces the average when it is this much higher (0.2 = 20%). */
  burstThreshold: number;
  /** A backlog should be gone within this long (sizes the extra replicas it needs). */
  drainSeconds: number;
  /** Follow a drop of the short window below the average as fast as a burst (still subject to the scale-down delay). */
  fastDown: boolean;
  /** Hold replicas for the tier's measured cold start before scaling down, when that is longer than its scale-down delay. */
  coldStartAwareHold: boolean;
  /** Size bursts by demand, not by backlog (off = the short window's plain average). */
  backlogAware: boolean;
  /** Add the load expected from lower tiers' escalations (off = per-tier only, for comparisons). */
  prescale: boolean;
  /** Use vllm:num_requests_waiting, when given, to lower the target to what a replica really runs. */
  saturationGuard: boolean;
  /** Size tiers by their replicas' measured capacity when engine readings come with the input (capacity.ts). */
  capacitySizing: boolean;
  capacity: CapacitySettings;
  flow: FlowSettings;
  cap: CapSettings;
}

export const DEFAULT_TIERMIX_SETTINGS: Readonly<TiermixSettings> = {
  averageWindowSeconds: 300,
  burstWindowSeconds: 30,
  burstThreshold: 0.2,
  drainSeconds: 120,
  backlogAware: true,
  fastDown: true,
  coldStartAwareHold: true,
  prescale: true,
  saturationGuard: true,
  capacitySizing: true,
  capacity: DEFAULT_CAPACITY_SETTINGS,
  flow: DEFAULT_FLOW_SETTINGS,
  cap: DEFAULT_CAP_SETTINGS,
};

export function initialCascadeState(): CascadeState {
  return { tiers: {}, counterHistory: [], flow: null, costMultiplier: 1 };
}

const f1 = (x: number) => (Math.round(x * 10) / 10).toString();
const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
const clamp = (x: number, t: TierInput) => Math.min(t.max, Math.max(t.min, x));

/** A tier's own load this tick, before the cascade's inflow is added. */
interface TierLoad {
  samples: Sample[];
  waiting: Sample[];
  serviceS: number | null;
  capacity: CapacityState | undefined;
  /** Sized by the capacity model this tick: capacity sizing applies to the tier and its engines answered. */
  engineSized: boolean;
  /** The burst estimate was taken (its service time belongs to the short window's batch sizes). */
  burst: boolean;
  /** null = no reading at all yet. */
  own: number | null;
  text: string;
}

function tierLoad(t: TierInput, k: number, prev: TierState | undefined, history: readonly CounterSnapshot[], nowMs: number, s: TiermixSettings): TierLoad {
  const keepMs = Math.max(s.averageWindowSeconds, s.burstWindowSeconds) * 1000;
  const samples = t.inFlight === null ? (prev?.samples ?? []) : pushSample(prev?.samples ?? [], t.inFlight, nowMs, keepMs);
  const waiting = t.waiting === null || t.waiting === undefined ? (prev?.waiting ?? []) : pushSample(prev?.waiting ?? [], t.waiting, nowMs, keepMs);
  const serviceS = prev?.serviceS ?? null;
  const sizing = s.capacitySizing && !t.targetExplicit;
  const capacity = sizing && (t.engines || prev?.capacity) ? observeEngines(prev?.capacity, t, nowMs, keepMs, s.capacity) : prev?.capacity;
  const engineSized = sizing && capacity !== undefined && (t.engines?.length ?? 0) > 0;
  if (samples.length === 0) return { samples, waiting, serviceS, capacity, engineSized, burst: false, own: null, text: '' };
  const from = nowMs - s.averageWindowSeconds * 1000;
  let avg = mean(since(samples, from));
  let text = `in-flight ${f1(avg)} (${s.averageWindowSeconds}s avg${t.inFlight === null ? ', no new reading' : ''})`;
  // With engine readings, the load is what runs in the vLLM batches: queued calls are a backlog (sized by
  // the burst estimate below), and an average over a queue that has drained would keep the tier large.
  const perCall = engineSized && capacityOf(capacity!, t.maxNumSeqs) ? seqsPerCall(capacity!) : null;
  const running = perCall !== null ? meanRunning(capacity!, from) : null;
  const byCapacity = perCall !== null && running !== null;
  if (byCapacity) {
    avg = running / perCall;
    text = `running ${f1(avg)} calls (${s.averageWindowSeconds}s avg of ${f1(running)} sequences in vLLM batches, ${f1(perCall)} per call)`;
  }
  const short = since(samples, nowMs - s.burstWindowSeconds * 1000);
  let est: DemandEstimate | null = null;
  if (s.backlogAware && short.length >= 2) {
    const callsAt = (at: number) => history.find((h) => h.atMs === at)?.counters.upstreamCalls?.[k] ?? null;
    est = estimateDemand({
      inFlight: short,
      waiting: since(waiting, short[0]!.atMs),
      callsAtStart: callsAt(short[0]!.atMs),
      callsNow: callsAt(nowMs),
      ready: t.ready,
      previousServiceS: serviceS,
      drainSeconds: s.drainSeconds,
    });
  }
  const burst = est?.load ?? mean(short);
  let own = avg;
  let isBurst = false;
  // A burst must stand out from the average by burstThreshold and by two standard deviations of Poisson
  // noise (sqrt of the average), or a short window's noise alone scales small tiers up and down.
  if (burst > avg + Math.max(avg * s.burstThreshold, 2 * Math.sqrt(avg))) {
    own = burst;
    isBurst = true;
    text = est
      ? `burst: ${f1(est.rate)} calls/s x ${f1(est.serviceS)}s = ${f1(est.demand)} in flight${est.backlog > 0 ? ` + backlog ${f1(est.backlog)} over ${s.drainSeconds}s` : ''} (${s.burstWindowSeconds}s; avg ${f1(avg)})`
      : `burst: in-flight ${f1(burst)} (${s.burstWindowSeconds}s avg; ${s.averageWindowSeconds}s avg ${f1(avg)})`;
  }
  // The same test downwards: a load that fell well below the average (a burst ended) is followed at once, so
  // that only the scale-down window, not the averaging window as well, stands between it and fewer replicas.
  else if (s.fastDown && burst < avg - Math.max(avg * s.burstThreshold, 2 * Math.sqrt(avg)) && (t.waiting ?? 0) === 0) {
    own = burst;
    text = `drop: ${est ? `${f1(est.rate)} calls/s x ${f1(est.serviceS)}s = ${f1(est.demand)} in flight` : `in-flight ${f1(burst)}`} (${s.burstWindowSeconds}s; avg ${f1(avg)})`;
  }
  // Replicas still loading and no measured rate: the backlog they will serve must not ask for more of them.
  // (Sized by capacity, the load is what runs, which a backlog does not inflate.)
  if (!byCapacity && !est && t.current > t.ready && own > t.current * t.targetInFlightPerReplica) {
    own = t.current * t.targetInFlightPerReplica;
    text += `; ${t.current - t.ready} replicas still loading, no rate measured yet: held at ${t.current}`;
  }
  return { samples, waiting, serviceS: est?.serviceS ?? serviceS, capacity, engineSized, burst: isBurst, own, text };
}

interface TierStep {
  state: TierState;
  recommended: number;
  desired: number;
  reason: string[];
}

function inflowText(parts: readonly Inflow[], tiers: readonly TierInput[]): string {
  return parts.map((p) => `${tiers[p.from]!.name} ${f1(p.load)} x ${pct(p.share)} x ${f1(p.timeRatio)}`).join(' + ');
}

function stepTier(t: TierInput, load: TierLoad, expected: number, inflow: number, parts: readonly Inflow[], tiers: readonly TierInput[], prev: TierState | undefined, nowMs: number, s: TiermixSettings): TierStep {
  const base = { samples: load.samples, waiting: load.waiting, serviceS: load.serviceS, ...(load.capacity ? { capacity: load.capacity } : {}) };
  if (load.own === null && inflow <= 0) {
    const keep = clamp(t.current, t);
    const coldStart = observeColdStart(prev?.coldStart, t.current, t.ready, nowMs);
    return { state: { ...base, recommendations: prev?.recommendations ?? [], coldStart }, recommended: keep, desired: keep, reason: [`no in-flight reading yet: keeping ${keep}`] };
  }
  const own = load.own ?? 0;
  let why = load.text || 'no in-flight reading';
  if (inflow > own) why += `, pre-scaled to ${f1(inflow)} expected from ${inflowText(parts, tiers)}`;
  const inFlight = t.inFlight ?? 0;
  const plan =
    load.engineSized && load.capacity
      ? planByCapacity({
          demandCalls: expected,
          state: load.capacity,
          tier: t,
          batchFromMs: nowMs - (load.burst ? s.burstWindowSeconds : s.averageWindowSeconds) * 1000,
          s: s.capacity,
        })
      : null;
  let rec: number;
  if (plan) {
    rec = plan.replicas;
    why += `; ${plan.text}`;
  } else {
    let target = t.targetInFlightPerReplica;
    const waiting = t.waiting ?? 0;
    if (s.saturationGuard && waiting > 0 && t.ready > 0 && inFlight > waiting && (inFlight - waiting) / t.ready < target) {
      // vLLM queues although replicas run fewer than the target (KV cache or max-num-seqs bound): size for what they run.
      target = (inFlight - waiting) / t.ready;
      why += ` / ${f1(target)} (replicas saturate there: ${f1(waiting)} waiting in vLLM)`;
    } else why += ` / target ${target}`;
    rec = Math.ceil(expected / target - 1e-9);
    why += ` -> ${rec}`;
  }
  if (t.current === 0 && (inFlight > 0 || expected > 0)) {
    // The router holds requests for a tier with no replicas (scaleFromZero.holdSeconds): start one at once.
    rec = Math.max(rec, 1);
    why += `; scale from zero: ${f1(inFlight)} requests held${inflow > inFlight ? `, ${f1(inflow)} expected` : ''}`;
  }
  const reason = [why];
  const recommended = clamp(rec, t);
  if (recommended !== rec) reason.push(`clamped to [${t.min}, ${t.max}]: ${recommended}`);
  const coldStart = observeColdStart(prev?.coldStart, t.current, t.ready, nowMs);
  const st = stabilise({
    current: t.current,
    recommended,
    previous: prev?.recommendations ?? [],
    delaySeconds: t.scaleDownDelaySeconds,
    coldStartSeconds: s.coldStartAwareHold ? coldStart.seconds : null,
    nowMs,
  });
  reason.push(...st.reason);
  return { state: { ...base, recommendations: st.recommendations, coldStart }, recommended, desired: st.desired, reason };
}

/** Tiers where vLLM queued inside the window (their upstream seconds include queue time). */
function queuedSince(loads: readonly TierLoad[], fromMs: number): boolean[] {
  return loads.map((l) => (l.capacity?.lastQueueAtMs ?? -Infinity) >= fromMs || since(l.waiting, fromMs).some((w) => w.value > 0));
}

/** One tick of the tiermix strategy for one cascade. */
function decideCascade(input: CascadeInput, state: CascadeState, nowMs: number, s: TiermixSettings = DEFAULT_TIERMIX_SETTINGS) {
  const counterHistory = input.counters ? pushCounters(state.counterHistory, input.counters, nowMs, { ...s.flow, windowSeconds: Math.max(s.flow.windowSeconds, s.burstWindowSeconds) }) : state.counterHistory;
  const loads = input.tiers.map((t, k) => tierLoad(t, k, state.tiers[t.name], counterHistory, nowMs, s));
  const flow = estimateFlow(counterHistory, state.flow, s.flow, queuedSince(loads, nowMs - s.flow.windowSeconds * 1000));
  const own = loads.map((l) => l.own ?? 0);
  const load = s.prescale ? expectedLoad(own, flow) : { expected: own, inflow: own.map(() => 0), parts: own.map((): Inflow[] => []) };
  const steps = input.tiers.map((t, i) => stepTier(t, loads[i]!, load.expected[i]!, load.inflow[i]!, load.parts[i]!, input.tiers, state.tiers[t.name], nowMs, s));

  const alloc = allocateUnderCap(input.tiers, steps.map((x) => x.desired), load.expected, input.maxGpus);
  // The cost loop reacts to the recommendations (what the load needs now), not to replicas still held for
  // the scale-down window, so it relaxes as soon as the router's answer lowers the load.
  const recGpus = steps.reduce((sum, x, i) => sum + x.recommended * input.tiers[i]!.gpusPerReplica, 0);
  const multiplier = nextCostMultiplier(state.costMultiplier, recGpus, input.maxGpus, s.cap);

  const decisions: Record<string, ScalingDecision> = {};
  const capacityShare: Record<string, number> = {};
  input.tiers.forEach((t, i) => {
    const step = steps[i]!;
    const got = alloc.replicas[i]!;
    const reason = [...step.reason];
    if (got < step.desired) {
      reason.push(`maxGpus ${input.maxGpus} binds (${alloc.desiredGpus} GPUs wanted): ${got} of ${step.desired} replicas, smaller tiers first; router asked to weigh GPU cost x${f1(multiplier)}`);
    }
    if (alloc.floorsExceedCap && i === 0) reason.push(`the tiers' min replicas alone exceed maxGpus ${input.maxGpus}`);
    if (input.staleNote) reason.push(input.staleNote);
    decisions[t.name] = { desired: got, reason: reason.join('; ') };
    const e = load.expected[i]!;
    capacityShare[t.name] = e <= 0 ? 1 : Math.min(1, (got * t.targetInFlightPerReplica) / e);
  });

  const costSignal: RoutingCostSignal = {
    cascade: input.key,
    binding: alloc.binding || multiplier > 1,
    lambdaMultiplier: multiplier,
    budgetMultiplier: 1 / multiplier,
    desiredGpus: alloc.desiredGpus,
    maxGpus: input.maxGpus ?? null,
    capacityShare,
    reason:
      input.maxGpus === undefined
        ? 'no GPU cap'
        : multiplier > 1
          ? `maxGpus ${input.maxGpus}: load needs ${recGpus} GPUs; weigh GPU cost x${f1(multiplier)} so fewer requests escalate`
          : `maxGpus ${input.maxGpus} not binding (${recGpus} GPUs needed)`,
  };
  const tiers: Record<string, TierState> = {};
  input.tiers.forEach((t, i) => (tiers[t.name] = steps[i]!.state));
  const next: CascadeState = { tiers, counterHistory, flow, costMultiplier: multiplier };
  return { decisions, state: next, costSignal };
}

/** The tiermix strategy as a ScalingStrategy (what the loop and the benchmark call). */
export function tiermixStrategy(settings: TiermixSettings = DEFAULT_TIERMIX_SETTINGS): ScalingStrategy<CascadeState> {
  return {
    name: settings.prescale ? 'tiermix' : 'tiermix-no-prescale',
    initialState: initialCascadeState,
    decide: (input, state, nowMs) => decideCascade(input, state, nowMs, settings),
  };
}
