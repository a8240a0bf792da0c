// The Kubernetes runtime: informers feed a work queue keyed by cascade (plus one key for the router ConfigMap);
// only the leader reconciles. Thin: every decision is the planner's (controller/plan), the autoscaler's or the
// meter's (controller/runtime/hooks.ts); this file only wires events to keys and keys to reconciles.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { LABELS, MANAGER } from '../../api/types.js';
import type { ControllerConfig } from '../../config/types.js';
import type { PlannerApi } from '../../plan/types.js';
import type { CascadeSnapshot, MeterSource, ScalingSource } from '../hooks.js';
import type { PolicyRule } from '../rbac.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { cascadeKey, type CascadeObject, type ReconcileContext, type Stores } from './context.js';
import { EventRecorder, type RecordedEvent } from './events.js';
import { ApplyLoopGuard, FreshnessOverlay } from './freshness.js';
import { Informer, MultiStore } from './informer.js';
import { LeaderElector } from './leader.js';
import { ControllerMetrics } from './metrics.js';
import { WorkQueue } from './queue.js';
import { observeTiers, reconcileCascade, reconcileRouter } from './reconcile-cascade.js';
import { ApiError, KubeRest } from './rest.js';
import { RESOURCES, type WireObject } from './resources.js';
import { toTyped } from './wire.js';

/** Queue key of the router ConfigMap (cascade keys always contain a '/'). */
export const ROUTER_KEY = 'router-configmap';

export interface KubernetesControllerOptions {
  kubeConfig: KubeConfig;
  config: ControllerConfig;
  planner: PlannerApi;
  /** Watch only this namespace (overrides config.namespaces). */
  namespace?: string;
  /** Default: config.leaderElection.enabled. */
  leaderElection?: boolean;
  /** Leader-election identity; default "<hostname>_<random>". */
  identity?: string;
  scaling?: ScalingSource;
  meter?: MeterSource;
  clock?: Clock;
  logger?: Logger;
  metrics?: ControllerMetrics;
  /** Concurrent reconciles (of different keys). Default 2. */
  workers?: number;
  /** Re-reconcile everything this often (0 = only on events). Default 0. */
  resyncIntervalMs?: number;
  /** RBAC rules the client may use; default CONTROLLER_RULES. */
  rules?: readonly PolicyRule[];
  /** Every Event the controller emits (tests and debugging). */
  onEvent?: (ev: RecordedEvent) => void;
}

export interface KubernetesController {
  readonly identity: string;
  readonly metrics: ControllerMetrics;
  readonly rest: KubeRest;
  /** Every cache has listed once. */
  synced(): boolean;
  isLeader(): boolean;
  /** Resolves when nothing is queued or running (immediately when not leading). */
  idle(): Promise<void>;
  /** Every cascade in the cache with its observed tiers (typed), e.g. for the autoscaler's tick. */
  cascades(): CascadeSnapshot[];
  /** Stop reconciling, release the Lease (unless releaseLease: false, as after a crash), stop watching. */
  stop(opts?: { releaseLease?: boolean }): Promise<void>;
}

export async function startKubernetesController(opts: KubernetesControllerOptions): Promise<KubernetesController> {
  const { config, planner } = opts;
  const clock = opts.clock ?? systemClock;
  const log = opts.logger ?? pino({ name: 'tiermix-controller', level: 'info' });
  const metrics = opts.metrics ?? new ControllerMetrics();
  const identity = opts.identity ?? `${hostname()}_${randomUUID().slice(0, 8)}`;
  const rest = new KubeRest(opts.kubeConfig, { rules: opts.rules, onWrite: (verb, resource) => metrics.recordWrite(verb, resource) });
  const events = new EventRecorder(
    rest,
    clock,
    identity,
    (err, ev) => log.warn({ err: String(err), event: ev }, 'could not record an Event'),
    opts.onEvent,
  );

  let queue: WorkQueue | undefined;
  const enqueue = (key: string): void => queue?.add(key);
  const enqueueAll = (): void => {
    for (const mc of stores.cascades.list()) enqueue(cascadeKey(mc.metadata.namespace, mc.metadata.name));
    enqueue(ROUTER_KEY);
  };
  const overlay = new FreshnessOverlay();

  // --- informers ---------------------------------------------------------------------------------------------------
  const namespaces: (string | undefined)[] = opts.namespace ? [opts.namespace] : config.namespaces?.length ? config.namespaces : [undefined];
  const informers: Informer<WireObject>[] = [];
  const onInformerError = (what: string) => (err: unknown) => {
    const hint =
      err instanceof ApiError && err.code === 404 && what === 'modelcascades'
        ? ' (is the ModelCascade CRD installed? the chart ships it; locally: tiermix controller --install-crd)'
        : '';
    log.error({ err: err instanceof Error ? err.message : String(err) }, `watch of ${what} failed; retrying${hint}`);
  };
  const byCascadeLabel = (o: WireObject): void => {
    const c = o.metadata?.labels?.[LABELS.cascade];
    if (c) enqueue(cascadeKey(o.metadata?.namespace, c));
  };
  const make = <T extends WireObject>(
    rt: (typeof RESOURCES)[keyof typeof RESOURCES],
    namespace: string | undefined,
    selectors: { labelSelector?: string; fieldSelector?: string },
    onChange: (o: T) => void,
    onDelete: (o: T) => void = onChange,
  ): Informer<T> => {
    const inf = new Informer<T>(opts.kubeConfig, rest, { rt, namespace, ...selectors }, clock, {
      onAdd: onChange,
      onUpdate: onChange,
      onDelete: (o) => {
        overlay.drop(rt.plural, o.metadata?.namespace, o.metadata?.name ?? '');
        onDelete(o);
      },
      onError: onInformerError(rt.plural),
    });
    informers.push(inf as unknown as Informer<WireObject>);
    return inf;
  };
  const owned = { labelSelector: `${LABELS.managedBy}=${MANAGER}` };
  const tierPods = { labelSelector: `${LABELS.cascade},${LABELS.tier}` };
  const onPod = (pod: WireObject): void => {
    byCascadeLabel(pod);
    if (opts.meter) observePods(pod);
  };
  const stores: Stores = {
    cascades: new MultiStore(
      namespaces.map((ns) =>
        make<CascadeObject>(RESOURCES.modelcascades, ns, {}, (mc) => enqueue(cascadeKey(mc.metadata.namespace, mc.metadata.name))),
      ),
    ),
    deployments: new MultiStore(namespaces.map((ns) => make(RESOURCES.deployments, ns, owned, byCascadeLabel))),
    services: new MultiStore(namespaces.map((ns) => make(RESOURCES.services, ns, owned, byCascadeLabel))),
    pods: new MultiStore(namespaces.map((ns) => make(RESOURCES.pods, ns, tierPods, onPod))),
    configMaps: make(
      RESOURCES.configmaps,
      config.router.configMapNamespace,
      { fieldSelector: `metadata.name=${config.router.configMapName}` },
      () => enqueue(ROUTER_KEY),
    ),
  };

  // The meter hears about pod changes as they happen (its GPU-seconds depend on when, not on reconciles).
  function observePods(pod: WireObject): void {
    const ns = pod.metadata?.namespace;
    const c = pod.metadata?.labels?.[LABELS.cascade];
    const tierName = pod.metadata?.labels?.[LABELS.tier];
    const mc = c ? stores.cascades.get(ns, c) : undefined;
    const tier = mc?.spec?.tiers?.find((t) => t.name === tierName);
    if (!mc || !tier || !c || !tierName) return;
    const pods = stores.pods
      .list(ns)
      .filter((p) => p.metadata?.labels?.[LABELS.cascade] === c && p.metadata?.labels?.[LABELS.tier] === tierName);
    const typed = pods.map((p) => toTyped<V1Pod>(p, 'V1Pod'));
    opts.meter?.observePods(cascadeKey(ns, c), tierName, tier.gpusPerReplica ?? 1, typed, clock.now());
  }

  const ctxBase: Omit<ReconcileContext, 'enqueueRouter'> = {
    planner,
    config,
    stores,
    rest,
    events,
    clock,
    log,
    overlay,
    guard: new ApplyLoopGuard(),
    ...(opts.scaling ? { scaling: opts.scaling } : {}),
    ...(opts.meter ? { meter: opts.meter } : {}),
  };
  const context = (): ReconcileContext => ({ ...ctxBase, enqueueRouter: () => enqueue(ROUTER_KEY) });

  // --- reconciling (leader only) -----------------------------------------------------------------------------------
  const handle = async (key: string): Promise<void> => {
    const kind = key === ROUTER_KEY ? 'router' : 'cascade';
    const end = metrics.reconcileSeconds.startTimer({ kind });
    try {
      if (kind === 'router') await reconcileRouter(context());
      else await reconcileCascade(context(), key);
      metrics.reconciles.inc({ kind, result: 'success' });
    } catch (err) {
      metrics.reconciles.inc({ kind, result: 'error' });
      throw err;
    } finally {
      end();
      metrics.cascades.set(stores.cascades.list().length);
    }
  };
  let syncedPromise: Promise<void> | undefined;
  const waitSynced = (): Promise<void> =>
    (syncedPromise ??= new Promise<void>((resolve) => {
      const check = (): void => {
        if (informers.every((i) => i.hasSynced())) resolve();
        else clock.setTimeout(check, 50);
      };
      check();
    }));

  let leading = false;
  const startLeading = async (): Promise<void> => {
    await waitSynced();
    leading = true;
    metrics.leader.set(1);
    log.info({ identity }, 'leading: reconciling');
    queue = new WorkQueue(handle, {
      clock,
      workers: opts.workers ?? 2,
      onError: (key, err, failures, retryInMs) =>
        log.warn({ key, failures, retryInMs, err: err instanceof Error ? err.message : String(err) }, 'reconcile failed; will retry'),
    });
    enqueueAll();
  };
  const stopLeading = async (): Promise<void> => {
    leading = false;
    metrics.leader.set(0);
    const q = queue;
    queue = undefined;
    await q?.shutdown();
    log.info({ identity }, 'stopped leading');
  };

  const subscriptions: (() => void)[] = [];
  // A scaling change may also change the routing cost signal, which lives in the router's configuration.
  if (opts.scaling) subscriptions.push(opts.scaling.onChange((key) => (enqueue(key), enqueue(ROUTER_KEY))));

  await Promise.all(informers.map((i) => i.start()));

  const le = config.leaderElection;
  const elector =
    (opts.leaderElection ?? le.enabled)
      ? new LeaderElector(
          rest,
          {
            namespace: le.leaseNamespace,
            name: le.leaseName,
            identity,
            leaseDurationMs: le.leaseDurationSeconds * 1000,
            renewDeadlineMs: le.renewDeadlineSeconds * 1000,
            retryPeriodMs: le.retryPeriodSeconds * 1000,
          },
          clock,
          {
            onStartedLeading: startLeading,
            onStoppedLeading: stopLeading,
            onError: (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'leader election: Lease request failed'),
          },
        )
      : undefined;
  metrics.leader.set(0);
  if (elector) elector.start();
  else void startLeading();

  let resyncTimer: TimerHandle | undefined;
  const resyncMs = opts.resyncIntervalMs ?? 0;
  const scheduleResync = (): void => {
    if (resyncMs <= 0) return;
    resyncTimer = clock.setTimeout(() => {
      enqueueAll();
      scheduleResync();
    }, resyncMs);
  };
  scheduleResync();

  let stopped = false;
  return {
    identity,
    metrics,
    rest,
    synced: () => informers.every((i) => i.hasSynced()),
    isLeader: () => leading,
    idle: async () => {
      await queue?.idle();
    },
    cascades: () =>
      stores.cascades
        .list()
        .filter((mc) => !mc.metadata.deletionTimestamp)
        .map((mc) => ({ key: cascadeKey(mc.metadata.namespace, mc.metadata.name), mc, observed: observeTiers(context(), mc) })),
    async stop(stopOpts = {}) {
      if (stopped) return;
      stopped = true;
      if (resyncTimer !== undefined) clock.clearTimeout(resyncTimer);
      for (const unsubscribe of subscriptions) unsubscribe();
      if (elector) await elector.stop({ release: stopOpts.releaseLease !== false });
      else await stopLeading();
      await Promise.all(informers.map((i) => i.stop()));
      rest.close();
    },
  };
}
