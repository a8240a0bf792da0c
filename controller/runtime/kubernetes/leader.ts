// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: get the Lease; create it
// when missing; take it over when its holder has not renewed it within leaseDuration (measured on OUR clock from
// when we last saw the record change, so clock skew between replicas does not matter); renew every retryPeriod;
// give up leadership when no renewal succeeded within renewDeadline; on a clean stop, stop working first, then
// release the Lease (empty holder) so another replica takes over at once.
import type { Clock, TimerHandle } from './clock.js';
import { isConflict, isNotFound, type KubeRest } from './rest.js';
import { RESOURCES } from './resources.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  /** Unique per replica, e.g. "<pod name>_<random>". */
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** The three Lease calls leader election makes (KubeRest in production). */
export type LeaseClient = Pick<KubeRest, 'get' | 'create' | 'update'>;

export interface LeaderCallbacks {
  /** Leadership gained: start working. */
  onStartedLeading: () => void | Promise<void>;
  /** Leadership lost or released: stop working (awaited before the Lease is released). */
  onStoppedLeading: () => void | Promise<void>;
  onError?: (err: unknown) => void;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}
interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private leading = false;
  private stopped = true;
  private timer: TimerHandle | undefined;
  private lastRenewMs = 0;
  private observed: { key: string; atMs: number } | undefined;
  private lease: Lease | undefined;
  private ticking: Promise<void> = Promise.resolve();

  constructor(
    private readonly rest: LeaseClient,
    private readonly opts: LeaderElectionOptions,
    private readonly clock: Clock,
    private readonly callbacks: LeaderCallbacks,
  ) {
    if (!(opts.leaseDurationMs > opts.renewDeadlineMs && opts.renewDeadlineMs > opts.retryPeriodMs && opts.retryPeriodMs > 0)) {
      throw new Error('leader election needs leaseDuration > renewDeadline > retryPeriod > 0');
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Current holder as last read (undefined before the first read). */
  holder(): string | undefined {
    return this.lease?.spec?.holderIdentity ?? undefined;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /**
   * Stops campaigning; when leading, stops the work (onStoppedLeading) and then releases the Lease.
   * `release: false` leaves the Lease to expire, as a crashed replica would (tests use it).
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    await this.ticking;
    if (this.leading) {
      this.leading = false;
      await this.callbacks.onStoppedLeading();
    }
    // Also when a last renewal won the Lease after stop() began.
    if (opts.release !== false) await this.release();
  }

  private schedule(ms: number): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.ticking = this.tick();
    }, ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      this.callbacks.onError?.(err);
    }
    if (this.stopped) return; // stop() handles the hand-over
    const now = this.clock.now();
    if (ok) {
      this.lastRenewMs = now;
      if (!this.leading) {
        this.leading = true;
        await this.callbacks.onStartedLeading();
      }
    } else if (this.leading && (this.heldByOther() || now - this.lastRenewMs >= this.opts.renewDeadlineMs)) {
      // Someone else holds it (we must have missed renewals), or renewals kept failing: stop working now.
      this.leading = false;
      await this.callbacks.onStoppedLeading();
    }
    if (!this.stopped) this.schedule(this.opts.retryPeriodMs);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = this.clock.now();
    const timeoutMs = this.opts.renewDeadlineMs;
    const desired = (prev?: LeaseSpec): LeaseSpec => {
      const heldByUs = prev?.holderIdentity === identity;
      return {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(this.opts.leaseDurationMs / 1000),
        acquireTime: heldByUs && prev?.acquireTime ? prev.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (prev?.leaseTransitions ?? 0) + (heldByUs || !prev ? 0 : 1),
      };
    };
    let lease: Lease;
    try {
      lease = await this.rest.get<Lease>(RESOURCES.leases, namespace, name, { timeoutMs });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        this.lease = await this.rest.create<Lease>(
          RESOURCES.leases,
          namespace,
          { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: desired() },
          { timeoutMs },
        );
        this.observed = { key: this.recordKey(this.lease), atMs: now };
        return true;
      } catch (e) {
        if (isConflict(e)) return false; // another replica created it first
        throw e;
      }
    }
    this.lease = lease;
    const key = this.recordKey(lease);
    if (this.observed?.key !== key) this.observed = { key, atMs: now };
    const holder = lease.spec?.holderIdentity ?? '';
    const durationMs = (lease.spec?.leaseDurationSeconds ?? Math.ceil(this.opts.leaseDurationMs / 1000)) * 1000;
    if (holder && holder !== identity && this.observed.atMs + durationMs > now) return false;
    // Not held, expired, or ours: (re)take it. The resourceVersion makes this conditional.
    try {
      this.lease = await this.rest.update<Lease>(
        RESOURCES.leases,
        namespace,
        name,
        { ...lease, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec: desired(lease.spec) },
        { timeoutMs },
      );
      this.observed = { key: this.recordKey(this.lease), atMs: now };
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  private heldByOther(): boolean {
    const holder = this.lease?.spec?.holderIdentity;
    return !!holder && holder !== this.opts.identity;
  }

  private recordKey(lease: Lease): string {
    const s = lease.spec ?? {};
    return `${s.holderIdentity ?? ''}|${s.renewTime ?? ''}|${s.leaseTransitions ?? 0}`;
  }

  /** Empties the holder so a waiting replica takes over without waiting out the lease. */
  private async release(): Promise<void> {
    const lease = this.lease;
    if (!lease || lease.spec?.holderIdentity !== this.opts.identity) return;
    const now = this.clock.now();
    try {
      await this.rest.update(RESOURCES.leases, this.opts.namespace, this.opts.name, {
        ...lease,
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now), acquireTime: microTime(now) },
      });
    } catch (err) {
      this.callbacks.onError?.(err);
    }
  }
}
