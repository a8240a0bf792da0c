// Reconcile one ModelCascade from the caches: validate -> plan -> apply what differs -> remove tiers that left the
// spec -> summarize status -> patch the status subresource only when it changed -> Events for transitions.
// Deletion needs no code here: owned objects carry owner references and the garbage collector removes them; the
// router ConfigMap drops the cascade on its next reconcile.
import type { V1ConfigMap, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { API_VERSION, KIND, LABELS, type Condition, type ModelCascadeStatus } from '../../api/types.js';
import type { ObservedTier, SpecProblem } from '../../plan/types.js';
import type { ScalingDecision } from '../hooks.js';
import { applyIfChanged } from './apply.js';
import { cascadeKey, splitKey, type CascadeObject, type ReconcileContext } from './context.js';
import type { EventTarget } from './events.js';
import type { ReconcileResult } from './queue.js';
import { isNotFound } from './rest.js';
import { RESOURCES, type WireObject } from './resources.js';
import { toTyped, toWire } from './wire.js';

const tierLabel = (o: WireObject): string | undefined => o.metadata?.labels?.[LABELS.tier];
const cascadeLabel = (o: WireObject): string | undefined => o.metadata?.labels?.[LABELS.cascade];
const ownedBy = (o: WireObject, uid: string | undefined): boolean => !!uid && (o.metadata?.ownerReferences ?? []).some((r) => r.uid === uid);

/** The cascade as the controller currently knows it (cache, or our own newer status write). */
export function currentCascade(ctx: ReconcileContext, namespace: string, name: string): CascadeObject | undefined {
  return ctx.overlay.latest(RESOURCES.modelcascades.plural, namespace, name, ctx.stores.cascades.get(namespace, name));
}

/** Per tier: its Deployment and pods from the caches, as typed objects (what the planner and the meter read). */
export function observeTiers(ctx: ReconcileContext, mc: CascadeObject): ObservedTier[] {
  const ns = mc.metadata.namespace;
  const name = mc.metadata.name;
  const deployments = ctx.stores.deployments.list(ns).filter((d) => cascadeLabel(d) === name && ownedBy(d, mc.metadata.uid));
  const pods = ctx.stores.pods.list(ns).filter((p) => cascadeLabel(p) === name);
  return (mc.spec?.tiers ?? []).map((tier) => {
    const dep = deployments.find((d) => tierLabel(d) === tier.name);
    const latest = dep ? ctx.overlay.latest(RESOURCES.deployments.plural, ns, dep.metadata?.name ?? '', dep) : undefined;
    return {
      name: tier.name,
      ...(latest ? { deployment: toTyped<V1Deployment>(latest, 'V1Deployment') } : {}),
      pods: pods.filter((p) => tierLabel(p) === tier.name).map((p) => toTyped<V1Pod>(p, 'V1Pod')),
    };
  });
}

export async function reconcileCascade(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  const mc = currentCascade(ctx, namespace, name);
  if (!mc) {
    // Deleted: garbage collection removes what it owned; the router configuration drops it.
    ctx.meter?.forget(key);
    ctx.enqueueRouter();
    return;
  }
  if (mc.metadata.deletionTimestamp) {
    ctx.enqueueRouter();
    return;
  }
  const target: EventTarget = { apiVersion: API_VERSION, kind: KIND, metadata: mc.metadata };
  const problems: SpecProblem[] = ctx.planner.validateCascade(mc, ctx.config);
  const decisions = problems.length === 0 ? ctx.scaling?.desired(key) : undefined;
  if (problems.length === 0) await applyPlan(ctx, mc, target, decisions);

  const now = ctx.clock.now();
  const observed = observeTiers(ctx, mc);
  const gpuSeconds = ctx.meter?.gpuSeconds(key, now) ?? {};
  const reasons = decisions ? Object.fromEntries(Object.entries(decisions).map(([t, d]) => [t, d.reason])) : undefined;
  const status = ctx.planner.summarizeStatus(mc, observed, problems, gpuSeconds, now, reasons);
  if (ctx.planner.statusChanged(mc.status, status)) {
    await writeStatus(ctx, mc, status);
    await emitTransitions(ctx, target, mc.status?.conditions ?? [], status.conditions ?? []);
  }
  ctx.enqueueRouter();
}

async function applyPlan(
  ctx: ReconcileContext,
  mc: CascadeObject,
  target: EventTarget,
  decisions: Record<string, ScalingDecision> | undefined,
): Promise<void> {
  const desiredReplicas = decisions ? Object.fromEntries(Object.entries(decisions).map(([t, d]) => [t, d.desired])) : undefined;
  const plan = ctx.planner.planCascade(mc, ctx.config, desiredReplicas);
  const wanted = new Set<string>();
  const items = [
    ...plan.deployments.map((o) => ({ rt: RESOURCES.deployments, store: ctx.stores.deployments, wire: toWire(o, 'V1Deployment') })),
    ...plan.services.map((o) => ({ rt: RESOURCES.services, store: ctx.stores.services, wire: toWire(o, 'V1Service') })),
  ];
  for (const { rt, store, wire } of items) {
    const obj = wire as WireObject;
    const objName = obj.metadata?.name ?? '';
    wanted.add(`${rt.kind}/${objName}`);
    // Another cascade's object of the same name (e.g. cascade "a-b" tier "c" vs cascade "a" tier "b-c"): refuse.
    const existing = store.get(obj.metadata?.namespace, objName);
    if (existing && !ownedBy(existing, mc.metadata.uid) && cascadeLabel(existing) !== mc.metadata.name) {
      await ctx.events.emit(target, 'Warning', 'NameConflict', `${rt.kind} ${objName} belongs to cascade ${cascadeLabel(existing)}; not touching it`);
      continue;
    }
    const outcome = await applyIfChanged(ctx, rt, store, obj);
    if (outcome.action === 'conflict') {
      await ctx.events.emit(target, 'Warning', 'ApplyConflict', `${rt.kind} ${objName} exists and is managed by someone else: ${outcome.message}`);
    } else if (outcome.action === 'created') {
      ctx.log.info({ cascade: cascadeKey(mc.metadata.namespace, mc.metadata.name), object: `${rt.kind}/${objName}` }, 'created');
      await ctx.events.emit(target, 'Normal', 'Created', `Created ${rt.kind} ${objName}`);
    } else if (outcome.action === 'updated') {
      ctx.log.info({ cascade: cascadeKey(mc.metadata.namespace, mc.metadata.name), object: `${rt.kind}/${objName}`, field: outcome.changed }, 'updated');
      const before = (outcome.before as { spec?: { replicas?: number } }).spec?.replicas;
      const after = (obj as { spec?: { replicas?: number } }).spec?.replicas;
      if (rt === RESOURCES.deployments && before !== undefined && after !== undefined && before !== after) {
        const tier = tierLabel(obj) ?? objName;
        const why = decisions?.[tier]?.reason;
        await ctx.events.emit(target, 'Normal', 'Scaled', `Scaled tier ${tier} from ${before} to ${after} replicas${why ? `: ${why}` : ''}`);
      } else {
        await ctx.events.emit(target, 'Normal', 'Updated', `Updated ${rt.kind} ${objName} (${outcome.changed})`);
      }
    }
  }
  await pruneRemovedTiers(ctx, mc, target, wanted);
}

/** Deletes Deployments and Services this cascade owns that its plan no longer contains (a tier was removed). */
async function pruneRemovedTiers(ctx: ReconcileContext, mc: CascadeObject, target: EventTarget, wanted: Set<string>): Promise<void> {
  const ns = mc.metadata.namespace;
  for (const [rt, store] of [
    [RESOURCES.deployments, ctx.stores.deployments],
    [RESOURCES.services, ctx.stores.services],
  ] as const) {
    for (const obj of store.list(ns)) {
      const objName = obj.metadata?.name ?? '';
      if (cascadeLabel(obj) !== mc.metadata.name || !ownedBy(obj, mc.metadata.uid) || obj.metadata?.deletionTimestamp) continue;
      if (wanted.has(`${rt.kind}/${objName}`)) continue;
      try {
        await ctx.rest.delete(rt, ns, objName, { uid: obj.metadata?.uid });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      ctx.overlay.drop(rt.plural, ns, objName);
      await ctx.events.emit(target, 'Normal', 'Deleted', `Deleted ${rt.kind} ${objName} (tier ${tierLabel(obj) ?? '?'} left the spec)`);
    }
  }
}

/** JSON merge patch of the status subresource; keys that disappeared are nulled so nothing stale survives. */
async function writeStatus(ctx: ReconcileContext, mc: CascadeObject, status: ModelCascadeStatus): Promise<void> {
  const patch: Record<string, unknown> = { ...status };
  for (const k of Object.keys(mc.status ?? {})) if (!(k in patch)) patch[k] = null;
  const cachedRv = ctx.stores.cascades.get(mc.metadata.namespace, mc.metadata.name)?.metadata?.resourceVersion;
  const result = await ctx.rest.mergePatch<CascadeObject>(RESOURCES.modelcascades, mc.metadata.namespace, mc.metadata.name, { status: patch }, 'status');
  ctx.overlay.remember(RESOURCES.modelcascades.plural, mc.metadata.namespace, mc.metadata.name, cachedRv, result);
}

/** One Event per condition whose status or reason changed (not for message-only changes, which would be noisy). */
async function emitTransitions(ctx: ReconcileContext, target: EventTarget, before: Condition[], after: Condition[]): Promise<void> {
  for (const c of after) {
    const old = before.find((b) => b.type === c.type);
    if (old && old.status === c.status && old.reason === c.reason) continue;
    if (!old && c.type === 'Degraded' && c.status === 'False') continue; // "not degraded" from the start is no news
    const warning = (c.type === 'Degraded' && c.status === 'True') || c.reason === 'InvalidSpec';
    await ctx.events.emit(target, warning ? 'Warning' : 'Normal', c.reason, `${c.type}=${c.status}: ${c.message}`);
  }
}

/** The router's ConfigMap for every cascade in the cache, applied when its content changed. */
export async function reconcileRouter(ctx: ReconcileContext): Promise<ReconcileResult> {
  const cascades = ctx.stores.cascades
    .list()
    .filter((mc) => !mc.metadata.deletionTimestamp)
    .map((mc) => currentCascade(ctx, mc.metadata.namespace ?? '', mc.metadata.name) ?? mc)
    .sort((a, b) => cascadeKey(a.metadata.namespace, a.metadata.name).localeCompare(cascadeKey(b.metadata.namespace, b.metadata.name)))
    .map((mc) => {
      const costMultiplier = ctx.scaling?.routingCostMultiplier?.(cascadeKey(mc.metadata.namespace, mc.metadata.name));
      return { mc, observed: observeTiers(ctx, mc), ...(costMultiplier !== undefined ? { costMultiplier } : {}) };
    });
  const cm: V1ConfigMap = ctx.planner.planRouterConfigMap(cascades, ctx.config);
  const wire = toWire(cm, 'V1ConfigMap') as WireObject;
  wire.metadata = { ...wire.metadata, namespace: wire.metadata?.namespace ?? ctx.config.router.configMapNamespace };
  // The ConfigMap is ours by configuration (the chart may create it empty): always take its fields.
  const outcome = await applyIfChanged(ctx, RESOURCES.configmaps, ctx.stores.configMaps, wire, { alwaysForce: true });
  if (outcome.action === 'created' || outcome.action === 'updated') {
    ctx.log.info({ configMap: `${wire.metadata.namespace}/${wire.metadata.name}`, cascades: cascades.length }, 'router configuration written');
  }
}
