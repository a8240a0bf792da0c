// A work queue keyed by string (a cascade "<ns>/<name>", or the router ConfigMap's key), in the shape of client-go's:
// a key is queued at most once; one key is never processed by two workers at once (an add while it runs marks it
// dirty and it runs again afterwards); a failed key is retried with per-key exponential backoff; a success forgets
// its failures. Delays use the injected clock.
import type { Clock, TimerHandle } from './clock.js';

export type ReconcileResult = void | { requeueAfterMs?: number };

export interface WorkQueueOptions {
  clock: Clock;
  /** Keys processed concurrently (different keys only). Default 2. */
  workers?: number;
  /** First retry delay after a failure; doubles per consecutive failure. Default 200 ms. */
  baseDelayMs?: number;
  /** Cap of the retry delay. Default 60 s. */
  maxDelayMs?: number;
  onError?: (key: string, err: unknown, failures: number, retryInMs: number) => void;
}

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; handle: TimerHandle }>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly clock: Clock;
  private readonly workers: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private running = 0;
  private stopped = false;

  constructor(
    private readonly handler: (key: string) => Promise<ReconcileResult>,
    private readonly opts: WorkQueueOptions,
  ) {
    this.clock = opts.clock;
    this.workers = opts.workers ?? 2;
    this.baseDelayMs = opts.baseDelayMs ?? 200;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
  }

  /** Queues `key` now (and cancels a delayed retry of it: this run replaces that one). */
  add(key: string): void {
    if (this.stopped) return;
    this.cancelDelayed(key);
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.ready.push(key);
    this.pump();
  }

  /** Queues `key` after `ms`; an earlier pending delay for the key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    this.cancelDelayed(key);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** Consecutive failures of `key` so far. */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Keys waiting to run (not counting delayed retries or keys running). */
  get length(): number {
    return this.ready.length;
  }

  /** Resolves when nothing is queued or running (delayed retries do not count). */
  async idle(): Promise<void> {
    if (this.running === 0 && this.ready.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking work, drops queued and delayed keys, and waits for running reconciles to finish. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const key of [...this.delayed.keys()]) this.cancelDelayed(key);
    this.ready.length = 0;
    this.queued.clear();
    this.dirty.clear();
    await this.idle();
  }

  private cancelDelayed(key: string): void {
    const d = this.delayed.get(key);
    if (!d) return;
    this.clock.clearTimeout(d.handle);
    this.delayed.delete(key);
  }

  private pump(): void {
    while (!this.stopped && this.running < this.workers && this.ready.length > 0) {
      const key = this.ready.shift() as string;
      this.queued.delete(key);
      this.processing.add(key);
      this.running++;
      void this.process(key);
    }
    if (this.running === 0 && (this.ready.length === 0 || this.stopped)) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async process(key: string): Promise<void> {
    try {
      const result = await this.handler(key);
      this.failures.delete(key);
      if (result && result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(n - 1, 30));
      this.opts.onError?.(key, err, n, delay);
      if (!this.dirty.has(key)) this.addAfter(key, delay);
    } finally {
      this.processing.delete(key);
      this.running--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}
