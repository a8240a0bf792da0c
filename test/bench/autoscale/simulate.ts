// One run of the trace-driven autoscaling simulation (SIMULATION: no GPU, no vLLM, no Kubernetes): a trace's
// requests follow the policy's recorded paths through the simulated cluster; every tick the autoscaler under
// test reads what the router would export (in-flight per tier, the cumulative counters) through the
// controller's own code (controller/signals cascadeCounters, controller/autoscale strategies) and the replicas
// follow its decisions. Deterministic from the seed.
import type { CascadeInput, ScalingStrategy, TierInput } from '../../../controller/autoscale/index.js';
import { cascadeCounters, emptyReading, pairKey } from '../../../controller/signals/index.js';
import { seededRng } from '../../../router/sim/rng.js';
import { VERIFY_PROMPT_OVERHEAD_TOKENS } from '../../../router/train/cost.js';
import { gpuSecondsOf, TierSim, type Call, type TierModel } from './cluster.js';
import { EventQueue } from './heap.js';
import type { PathSet } from './paths.js';
import { arrivalStream, type Trace } from './traces.js';

export interface TierScaling {
  min: number;
  max: number;
  targetInFlightPerReplica: number;
  scaleDownDelaySeconds: number;
}

export type ScalingPolicy =
  | { kind: 'static'; name: string; replicas: number[] }
  | {
      kind: 'autoscaler';
      name: string;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      strategy: ScalingStrategy<any>;
      scaleFromZeroOnArrival: boolean;
      /** Pass vllm:num_requests_waiting summed per tier. */
      saturationSignal: boolean;
      /** Pass each ready replica's engine reading (running, waiting, inter-token latency counters). */
      engineSignal?: boolean;
      /** Pass each tier's max-num-seqs, as a spec with --max-num-seqs in its vLLM args would. */
      maxNumSeqsHint?: boolean;
    };

export interface SimSettings {
  tiers: TierModel[];
  scaling: TierScaling[];
  tickS: number;
  warmupS: number;
  /** SLO: a request's queue wait (held + vLLM queue, summed over its calls) at most this. */
  sloWaitS: number;
  /** Windows of this length whose p95 queue wait meets the SLO count as attained. */
  sloWindowS: number;
  /** Requests arriving in a burst or this long after it count as "during bursts" (the escalation wave lands later). */
  burstTailS: number;
  verifySamples: number;
  verifyTokensPerSample: number;
  maxGpus?: number;
}

export interface TierResult {
  name: string;
  gpuSeconds: { loading: number; serving: number; idle: number; total: number };
  meanReplicas: number;
  maxReplicas: number;
  podsStarted: number;
  scaleEvents: number;
  meanInFlight: number;
  /** Sequences running per Ready replica, averaged over the ticks with a Ready replica (how full the batches ran). */
  meanBatch: number;
  /** Seconds measured requests waited at this tier (held + queued), summed. */
  waitS: number;
}

export interface SimResult {
  policy: string;
  trace: string;
  requests: number;
  gpuSeconds: number;
  gpuSecondsPerRequest: number;
  tiers: TierResult[];
  /** Share of SLO windows whose p95 queue wait <= sloWaitS. */
  sloAttainment: number;
  waitP50: number;
  waitP95: number;
  waitP99: number;
  /** Request latency, arrival to last token of its last call (queue wait included), in seconds. */
  latencyP50: number;
  latencyP95: number;
  latencyMean: number;
  /** Requests whose queue wait exceeded the SLO. */
  violations: number;
  burstRequests: number;
  burstViolations: number;
  /** Requests that had a call held at the router (a tier without a ready replica). */
  held: number;
  scaleEvents: number;
  podsStarted: number;
  peakGpus: number;
  /** In-flight per tier, max over SLO windows of the window mean (sizes the static baseline). */
  peakInFlight: number[];
  /** Routing cost multiplier (GPU cap) at the end, max over the run. */
  maxCostMultiplier: number;
  wallMs: number;
}

interface Req {
  at: number;
  doneAt: number | null;
  waited: number;
  held: boolean;
  waitByTier: number[];
}

// Not load.ts summarize: the report needs p95, and its committed figures were computed with this rank
// (floor(q n), one above nearest rank when q n is whole); changing it would change the deterministic numbers.
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function simulate(trace: Trace, paths: PathSet, policy: ScalingPolicy, s: SimSettings, seed: number, initial: number[]): SimResult {
  const started = Date.now();
  const q = new EventQueue();
  let ids = 0;
  const tiers = s.tiers.map((m, i) => new TierSim(i, m, q, () => ids++));
  const n = tiers.length;
  const t0 = -s.warmupS;
  q.now = t0;
  tiers.forEach((t, i) => {
    t.scaleTo(policy.kind === 'static' ? policy.replicas[i]! : initial[i]!);
    // Warm start: the initial replicas are Ready at the start of the warm-up.
    t.readyNow();
  });
  q.runUntil(t0);

  // What the router would count (cumulative): completed routed requests, escalations, upstream seconds.
  let completed = 0;
  const escalations = tiers.map(() => new Array<number>(n).fill(0));
  const reqs: Req[] = [];
  const rng = seededRng(seed);
  const pathRng = seededRng(seed ^ 0x9a7b);
  const P = paths.promptTokens;

  const startRequest = (at: number) => {
    const path = paths.paths[Math.floor(pathRng() * paths.paths.length)]!;
    const req: Req = { at, doneAt: null, waited: 0, held: false, waitByTier: [0, 0, 0] };
    if (at >= 0) reqs.push(req);
    const steps: { tier: number; verify: boolean }[] = [];
    for (const tier of path.asked) {
      steps.push({ tier, verify: false });
      if (path.verified.includes(tier)) steps.push({ tier, verify: true });
    }
    let i = 0;
    const next = () => {
      if (i >= steps.length) {
        req.doneAt = q.now;
        completed++;
        return;
      }
      const st = steps[i]!;
      if (i > 0 && !st.verify && steps[i - 1]!.tier !== st.tier) escalations[steps[i - 1]!.tier]![st.tier]!++;
      i++;
      const A = paths.answerTokens[st.tier]!;
      const call: Call = {
        tier: st.tier,
        seqs: st.verify ? s.verifySamples : 1,
        promptTokens: st.verify ? VERIFY_PROMPT_OVERHEAD_TOKENS + P + A : P,
        outputTokens: st.verify ? s.verifyTokensPerSample : A,
        submitAt: q.now,
        waited: 0,
        held: false,
        heldS: 0,
        done: (c) => {
          req.waited += c.waited;
          req.waitByTier[c.tier] = (req.waitByTier[c.tier] ?? 0) + c.waited;
          req.held ||= c.held;
          next();
        },
      };
      const tier = tiers[st.tier]!;
      if (policy.kind === 'autoscaler' && policy.scaleFromZeroOnArrival && tier.active.length === 0 && s.scaling[st.tier]!.max > 0) tier.scaleTo(1);
      tier.submit(call);
    };
    next();
  };

  // Arrivals: the warm-up runs at the trace's starting rate, then the trace.
  const stream = (function* () {
    yield* arrivalStream(() => trace.rate(0), trace.rate(0), t0, 0, rng);
    yield* arrivalStream(trace.rate, trace.peakRate, 0, trace.durationS, rng);
  })();
  const scheduleNext = () => {
    const r = stream.next();
    if (!r.done) {
      const at = r.value;
      q.at(at, () => {
        startRequest(at);
        scheduleNext();
      });
    }
  };
  scheduleNext();

  // Per-tier time series for the result (sampled at ticks after the warm-up).
  const inFlightSum = new Array<number>(n).fill(0);
  const batchSum = new Array<number>(n).fill(0);
  const batchTicks = new Array<number>(n).fill(0);
  const replicaSum = new Array<number>(n).fill(0);
  const replicaMax = new Array<number>(n).fill(0);
  const scaleEvents = new Array<number>(n).fill(0);
  const windowInFlight = tiers.map(() => [] as number[]);
  const peakInFlight = new Array<number>(n).fill(0);
  let samples = 0;
  let peakGpus = 0;
  let maxCost = 1;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let state: any = policy.kind === 'autoscaler' ? policy.strategy.initialState() : null;
  const tick = () => {
    const now = q.now;
    if (policy.kind === 'autoscaler') {
      // What today's router exports (it does not count tiermix_tier_requests_total yet): arrivals per tier are
      // rebuilt from routed requests and escalations by controller/signals.
      const reading = emptyReading();
      reading.served[s.tiers[0]!.name] = completed;
      tiers.forEach((t, i) => {
        reading.inFlight[t.model.name] = t.inFlight;
        reading.upstreamSeconds[t.model.name] = t.upstreamSeconds;
        reading.upstreamCalls[t.model.name] = t.completedCalls;
        tiers.forEach((u, j) => (reading.escalations[pairKey(t.model.name, u.model.name)] = escalations[i]![j]!));
      });
      const input: CascadeInput = {
        key: 'sim/ladder',
        tiers: tiers.map((t, i): TierInput => ({
          name: t.model.name,
          gpusPerReplica: t.model.gpus,
          ...s.scaling[i]!,
          current: t.active.length,
          ready: t.readyCount,
          inFlight: t.inFlight,
          waiting: policy.saturationSignal ? t.waiting : null,
          ...(policy.engineSignal ? { engines: t.engineReadings() } : {}),
          ...(policy.maxNumSeqsHint ? { maxNumSeqs: t.model.profile.maxNumSeqs } : {}),
        })),
        counters: cascadeCounters(reading, s.tiers.map((t) => t.name)),
        ...(s.maxGpus !== undefined ? { maxGpus: s.maxGpus } : {}),
      };
      const out = policy.strategy.decide(input, state, now * 1000);
      state = out.state;
      maxCost = Math.max(maxCost, out.costSignal?.lambdaMultiplier ?? 1);
      tiers.forEach((t, i) => {
        const d = out.decisions[t.model.name]!.desired;
        if (d !== t.active.length) {
          if (now >= 0) scaleEvents[i]!++;
          t.scaleTo(d);
        }
      });
    }
    if (now >= 0) {
      samples++;
      let gpus = 0;
      tiers.forEach((t, i) => {
        inFlightSum[i]! += t.inFlight;
        const ready = t.active.filter((r) => r.ready);
        if (ready.length > 0) {
          batchSum[i]! += ready.reduce((a, r) => a + r.running, 0) / ready.length;
          batchTicks[i]!++;
        }
        replicaSum[i]! += t.active.length;
        replicaMax[i] = Math.max(replicaMax[i]!, t.active.length);
        gpus += (t.active.length + t.draining.length) * t.model.gpus;
        const w = windowInFlight[i]!;
        w.push(t.inFlight);
        if (w.length * s.tickS >= s.sloWindowS) {
          peakInFlight[i] = Math.max(peakInFlight[i]!, w.reduce((a, b) => a + b, 0) / w.length);
          w.length = 0;
        }
      });
      peakGpus = Math.max(peakGpus, gpus);
    }
    if (now + s.tickS <= trace.durationS) q.at(now + s.tickS, tick);
  };
  q.at(t0 + s.tickS, tick);
  q.runUntil(0);
  for (const t of tiers) t.markWindow(0);
  q.runUntil(trace.durationS);
  const end = trace.durationS;

  // Requests still running at the end are left out of the latency figures (their wait is not final).
  const done = reqs.filter((r) => r.at < end - 300);
  const waits = done.map((r) => r.waited).sort((a, b) => a - b);
  const latencies = done.filter((r) => r.doneAt !== null).map((r) => r.doneAt! - r.at).sort((a, b) => a - b);
  const windows = new Map<number, number[]>();
  for (const r of done) {
    const w = Math.floor(r.at / s.sloWindowS);
    (windows.get(w) ?? windows.set(w, []).get(w)!).push(r.waited);
  }
  let attained = 0;
  for (const ws of windows.values()) if (quantile(ws.sort((a, b) => a - b), 0.95) <= s.sloWaitS) attained++;
  const inBurst = (t: number) => trace.bursts.some(([a, b]) => t >= a && t < b + s.burstTailS);
  const burst = done.filter((r) => inBurst(r.at));
  const tierResults = tiers.map((t, i): TierResult => {
    const g = gpuSecondsOf(t, 0, end);
    return {
      name: t.model.name,
      gpuSeconds: { ...g, total: g.loading + g.serving + g.idle },
      meanReplicas: replicaSum[i]! / Math.max(1, samples),
      maxReplicas: replicaMax[i]!,
      podsStarted: t.all.filter((r) => r.createdAt >= 0).length,
      scaleEvents: scaleEvents[i]!,
      meanInFlight: inFlightSum[i]! / Math.max(1, samples),
      meanBatch: batchSum[i]! / Math.max(1, batchTicks[i]!),
      waitS: done.reduce((a, r) => a + (r.waitByTier[i] ?? 0), 0),
    };
  });
  const gpuSeconds = tierResults.reduce((a, t) => a + t.gpuSeconds.total, 0);
  return {
    policy: policy.name,
    trace: trace.name,
    requests: done.length,
    gpuSeconds,
    gpuSecondsPerRequest: gpuSeconds / Math.max(1, reqs.length),
    tiers: tierResults,
    sloAttainment: attained / Math.max(1, windows.size),
    waitP50: quantile(waits, 0.5),
    waitP95: quantile(waits, 0.95),
    waitP99: quantile(waits, 0.99),
    latencyP50: quantile(latencies, 0.5),
    latencyP95: quantile(latencies, 0.95),
    latencyMean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    violations: done.filter((r) => r.waited > s.sloWaitS).length,
    burstRequests: burst.length,
    burstViolations: burst.filter((r) => r.waited > s.sloWaitS).length,
    held: done.filter((r) => r.held).length,
    scaleEvents: scaleEvents.reduce((a, b) => a + b, 0),
    podsStarted: tierResults.reduce((a, t) => a + t.podsStarted, 0),
    peakGpus,
    peakInFlight,
    maxCostMultiplier: maxCost,
    wallMs: Date.now() - started,
  };
}
