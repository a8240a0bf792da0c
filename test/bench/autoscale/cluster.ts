// The simulated cluster behind the router: per tier, vLLM replicas that start loading when created (GPUs held
// from then on), become ready after the tier's cold start, and serve upstream calls with the simulator's
// latency model (router/sim/latency.ts): up to max-num-seqs sequences at once, FIFO waiting beyond, each call's
// service time from its prompt and output tokens at the load factor of the batch it joins. The router side:
// each call goes to the ready replica with the fewest calls in flight (the router's least-loaded pool); a tier
// with no ready replica holds its calls until one is ready (scale from zero).
import { interTokenMs, prefillMs, type LatencyProfile } from '../../../router/sim/latency.js';
import type { EventQueue } from './heap.js';

export interface TierModel {
  name: string;
  profile: LatencyProfile;
  gpus: number;
  /** Seconds from pod scheduled to Ready (image cached, weights from a local cache, CUDA graphs). */
  coldStartS: number;
}

export interface Call {
  tier: number;
  /** Sequences it occupies in the batch (n = k for a verification). */
  seqs: number;
  promptTokens: number;
  outputTokens: number;
  submitAt: number;
  /** Time from submission to admission into a batch: held at the router (no ready replica) and vLLM's queue. */
  waited: number;
  held: boolean;
  /** Seconds held at the router before a replica took it. */
  heldS: number;
  done: (call: Call) => void;
}

export class Replica {
  readyAt: number;
  ready = false;
  draining = false;
  removedAt: number | null = null;
  running = 0;
  inFlight = 0;
  queue: Call[] = [];
  busyS = 0;
  /** Cumulative inter-token latency seconds and tokens (vLLM's histogram sum and count; added when a call ends). */
  itlSeconds = 0;
  itlCount = 0;
  /** Busy seconds before the measurement window (subtracted in gpuSecondsOf). */
  busyBefore = 0;
  private busySince: number | null = null;

  constructor(
    readonly id: number,
    readonly tier: number,
    readonly createdAt: number,
    coldStartS: number,
  ) {
    this.readyAt = createdAt + coldStartS;
  }

  setBusy(now: number): void {
    if (this.running > 0 && this.busySince === null) this.busySince = now;
    if (this.running === 0 && this.busySince !== null) {
      this.busyS += now - this.busySince;
      this.busySince = null;
    }
  }

  /** Busy seconds up to `now`, counting a busy spell still open. */
  busyUntil(now: number): number {
    return this.busyS + (this.busySince !== null ? now - this.busySince : 0);
  }
}

export class TierSim {
  /** Replicas the Deployment asks for (loading or ready, not draining). */
  active: Replica[] = [];
  draining: Replica[] = [];
  /** Every replica ever created (for GPU accounting). */
  all: Replica[] = [];
  held: Call[] = [];
  /** Calls at this tier: held, queued or running (the router's in-flight gauge). */
  inFlight = 0;
  upstreamSeconds = 0;
  /** Upstream calls completed (the router's tiermix_upstream_request_seconds_count). */
  completedCalls = 0;

  constructor(
    readonly index: number,
    readonly model: TierModel,
    private readonly q: EventQueue,
    private readonly nextId: () => number,
  ) {}

  get readyCount(): number {
    return this.active.filter((r) => r.ready).length;
  }

  /** Calls waiting in vLLM queues (not yet running) on active replicas. */
  get waiting(): number {
    return this.active.reduce((n, r) => n + r.queue.length, 0);
  }

  /** What each ready replica's vLLM /metrics would say (running and waiting in sequences, as vLLM v1 counts an n = 8 request). */
  engineReadings(): { id: string; running: number; waiting: number; kvCacheUsage: null; itlSeconds: number; itlCount: number }[] {
    return this.active
      .filter((r) => r.ready)
      .map((r) => ({ id: String(r.id), running: r.running, waiting: r.queue.reduce((n, c) => n + c.seqs, 0), kvCacheUsage: null, itlSeconds: r.itlSeconds, itlCount: r.itlCount }));
  }

  submit(call: Call): void {
    this.inFlight++;
    const r = this.pick();
    if (r) this.enqueue(r, call);
    else {
      call.held = true;
      this.held.push(call);
    }
  }

  /** The ready, not draining replica with the fewest calls in flight (ties: the oldest). */
  private pick(): Replica | undefined {
    let best: Replica | undefined;
    for (const r of this.active) if (r.ready && (!best || r.inFlight < best.inFlight)) best = r;
    return best;
  }

  private enqueue(r: Replica, call: Call): void {
    r.inFlight++;
    r.queue.push(call);
    this.start(r);
  }

  private start(r: Replica): void {
    const max = this.model.profile.maxNumSeqs;
    const now = this.q.now;
    while (r.queue.length > 0 && (r.running === 0 || r.running + r.queue[0]!.seqs <= max)) {
      const call = r.queue.shift()!;
      r.running += call.seqs;
      r.setBusy(now);
      call.waited += now - call.submitAt;
      const ctx = { profile: this.model.profile, maxNumSeqs: max, running: r.running, timeScale: 1, slowFactor: 1 };
      const itlS = interTokenMs(ctx) / 1000;
      const serviceS = prefillMs(call.promptTokens, ctx) / 1000 + Math.max(0, call.outputTokens - 1) * itlS;
      this.q.at(now + serviceS, () => {
        const tokens = call.seqs * Math.max(0, call.outputTokens - 1);
        r.itlCount += tokens;
        r.itlSeconds += tokens * itlS;
        this.finish(r, call);
      });
    }
  }

  private finish(r: Replica, call: Call): void {
    const now = this.q.now;
    r.running -= call.seqs;
    r.inFlight--;
    r.setBusy(now);
    this.inFlight--;
    this.upstreamSeconds += now - call.submitAt - call.heldS;
    this.completedCalls++;
    this.start(r);
    if (r.draining && r.inFlight === 0) this.remove(r, now);
    call.done(call);
  }

  /** Scale to `n` replicas: new ones start loading now; removals take loading ones first, then the least busy. */
  scaleTo(n: number): void {
    const now = this.q.now;
    while (this.active.length < n) {
      const r = new Replica(this.nextId(), this.index, now, this.model.coldStartS);
      this.active.push(r);
      this.all.push(r);
      this.q.at(r.readyAt, () => this.becomeReady(r));
    }
    while (this.active.length > n) {
      const loading = this.active.filter((r) => !r.ready);
      const victim = loading.length > 0 ? loading[loading.length - 1]! : [...this.active].sort((a, b) => a.inFlight - b.inFlight || b.id - a.id)[0]!;
      this.active.splice(this.active.indexOf(victim), 1);
      if (!victim.ready || victim.inFlight === 0) this.remove(victim, now);
      else {
        // The router stops sending to it; calls not yet running go elsewhere (or are held), running ones finish.
        victim.draining = true;
        this.draining.push(victim);
        const queued = victim.queue.splice(0);
        victim.inFlight -= queued.length;
        for (const c of queued) {
          this.inFlight--;
          this.submit(c);
        }
        if (victim.inFlight === 0) this.remove(victim, now);
      }
    }
  }

  /** Warm start: every replica asked for so far is Ready now (the simulation starts from a running cluster). */
  readyNow(): void {
    const now = this.q.now;
    for (const r of this.active) {
      r.readyAt = Math.min(r.readyAt, now);
      this.becomeReady(r);
    }
  }

  /** Start of the measurement window: busy time so far is not counted. */
  markWindow(now: number): void {
    for (const r of this.all) r.busyBefore = r.busyUntil(Math.min(now, r.removedAt ?? now));
  }

  private becomeReady(r: Replica): void {
    if (r.removedAt !== null || r.ready) return;
    r.ready = true;
    const held = this.held.splice(0);
    const now = this.q.now;
    for (const c of held) {
      c.heldS = now - c.submitAt;
      this.inFlight--;
      this.submit(c);
    }
  }

  private remove(r: Replica, now: number): void {
    if (r.removedAt !== null) return;
    r.removedAt = now;
    r.setBusy(now);
    const i = this.draining.indexOf(r);
    if (i >= 0) this.draining.splice(i, 1);
  }
}

/** GPU-seconds of a tier's replicas inside [from, to]: loading, and ready split into busy (serving) and idle. */
export function gpuSecondsOf(tier: TierSim, from: number, to: number): { loading: number; serving: number; idle: number } {
  const g = tier.model.gpus;
  let loading = 0;
  let ready = 0;
  let serving = 0;
  const overlap = (a: number, b: number) => Math.max(0, Math.min(b, to) - Math.max(a, from));
  for (const r of tier.all) {
    const end = r.removedAt ?? to;
    loading += overlap(r.createdAt, Math.min(r.readyAt, end)) * g;
    if (r.readyAt < end) ready += overlap(r.readyAt, end) * g;
    serving += (r.busyUntil(Math.min(end, to)) - r.busyBefore) * g;
  }
  return { loading, serving: Math.min(serving, ready), idle: Math.max(0, ready - serving) };
}
