// Reaching a tier that may have no replica (scaled to zero, or every pod still loading: the controller lists only
// Ready pods as endpoints). One TierAccess per request, routed or pinned:
//
//   the tier has endpoints in the state the request captured, or in the latest one  -> call it
//   else, while the request's hold budget lasts (scaleFromZero.holdSeconds)         -> hold: wait for a reload that
//        gives the tier an endpoint (TierSource.hold; the request counts as in flight for the tier meanwhile,
//        which is what makes the autoscaler start a replica)
//   else                                                                            -> the nearest warm tier
//
// The budget is one per request, starting at its first hold, so two cold tiers do not double the wait. A tier that
// stayed cold is not held for again by the same request.
import type { TierConfig } from '../config/schema.js';
import { UpstreamError, type CancelSignal, type TierClient } from '../upstream/types.js';
import type { CascadeRuntime } from './execute.js';
import { nearestWarmTier } from './warm-tier.js';

export interface ReadyTier {
  tier: TierConfig;
  client: TierClient;
}

/** What the router offers a request beyond the state it captured: newer states, and waiting for one. */
export interface TierSource {
  /** The tier in the latest configuration, when it has endpoints there. */
  latest(tier: string): ReadyTier | undefined;
  /**
   * Resolve once a configuration gives the tier endpoints (with that configuration's tier and client), or with null
   * at `deadline` (on `now()`'s clock). Rejects with UpstreamError 'aborted' when the signal fires.
   */
  hold(tier: string, deadline: number, signal?: CancelSignal): Promise<ReadyTier | null>;
  /** Milliseconds, monotonic. */
  now(): number;
}

export interface HoldRecord {
  tier: string;
  seconds: number;
  /** endpoint: a replica appeared and served it; expired: the budget ran out first. */
  outcome: 'endpoint' | 'expired';
}

export type Access =
  | { kind: 'ready'; index: number; ready: ReadyTier; heldSeconds: number }
  /** No replica: `fallback` is the nearest warm tier allowed (-1: none). */
  | { kind: 'cold'; index: number; fallback: number; heldSeconds: number };

export class TierAccess {
  /** Tiers that had no replica for this request, after any hold. */
  readonly cold = new Set<number>();
  readonly holds: HoldRecord[] = [];
  private deadline: number | null = null;

  constructor(
    private readonly runtime: CascadeRuntime,
    private readonly source: TierSource | undefined,
    private readonly holdSeconds: number,
    private readonly signal?: CancelSignal,
  ) {}

  /** Tier `index` of the cascade, when it has endpoints in the captured state or in the latest one. */
  warm(index: number): ReadyTier | undefined {
    const tier = this.runtime.config.tiers[index]!;
    if (tier.endpoints.length > 0) return { tier, client: this.runtime.clients[index]! };
    return this.source?.latest(tier.name);
  }

  /** Tier `index`, holding for it when it has no endpoint; `floor`: tiers at or below it are no fallback. */
  async get(index: number, floor = -1): Promise<Access> {
    const ready = this.warm(index);
    if (ready) return { kind: 'ready', index, ready, heldSeconds: 0 };
    const name = this.runtime.config.tiers[index]!.name;
    let heldSeconds = 0;
    if (this.source && !this.cold.has(index) && this.holdSeconds > 0) {
      const start = this.source.now();
      this.deadline ??= start + this.holdSeconds * 1000;
      if (start < this.deadline) {
        if (this.signal?.aborted) throw new UpstreamError('aborted', 'the client went away', name);
        const got = await this.source.hold(name, this.deadline, this.signal);
        heldSeconds = (this.source.now() - start) / 1000;
        this.holds.push({ tier: name, seconds: heldSeconds, outcome: got ? 'endpoint' : 'expired' });
        if (got) return { kind: 'ready', index, ready: got, heldSeconds };
      }
    }
    this.cold.add(index);
    const warm = this.runtime.config.tiers.map((_, i) => this.warm(i) !== undefined);
    return { kind: 'cold', index, fallback: nearestWarmTier(warm, index, floor, this.cold), heldSeconds };
  }

  /** The error for a tier with no replica and no warm tier to serve instead. */
  noReplica(index: number, heldSeconds: number): UpstreamError {
    const name = this.runtime.config.tiers[index]!.name;
    const held = heldSeconds > 0 ? ` (held ${heldSeconds.toFixed(1)}s for one to start)` : '';
    return new UpstreamError('no_replica', `tier ${name} has no replica${held}, and no other tier of cascade ${this.runtime.config.name} has one`, name);
  }
}
