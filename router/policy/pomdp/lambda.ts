// Holding a GPU-second budget per request online: lambda (the price of a GPU-second in accuracy) is raised
// while the running average cost per request is above the target and lowered while below it. Pure: the
// state is a value, the clock is the caller's (nowMs passed in), so it is deterministic and testable.
//
//   average: exponentially time-decayed mean of per-request GPU-seconds (half-life halfLifeMs)
//   update:  lambda <- clamp(lambda x exp(gain x (average - target) / target))   after each request
export interface LambdaControllerConfig {
  /** Target GPU-seconds per request. */
  targetGpuSeconds: number;
  initialLambda: number;
  minLambda: number;
  maxLambda: number;
  /** Multiplicative step per request at a relative error of 1. Default 0.05. */
  gain?: number;
  /** Half-life of the running average in milliseconds. Default 60000. */
  halfLifeMs?: number;
}

export interface LambdaControllerState {
  lambda: number;
  /** Running average GPU-seconds per request (null before the first request). */
  average: number | null;
  /** Decayed count of requests behind the average. */
  weight: number;
  lastMs: number | null;
}

export function validateLambdaConfig(c: LambdaControllerConfig): void {
  if (!(c.targetGpuSeconds > 0)) throw new RangeError(`targetGpuSeconds must be > 0, got ${c.targetGpuSeconds}`);
  if (!(c.minLambda >= 0 && c.maxLambda >= c.minLambda)) throw new RangeError(`need 0 <= minLambda <= maxLambda, got ${c.minLambda}, ${c.maxLambda}`);
  if (!(c.initialLambda >= c.minLambda && c.initialLambda <= c.maxLambda)) throw new RangeError(`initialLambda ${c.initialLambda} outside [${c.minLambda}, ${c.maxLambda}]`);
  if (c.gain !== undefined && !(c.gain > 0)) throw new RangeError(`gain must be > 0, got ${c.gain}`);
  if (c.halfLifeMs !== undefined && !(c.halfLifeMs > 0)) throw new RangeError(`halfLifeMs must be > 0, got ${c.halfLifeMs}`);
}

export function initialLambdaState(c: LambdaControllerConfig): LambdaControllerState {
  validateLambdaConfig(c);
  return { lambda: c.initialLambda, average: null, weight: 0, lastMs: null };
}

/** The state after a request that cost `gpuSeconds` finished at `nowMs`. */
export function stepLambda(state: LambdaControllerState, c: LambdaControllerConfig, gpuSeconds: number, nowMs: number): LambdaControllerState {
  if (!(gpuSeconds >= 0 && Number.isFinite(gpuSeconds))) return state; // a broken meter reading changes nothing
  const halfLife = c.halfLifeMs ?? 60_000;
  const dt = state.lastMs === null ? 0 : Math.max(0, nowMs - state.lastMs);
  const decay = Math.pow(0.5, dt / halfLife);
  const w = state.weight * decay;
  const weight = w + 1;
  const average = state.average === null ? gpuSeconds : (state.average * w + gpuSeconds) / weight;
  const err = (average - c.targetGpuSeconds) / c.targetGpuSeconds;
  // Raising from 0 needs a floor to multiply: start from minLambda or a small positive value.
  const from = state.lambda > 0 ? state.lambda : Math.max(c.minLambda, 1e-6);
  const lambda = Math.min(c.maxLambda, Math.max(c.minLambda, from * Math.exp((c.gain ?? 0.05) * Math.max(-1, Math.min(1, err)))));
  return { lambda, average, weight, lastMs: Math.max(nowMs, state.lastMs ?? nowMs) };
}

/** A mutable holder for the router: `lambda` is what PomdpPolicy's lambda function reads. */
export class LambdaController {
  private state: LambdaControllerState;

  constructor(
    readonly config: LambdaControllerConfig,
    private readonly now: () => number,
  ) {
    this.state = initialLambdaState(config);
  }

  get lambda(): number {
    return this.state.lambda;
  }

  get snapshot(): Readonly<LambdaControllerState> {
    return this.state;
  }

  record(gpuSeconds: number): void {
    this.state = stepLambda(this.state, this.config, gpuSeconds, this.now());
  }
}
