// The controller's own Prometheus metrics (served on --metrics-port /metrics). A registry per controller instance,
// so two instances in one process (the leader-election test) do not collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WriteVerb } from './rest.js';

export class ControllerMetrics {
  readonly registry: Registry;
  private readonly apiWrites: Counter<'verb' | 'resource'>;
  readonly reconciles: Counter<'kind' | 'result'>;
  readonly reconcileSeconds: Histogram<'kind'>;
  readonly leader: Gauge;
  readonly cascades: Gauge;
  private readonly writeCounts = new Map<string, number>();

  constructor(opts: { registry?: Registry; defaultMetrics?: boolean } = {}) {
    this.registry = opts.registry ?? new Registry();
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    this.apiWrites = new Counter({
      name: 'tiermix_controller_api_writes_total',
      help: 'Writes the controller made to the Kubernetes API, by verb (apply = server-side apply) and resource.',
      labelNames: ['verb', 'resource'],
      registers: [this.registry],
    });
    this.reconciles = new Counter({
      name: 'tiermix_controller_reconciles_total',
      help: 'Reconciles run, by kind (cascade, router) and result (success, error).',
      labelNames: ['kind', 'result'],
      registers: [this.registry],
    });
    this.reconcileSeconds = new Histogram({
      name: 'tiermix_controller_reconcile_seconds',
      help: 'Time one reconcile took, including its API writes.',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.leader = new Gauge({
      name: 'tiermix_controller_leader',
      help: '1 while this replica holds the leader Lease (or leader election is off), else 0.',
      registers: [this.registry],
    });
    this.cascades = new Gauge({
      name: 'tiermix_controller_cascades',
      help: 'ModelCascades in the controller cache.',
      registers: [this.registry],
    });
  }

  recordWrite(verb: WriteVerb, resource: string): void {
    this.apiWrites.inc({ verb, resource });
    const key = `${verb} ${resource}`;
    this.writeCounts.set(key, (this.writeCounts.get(key) ?? 0) + 1);
  }

  /** Writes so far by "<verb> <resource>" (a copy). */
  writes(): Record<string, number> {
    return Object.fromEntries(this.writeCounts);
  }

  /** Total writes, optionally leaving out some resources (e.g. leases, which a leader renews all the time). */
  totalWrites(exclude: readonly string[] = []): number {
    let n = 0;
    for (const [key, v] of this.writeCounts) if (!exclude.includes(key.split(' ')[1] ?? '')) n += v;
    return n;
  }
}
