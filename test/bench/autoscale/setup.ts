// The simulated cascade and the benchmark's fixed settings (stated in the report).
import { interTokenMs, prefillMs, PROFILES } from '../../../router/sim/latency.js';
import { VERIFY_PROMPT_OVERHEAD_TOKENS } from '../../../router/train/cost.js';
import type { TierModel } from './cluster.js';
import type { PathSet } from './paths.js';
import { simulate, type SimSettings, type TierScaling } from './simulate.js';
import type { Trace } from './traces.js';

/** Cold starts (pod scheduled -> Ready) with the image on the node and the weights on a local cache. */
export const COLD_START_S = { '7b': 60, '13b': 90, '70b': 180 } as const;
/** The POMDP operating point whose paths the requests follow (docs/policy.md: 37% less GPU-s than the 70B alone at 103% of its accuracy). */
export const LAMBDA = 0.0496;

export const TIERS: TierModel[] = [
  { name: 'mistral-7b', profile: PROFILES['7b'], gpus: 1, coldStartS: COLD_START_S['7b'] },
  { name: 'llama-2-13b', profile: PROFILES['13b'], gpus: 1, coldStartS: COLD_START_S['13b'] },
  { name: 'llama-2-70b', profile: PROFILES['70b'], gpus: 4, coldStartS: COLD_START_S['70b'] },
];

/** ModelCascade defaults (targetInFlightPerReplica 8, scaleDownDelaySeconds 120); the 13B and 70B may scale to zero. */
export const SCALING: TierScaling[] = [
  { min: 1, max: 64, targetInFlightPerReplica: 8, scaleDownDelaySeconds: 120 },
  { min: 0, max: 64, targetInFlightPerReplica: 8, scaleDownDelaySeconds: 120 },
  { min: 0, max: 64, targetInFlightPerReplica: 8, scaleDownDelaySeconds: 120 },
];

export const SETTINGS: SimSettings = {
  tiers: TIERS,
  scaling: SCALING,
  tickS: 10,
  warmupS: 15 * 60,
  sloWaitS: 1,
  sloWindowS: 60,
  burstTailS: 5 * 60,
  verifySamples: 8,
  verifyTokensPerSample: 30,
};

/** Replicas for `rate` requests per second: Little's law on each tier's unloaded call times, at the target. */
export function replicasFor(rate: number, paths: PathSet): number[] {
  return TIERS.map((t, k) => {
    const ctx = { profile: t.profile, maxNumSeqs: t.profile.maxNumSeqs, running: 1, timeScale: 1, slowFactor: 1 };
    const A = paths.answerTokens[k]!;
    const answerS = (prefillMs(paths.promptTokens, ctx) + (A - 1) * interTokenMs(ctx)) / 1000;
    const verifyS = (prefillMs(VERIFY_PROMPT_OVERHEAD_TOKENS + paths.promptTokens + A, ctx) + (SETTINGS.verifyTokensPerSample - 1) * interTokenMs(ctx)) / 1000;
    const verifiedShare = paths.paths.filter((p) => p.verified.includes(k)).length / paths.paths.length;
    const inFlight = rate * (paths.asked[k]! * answerS + verifiedShare * verifyS);
    return Math.max(SCALING[k]!.min, Math.ceil(inFlight / SCALING[k]!.targetInFlightPerReplica));
  });
}


export function withTarget(target: number): SimSettings {
  return { ...SETTINGS, scaling: SCALING.map((x) => ({ ...x, targetInFlightPerReplica: target })) };
}

/**
 * Static provisioning at peak: the replicas the target asks for when the peak rate is served without queueing.
 * Measured, not assumed: 20 simulated minutes at the peak rate on ample replicas give each tier's mean in-flight
 * (service times at that load), then once more on ceil(in-flight / target) replicas (the load factor changes
 * with the batch).
 */
export function staticPeak(peakRate: number, paths: PathSet, seed: number): number[] {
  const trace: Trace = { name: 'steady', description: 'calibration', durationS: 20 * 60, rate: () => peakRate, peakRate, bursts: [] };
  let replicas = replicasFor(peakRate, paths).map((r) => 2 * r + 1);
  for (let i = 0; i < 2; i++) {
    const r = simulate(trace, paths, { kind: 'static', name: 'calibration', replicas }, { ...SETTINGS, warmupS: 300 }, seed, replicas);
    replicas = r.tiers.map((t, k) => Math.max(1, Math.ceil(t.meanInFlight / SCALING[k]!.targetInFlightPerReplica)));
  }
  return replicas;
}
