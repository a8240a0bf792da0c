// Replica state and selection for one tier: pure bookkeeping, no I/O, clock passed in (milliseconds).
//
// Readiness = last active health check passed (or checks are off) AND not passively ejected.
// Passive ejection: a call that failed with connect error / timeout / 5xx takes the replica out for
// a cooldown that doubles with consecutive failures (capped); it comes back when the cooldown expires
// or a health check passes, whichever is first.

export interface EjectionPolicy {
  /** Cooldown after the first failure. */
  baseSeconds: number;
  /** Cap for the doubling cooldown. */
  maxSeconds: number;
}

export const DEFAULT_EJECTION: EjectionPolicy = { baseSeconds: 1, maxSeconds: 30 };

export interface ReplicaState {
  /** Base URL as configured (no trailing slash). */
  readonly url: string;
  inFlight: number;
  /** Result of the last active health check; true from the start when checks are off. */
  healthy: boolean;
  /** Passively ejected until this time (ms); 0 when not ejected. */
  ejectedUntil: number;
  /** Failures since the last successful call; drives the cooldown doubling. */
  consecutiveFailures: number;
  /** Last failed call or health check (ms); -Infinity when it never failed. */
  lastFailureAt: number;
}

export class ReplicaSet {
  readonly replicas: ReplicaState[];
  /** Rotating scan start, so ties between equally loaded replicas spread round-robin. */
  private cursor = 0;

  constructor(
    urls: readonly string[],
    startHealthy: boolean,
    private readonly ejection: EjectionPolicy = DEFAULT_EJECTION,
  ) {
    this.replicas = urls.map((url) => ({
      url,
      inFlight: 0,
      healthy: startHealthy,
      ejectedUntil: 0,
      consecutiveFailures: 0,
      lastFailureAt: -Infinity,
    }));
  }

  isReady(index: number, now: number): boolean {
    const r = this.replicas[index];
    return r !== undefined && r.healthy && r.ejectedUntil <= now;
  }

  readyCount(now: number): number {
    let count = 0;
    for (let i = 0; i < this.replicas.length; i++) if (this.isReady(i, now)) count++;
    return count;
  }

  /**
   * The replica for the next attempt, or -1 when there are none. Preference, in order:
   * not yet tried in this call; ready; then among ready ones the fewest in flight, among not-ready
   * ones the least recently failed (a lagging health check should not turn traffic away);
   * remaining ties go round-robin. Once every replica was tried, tried ones are eligible again.
   */
  pick(now: number, tried: readonly number[] = []): number {
    const n = this.replicas.length;
    if (n === 0) return -1;
    const start = this.cursor;
    this.cursor = (this.cursor + 1) % n;
    let best = start;
    for (let k = 1; k < n; k++) {
      const i = (start + k) % n;
      if (this.isBetter(i, best, now, tried)) best = i;
    }
    return best;
  }

  /** A call started on the replica. */
  started(index: number): void {
    this.replicas[index]!.inFlight++;
  }

  /** A call on the replica ended (whatever the outcome). */
  ended(index: number): void {
    const r = this.replicas[index]!;
    if (r.inFlight > 0) r.inFlight--;
  }

  /** The replica answered (2xx or 4xx): it is alive, so the cooldown doubling starts over. */
  recordSuccess(index: number): void {
    this.replicas[index]!.consecutiveFailures = 0;
  }

  /**
   * A call failed because of the replica. Returns true when this failure newly ejected it.
   * Failures while already ejected (the other calls that were in flight when it went down) do not
   * escalate the cooldown, so one outage does not jump straight to the cap.
   */
  recordFailure(index: number, now: number): boolean {
    const r = this.replicas[index]!;
    r.lastFailureAt = now;
    if (r.ejectedUntil > now) return false;
    r.consecutiveFailures++;
    const cooldown = Math.min(this.ejection.maxSeconds, this.ejection.baseSeconds * 2 ** (r.consecutiveFailures - 1));
    r.ejectedUntil = now + cooldown * 1000;
    return true;
  }

  /** Result of an active health check. Returns true when the replica's readiness changed. */
  recordHealth(index: number, ok: boolean, now: number): boolean {
    const r = this.replicas[index]!;
    const wasReady = this.isReady(index, now);
    if (ok) {
      r.healthy = true;
      r.ejectedUntil = 0;
    } else {
      r.healthy = false;
      r.lastFailureAt = now;
    }
    return wasReady !== this.isReady(index, now);
  }

  /** Is replica a strictly better pick than replica b? */
  private isBetter(a: number, b: number, now: number, tried: readonly number[]): boolean {
    const aTried = tried.includes(a);
    if (aTried !== tried.includes(b)) return !aTried;
    const aReady = this.isReady(a, now);
    if (aReady !== this.isReady(b, now)) return aReady;
    const ra = this.replicas[a]!;
    const rb = this.replicas[b]!;
    if (!aReady && ra.lastFailureAt !== rb.lastFailureAt) return ra.lastFailureAt < rb.lastFailureAt;
    return ra.inFlight < rb.inFlight;
  }
}
