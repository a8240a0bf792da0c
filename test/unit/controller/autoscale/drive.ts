// Drives a strategy through ticks on a hand-made clock: each tick's desired replicas become the next tick's
// current (and ready) replicas, as if the runtime applied them at once.
import type { CascadeCounters, CascadeInput, ScalingStrategy, TierInput } from '../../../../controller/autoscale/index.js';

export const TICK_MS = 10_000;

export function tier(name: string, over: Partial<TierInput> = {}): TierInput {
  return {
    name,
    gpusPerReplica: 1,
    min: 1,
    max: 10,
    targetInFlightPerReplica: 10,
    scaleDownDelaySeconds: 60,
    current: 1,
    ready: 1,
    inFlight: 0,
    ...over,
  };
}

export interface Tick {
  /** In-flight per tier (null = no reading). */
  inFlight: (number | null)[];
  waiting?: (number | null)[];
  counters?: CascadeCounters | null;
}

export interface Run {
  desired: number[][];
  reasons: string[][];
  costMultipliers: number[];
}

export function drive<S>(strategy: ScalingStrategy<S>, tiers: TierInput[], ticks: Tick[], extra: Partial<CascadeInput> = {}): Run {
  let state = strategy.initialState();
  let current = tiers.map((t) => t.current);
  const run: Run = { desired: [], reasons: [], costMultipliers: [] };
  ticks.forEach((tick, n) => {
    const input: CascadeInput = {
      key: 'ns/c',
      tiers: tiers.map((t, i) => ({ ...t, current: current[i]!, ready: current[i]!, inFlight: tick.inFlight[i] ?? null, waiting: tick.waiting?.[i] ?? null })),
      counters: tick.counters ?? null,
      ...extra,
    };
    const out = strategy.decide(input, state, n * TICK_MS);
    state = out.state;
    current = tiers.map((t) => out.decisions[t.name]!.desired);
    run.desired.push(current);
    run.reasons.push(tiers.map((t) => out.decisions[t.name]!.reason));
    run.costMultipliers.push(out.costSignal?.lambdaMultiplier ?? 1);
  });
  return run;
}

/** The desired replicas of tier i over the run. */
export const series = (run: Run, i = 0): number[] => run.desired.map((d) => d[i]!);

/** n ticks with the same in-flight vector. */
export const hold = (n: number, inFlight: (number | null)[], more: Omit<Tick, 'inFlight'> = {}): Tick[] => Array.from({ length: n }, () => ({ inFlight, ...more }));
