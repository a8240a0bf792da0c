// Drives a strategy through ticks on a hand-made clock: each tick's desired replicas become the next tick's
// current (and ready) replicas, as if the runtime applied them at once.
import type { CascadeCounters, CascadeInput, EngineReading, ScalingStrategy, TierInput } from '../../../../controller/autoscale/index.js';

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
  /**
   * Sequences running per tier, spread evenly over its ready replicas as engine readings (null or missing =
   * no engine readings for that tier). `queued` puts sequences waiting on the first ready replica.
   */
  running?: (number | null)[];
  queued?: number[];
}

export interface DriveOptions {
  /** Replicas become Ready this many ticks after they are asked for (0 = at once). */
  coldStartTicks?: number;
}

/** Engine readings of `ready` replicas sharing `running` sequences (and `queued` waiting on the first). */
export function enginesOf(ready: number, running: number, queued = 0): EngineReading[] {
  return Array.from({ length: ready }, (_, i) => ({ id: `r${i}`, running: running / ready, waiting: i === 0 ? queued : 0, kvCacheUsage: null, itlSeconds: null, itlCount: null }));
}

export interface Run {
  desired: number[][];
  reasons: string[][];
  costMultipliers: number[];
}

export function drive<S>(strategy: ScalingStrategy<S>, tiers: TierInput[], ticks: Tick[], extra: Partial<CascadeInput> = {}, opts: DriveOptions = {}): Run {
  let state = strategy.initialState();
  let current = tiers.map((t) => t.current);
  const history: number[][] = [];
  const run: Run = { desired: [], reasons: [], costMultipliers: [] };
  ticks.forEach((tick, n) => {
    const lag = opts.coldStartTicks ?? 0;
    // Ready: what was asked for `lag` ticks ago (the tier's starting replicas are Ready from the start).
    const ready = current.map((c, i) => Math.min(c, ...history.slice(Math.max(0, history.length - lag)).map((d) => d[i]!), lag > history.length ? tiers[i]!.current : c));
    const input: CascadeInput = {
      key: 'ns/c',
      tiers: tiers.map((t, i) => {
        const r = tick.running?.[i];
        return {
          ...t,
          current: current[i]!,
          ready: ready[i]!,
          inFlight: tick.inFlight[i] ?? null,
          waiting: tick.waiting?.[i] ?? null,
          ...(r !== undefined && r !== null && ready[i]! > 0 ? { engines: enginesOf(ready[i]!, r, tick.queued?.[i] ?? 0) } : {}),
        };
      }),
      counters: tick.counters ?? null,
      ...extra,
    };
    const out = strategy.decide(input, state, n * TICK_MS);
    state = out.state;
    current = tiers.map((t) => out.decisions[t.name]!.desired);
    history.push(current);
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
