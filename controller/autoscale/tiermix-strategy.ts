// tiermix's autoscaler for a cascade of tiers: a stateless strategy (AIBrix style: inputs and state in, the
// decision and the next state out, the clock injected), one call per tick for the whole cascade.
//
// Per tier:
//   load        = moving average of the routers' in-flight requests over averageWindowSeconds
//   expected    = max(load, inflow from the tiers below: load there x escalation share x time ratio)  [flow.ts]
//   recommended = ceil(expected / targetInFlightPerReplica), at least what the saturation guard asks, at least 1
//                 when requests are held at zero replicas, clamped to [min, max]
//   desired     = recommended when it is >= the current replicas (fast up); below it, only once every
//                 recommendation of the last scaleDownDelaySeconds was lower, and then their maximum
//                 (stabilisation: no flapping, one step down to what the whole window needed)
// Then spec.maxGpus is applied across the tiers (gpu-cap.ts) and the routing cost signal computed.
import { allocateUnderCap, DEFAULT_CAP_SETTINGS, nextCostMultiplier, type CapSettings } from './gpu-cap.js';
import { DEFAULT_FLOW_SETTINGS, estimateFlow, expectedLoad, pushCounters, type FlowSettings, type Inflow } from './flow.js';
import type { CascadeInput, CascadeState, RoutingCostSignal, ScalingDecision, ScalingStrategy, TierInput, TierState } from './types.js';
import { coveredMs, maxOf, mean, pushSample } from './window.js';

export interface TiermixSettings {
  /** Window of the in-flight moving average (short: scale-up reacts within a tick or two). */
  averageWindowSeconds: number;
  /** Add the load expected from lower tiers' escalations (off = per-tier only, for comparisons). */
  prescale: boolean;
  /** Use vllm:num_requests_waiting, when given, to catch replicas that saturate below the target. */
  saturationGuard: boolean;
  flow: FlowSettings;
  cap: CapSettings;
}

export const DEFAULT_TIERMIX_SETTINGS: Readonly<TiermixSettings> = {
  averageWindowSeconds: 30,
  prescale: true,
  saturationGuard: true,
  flow: DEFAULT_FLOW_SETTINGS,
  cap: DEFAULT_CAP_SETTINGS,
};

export function initialCascadeState(): CascadeState {
  return { tiers: {}, counterHistory: [], flow: null, costMultiplier: 1 };
}

const f1 = (x: number) => (Math.round(x * 10) / 10).toString();
const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
const clamp = (x: number, t: TierInput) => Math.min(t.max, Math.max(t.min, x));

interface TierStep {
  state: TierState;
  recommended: number;
  desired: number;
  reason: string[];
}

function inflowText(parts: readonly Inflow[], tiers: readonly TierInput[]): string {
  return parts.map((p) => `${tiers[p.from]!.name} ${f1(p.load)} x ${pct(p.share)} x ${f1(p.timeRatio)}`).join(' + ');
}

function stepTier(
  t: TierInput,
  prev: TierState | undefined,
  expected: number,
  inflow: number,
  parts: readonly Inflow[],
  tiers: readonly TierInput[],
  nowMs: number,
  s: TiermixSettings,
): TierStep {
  const samples = t.inFlight === null ? (prev?.samples ?? []) : pushSample(prev?.samples ?? [], t.inFlight, nowMs, s.averageWindowSeconds * 1000);
  const reason: string[] = [];
  if (samples.length === 0 && inflow <= 0) {
    const keep = clamp(t.current, t);
    return { state: { samples, recommendations: prev?.recommendations ?? [] }, recommended: keep, desired: keep, reason: [`no in-flight reading yet: keeping ${keep}`] };
  }
  const own = mean(samples);
  let why = `in-flight ${f1(own)} (${s.averageWindowSeconds}s avg${t.inFlight === null ? ', no new reading' : ''})`;
  if (inflow > own) why += `, pre-scaled to ${f1(inflow)} expected from ${inflowText(parts, tiers)}`;
  let rec = Math.ceil(expected / t.targetInFlightPerReplica - 1e-9);
  why += ` / target ${t.targetInFlightPerReplica} -> ${rec}`;
  const inFlight = t.inFlight ?? 0;
  const waiting = t.waiting ?? 0;
  if (s.saturationGuard && waiting > 0 && t.ready > 0 && inFlight > waiting) {
    // Replicas run only (in flight - waiting) / ready sequences each (KV cache or max-num-seqs bound): size for that.
    const perReplica = (inFlight - waiting) / t.ready;
    const need = Math.ceil(inFlight / perReplica - 1e-9);
    if (need > rec) {
      rec = need;
      why += `; ${f1(waiting)} waiting in vLLM, replicas saturate at ${f1(perReplica)} running: ${need}`;
    }
  }
  if (t.current === 0 && (inFlight > 0 || expected > 0)) {
    // The router holds requests for a tier with no replicas (scaleFromZero.holdSeconds): start one at once.
    rec = Math.max(rec, 1);
    why += `; scale from zero: ${f1(inFlight)} requests held${inflow > inFlight ? `, ${f1(inflow)} expected` : ''}`;
  }
  reason.push(why);
  const recommended = clamp(rec, t);
  if (recommended !== rec) reason.push(`clamped to [${t.min}, ${t.max}]: ${recommended}`);
  const delayMs = t.scaleDownDelaySeconds * 1000;
  const recommendations = pushSample(prev?.recommendations ?? [], recommended, nowMs, delayMs);
  let desired = recommended;
  if (recommended < t.current) {
    const covered = coveredMs(recommendations, nowMs);
    const peak = maxOf(recommendations);
    if (covered >= delayMs && peak < t.current) {
      desired = peak;
      reason.push(`scale down ${t.current} -> ${desired}: lower for ${t.scaleDownDelaySeconds}s`);
    } else {
      desired = t.current;
      reason.push(`holding ${t.current}: scale down after ${t.scaleDownDelaySeconds}s of lower recommendations (${Math.round(Math.min(covered, delayMs) / 1000)}s so far${peak >= t.current ? `, up to ${peak} in the window` : ''})`);
    }
  } else if (recommended > t.current) reason.push(`scale up ${t.current} -> ${recommended}`);
  return { state: { samples, recommendations }, recommended, desired, reason };
}

/** One tick of the tiermix strategy for one cascade. */
export function decideCascade(input: CascadeInput, state: CascadeState, nowMs: number, s: TiermixSettings = DEFAULT_TIERMIX_SETTINGS) {
  const counterHistory = input.counters ? pushCounters(state.counterHistory, input.counters, nowMs, s.flow) : state.counterHistory;
  const flow = estimateFlow(counterHistory, state.flow, s.flow);
  // The own load per tier after this tick's sample (needed before the per-tier step, for the inflow).
  const own = input.tiers.map((t) => {
    const prev = state.tiers[t.name]?.samples ?? [];
    return mean(t.inFlight === null ? prev : pushSample(prev, t.inFlight, nowMs, s.averageWindowSeconds * 1000));
  });
  const load = s.prescale ? expectedLoad(own, flow) : { expected: own, inflow: own.map(() => 0), parts: own.map((): Inflow[] => []) };
  const steps = input.tiers.map((t, i) => stepTier(t, state.tiers[t.name], load.expected[i]!, load.inflow[i]!, load.parts[i]!, input.tiers, nowMs, s));

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
