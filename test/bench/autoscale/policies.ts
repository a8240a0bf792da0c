// The policies the autoscaling benchmark compares, and what tiermix's strategy learned by the end of a run
// (its capacity model against the simulator's true figures).
import {
  capacityOf,
  DEFAULT_TIERMIX_SETTINGS,
  dispersionIndex,
  KUBEAI_DEFAULTS,
  kubeaiStrategy,
  latencyLine,
  seqsPerCall,
  tiermixStrategy,
  type CascadeState,
  type ScalingStrategy,
  type TiermixSettings,
} from '../../../controller/autoscale/index.js';
import type { TierModel } from './cluster.js';
import type { ScalingPolicy } from './simulate.js';

/** KubeAI's targetRequests besides the ModelCascade default 8, for the comparison at equal SLO. */
export const KUBEAI_SWEEP_TARGETS = [5, 6, 10, 12, 16];
/** tiermix's headroom (standard deviations of one replica's batch) besides its default. */
export const TIERMIX_SWEEP_Z = [1.5, 2, 3];
/** The latency-bounded variant: no batch whose steps run more than this many times slower than one sequence's. */
export const LATENCY_BOUND = 1.3;

export interface PolicySpec {
  policy: ScalingPolicy;
  /** targetInFlightPerReplica of the tiers' spec (KubeAI's targetRequests; tiermix's fallback). */
  target: number;
  /** What varies, for the tables: "target 8", "z 2.5". */
  knob: string;
  /** In the main table (else only in the sweep). */
  main: boolean;
}

const tiermix = (name: string, over: Partial<TiermixSettings>, signals: { engines: boolean; hint: boolean }, wrap?: (s: ScalingStrategy<CascadeState>) => ScalingStrategy<CascadeState>): ScalingPolicy => {
  const strategy = tiermixStrategy({ ...DEFAULT_TIERMIX_SETTINGS, ...over, capacity: { ...DEFAULT_TIERMIX_SETTINGS.capacity, ...(over.capacity ?? {}) } });
  return { kind: 'autoscaler', name, strategy: wrap ? wrap(strategy) : strategy, scaleFromZeroOnArrival: false, saturationSignal: true, engineSignal: signals.engines, maxNumSeqsHint: signals.hint };
};

const kubeai = (): ScalingPolicy => ({ kind: 'autoscaler', name: 'kubeai', strategy: kubeaiStrategy(KUBEAI_DEFAULTS), scaleFromZeroOnArrival: true, saturationSignal: false });

/** Every autoscaled run of one trace (static-peak is sized separately). `record` wraps the default tiermix run. */
export function autoscaledPolicies(record: (s: ScalingStrategy<CascadeState>) => ScalingStrategy<CascadeState>): PolicySpec[] {
  const z = DEFAULT_TIERMIX_SETTINGS.capacity.headroomZ;
  const both = { engines: true, hint: true };
  return [
    { policy: kubeai(), target: 8, knob: 'target 8', main: true },
    { policy: tiermix('tiermix', {}, both, record), target: 8, knob: `z ${z}`, main: true },
    { policy: tiermix('tiermix-fixed-target', { capacitySizing: false }, { engines: false, hint: false }), target: 8, knob: 'target 8', main: true },
    { policy: tiermix('tiermix-learned-capacity', {}, { engines: true, hint: false }), target: 8, knob: `z ${z}`, main: true },
    { policy: tiermix('tiermix-no-prescale', { prescale: false }, both), target: 8, knob: `z ${z}`, main: true },
    { policy: tiermix('tiermix-latency-bounded', { capacity: { ...DEFAULT_TIERMIX_SETTINGS.capacity, maxSlowdown: LATENCY_BOUND } }, both), target: 8, knob: `z ${z}, steps <= x${LATENCY_BOUND}`, main: true },
    ...KUBEAI_SWEEP_TARGETS.map((t): PolicySpec => ({ policy: kubeai(), target: t, knob: `target ${t}`, main: false })),
    ...TIERMIX_SWEEP_Z.map((x): PolicySpec => ({ policy: tiermix('tiermix', { capacity: { ...DEFAULT_TIERMIX_SETTINGS.capacity, headroomZ: x } }, both), target: 8, knob: `z ${x}`, main: false })),
  ];
}

/** What the capacity model believed about one tier at the end of a run, next to the simulator's truth. */
export interface LearnedTier {
  tier: string;
  capacity: number | null;
  capacitySource: string | null;
  trueCapacity: number;
  /** Fitted step slowdown of a full batch against one sequence, and the simulator's (timeFactorUnderLoad). */
  slowdownAtCapacity: number | null;
  trueSlowdown: number;
  latencyReadings: number;
  dispersion: number | null;
  seqsPerCall: number | null;
  coldStartS: number | null;
  trueColdStartS: number;
}

/** A strategy that keeps its last state, so the run can report what it learned. */
export function recorder(): { wrap: (s: ScalingStrategy<CascadeState>) => ScalingStrategy<CascadeState>; learned: (tiers: readonly TierModel[], maxNumSeqsHint: boolean) => LearnedTier[] } {
  let last: CascadeState | null = null;
  return {
    wrap: (inner) => ({
      name: inner.name,
      initialState: inner.initialState,
      decide: (input, state, nowMs) => {
        const out = inner.decide(input, state, nowMs);
        last = out.state;
        return out;
      },
    }),
    learned: (tiers, hint) =>
      tiers.map((m): LearnedTier => {
        const st = last?.tiers[m.name];
        const c = st?.capacity;
        const cap = c ? capacityOf(c, hint ? m.profile.maxNumSeqs : undefined) : null;
        const line = c && cap ? latencyLine(c, cap.seqs, DEFAULT_TIERMIX_SETTINGS.capacity) : null;
        return {
          tier: m.name,
          capacity: cap?.seqs ?? null,
          capacitySource: cap?.source ?? null,
          trueCapacity: m.profile.maxNumSeqs,
          slowdownAtCapacity: line && cap ? (line.a + line.c * cap.seqs) / (line.a + line.c) : null,
          trueSlowdown: m.profile.timeFactorUnderLoad,
          latencyReadings: line?.readings ?? 0,
          dispersion: c ? dispersionIndex(c) : null,
          seqsPerCall: c ? seqsPerCall(c) : null,
          coldStartS: st?.coldStart?.seconds ?? null,
          trueColdStartS: m.coldStartS,
        };
      }),
  };
}
