// Per-request GPU-seconds attribution for one replica.
//
// Why: a vLLM replica batches every request it holds, so while k requests are in flight each one
// occupies 1/k of the replica's GPUs. The router attributes to each request
//   gpuSeconds = gpusPerReplica x integral over the request's lifetime of 1 / inflight(t) dt,
// which makes the shares of all requests add up to gpusPerReplica x busy time (time with at least one
// request in flight). That is the router's per-request view; the controller's meter (a later issue)
// measures replica time as serving / idle / loading and reconciles its "serving" GPU-seconds with the
// sum of these shares. Idle and loading time are deliberately not attributed to requests here.
//
// Exact and O(1) per start/end: keep the running integral S(t) = integral of 1/inflight(t) dt over busy
// time, advanced lazily whenever inflight changes. A request remembers S at its start; at its end its
// share is gpus x (S(end) - S(start)), because 1/inflight is piecewise constant between changes.

/** Opaque value returned by start() and handed back to end(): S at the request's start. */
export type MeterToken = number;

export class ReplicaGpuMeter {
  private inFlightCount = 0;
  /** S(lastChangeAt): integral of 1/inflight over busy time, in seconds. */
  private integral = 0;
  private lastChangeAt: number;
  private busy = 0;
  private attributed = 0;

  /**
   * @param gpusPerReplica GPUs the replica holds (its tensor-parallel size).
   * @param nowSeconds monotonic clock in seconds (injected so tests can drive a timeline).
   */
  constructor(
    readonly gpusPerReplica: number,
    private readonly nowSeconds: () => number,
  ) {
    this.lastChangeAt = nowSeconds();
  }

  /** A request started on the replica. */
  start(): MeterToken {
    this.advance();
    this.inFlightCount++;
    return this.integral;
  }

  /** The request that got `token` from start() ended; returns its GPU-seconds. */
  end(token: MeterToken): number {
    this.advance();
    if (this.inFlightCount > 0) this.inFlightCount--;
    const share = this.gpusPerReplica * (this.integral - token);
    this.attributed += share;
    return share;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Seconds with at least one request in flight, up to the last start/end. */
  get busySeconds(): number {
    return this.busy;
  }

  /** Sum of the shares handed out by end(); equals gpusPerReplica x busySeconds once idle. */
  get attributedGpuSeconds(): number {
    return this.attributed;
  }

  private advance(): void {
    const t = this.nowSeconds();
    const dt = t - this.lastChangeAt;
    // A clock that steps backwards must not produce negative shares.
    if (dt <= 0) return;
    if (this.inFlightCount > 0) {
      this.integral += dt / this.inFlightCount;
      this.busy += dt;
    }
    this.lastChangeAt = t;
  }
}
