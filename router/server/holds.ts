// Requests held for a tier with no endpoints (scale from zero). Each held request is a waiter on its tier, released
// by the reload path: after a new state is swapped in, `published()` hands every waiter of a tier that now has
// endpoints that state's tier and client. No polling: one timer per held request for its deadline, and an abort
// listener for a client that goes away. Held requests count as in flight for their tier in /metrics
// (RouterMetrics.holdStarted/holdEnded), which is the controller's signal to scale the tier from zero.
import type { ReadyTier, TierSource } from '../cascade/tier-access.js';
import type { RouterMetrics } from '../metrics/router-metrics.js';
import { UpstreamError, type CancelSignal } from '../upstream/types.js';
import type { RouterState } from './state.js';

interface Waiter {
  settle(outcome: 'endpoint' | 'expired' | 'aborted', ready: ReadyTier | null): void;
}

export class TierHolds implements TierSource {
  private readonly waiters = new Map<string, Set<Waiter>>();

  constructor(
    private readonly getState: () => RouterState,
    private readonly metrics?: RouterMetrics,
    readonly now: () => number = () => performance.now(),
  ) {}

  latest(tier: string): ReadyTier | undefined {
    const entry = this.getState().tiers.get(tier);
    return entry && entry.tier.endpoints.length > 0 ? { tier: entry.tier, client: entry.client } : undefined;
  }

  hold(tier: string, deadline: number, signal?: CancelSignal): Promise<ReadyTier | null> {
    const ready = this.latest(tier);
    if (ready) return Promise.resolve(ready);
    if (signal?.aborted) return Promise.reject(new UpstreamError('aborted', 'the client went away while held', tier));
    return new Promise((resolve, reject) => {
      const started = this.now();
      const set = this.waiters.get(tier) ?? new Set<Waiter>();
      this.waiters.set(tier, set);
      const onAbort = () => waiter.settle('aborted', null);
      const timer = setTimeout(() => waiter.settle('expired', null), Math.max(0, deadline - started));
      const waiter: Waiter = {
        settle: (outcome, got) => {
          if (!set.delete(waiter)) return; // settled already
          if (set.size === 0 && this.waiters.get(tier) === set) this.waiters.delete(tier);
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.metrics?.holdEnded(tier, outcome, (this.now() - started) / 1000);
          if (outcome === 'aborted') reject(new UpstreamError('aborted', 'the client went away while held', tier));
          else resolve(got);
        },
      };
      set.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.metrics?.holdStarted(tier);
    });
  }

  /** A new state is in force: release the requests held for tiers that have endpoints in it. */
  published(): void {
    for (const [tier, set] of [...this.waiters]) {
      const ready = this.latest(tier);
      if (ready) for (const w of [...set]) w.settle('endpoint', ready);
    }
  }

  /** Shutting down: stop holding, so held requests go to a warm tier (or fail) now instead of at their deadline. */
  releaseAll(): void {
    for (const set of [...this.waiters.values()]) for (const w of [...set]) w.settle('expired', null);
  }

  /** Requests held now, per tier. */
  heldCounts(): Map<string, number> {
    return new Map([...this.waiters].map(([tier, set]) => [tier, set.size]));
  }
}
