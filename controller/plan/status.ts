// The ModelCascade's status from what the runtime observed: per-tier replicas and endpoints, the printer-column
// summaries, and the conditions Ready, Progressing and Degraded with a reason and a message a person can act on
// (for example the scheduler's "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.").
//
// Pure: the clock comes in as nowMs. lastTransitionTime only moves when a condition's status changes, and the output
// is canonical, so statusChanged() is false in steady state and the runtime writes nothing.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Condition, ConditionType, ModelCascade, ModelCascadeStatus, TierStatus } from '../api/types.js';
import { canonical, sameJson } from './canonical.js';
import { desiredReplicasOf, resolveTier, type ResolvedTier } from './defaults.js';
import { readyEndpoints } from './router-config.js';
import type { ObservedTier, SpecProblem } from './types.js';

/** Container waiting reasons that will not fix themselves: the tier is Degraded until someone acts. */
const FAILING_REASONS = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

/** RFC 3339 with second precision, as Kubernetes writes metav1.Time (so it round-trips unchanged). */
export function rfc3339(nowMs: number): string {
  return new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const byName = (a: V1Pod, b: V1Pod) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : (a.metadata?.name ?? '') > (b.metadata?.name ?? '') ? 1 : 0);
const terminal = (p: V1Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
/** Pods that count as replicas: not terminating, not finished. */
const active = (p: V1Pod) => !p.metadata?.deletionTimestamp && !terminal(p);
/** Pods that hold GPUs: bound to a node and not finished (a Terminating pod still holds its GPUs). */
const holdsGpus = (p: V1Pod) => Boolean(p.spec?.nodeName) && !terminal(p);

function unschedulable(pod: V1Pod): string | undefined {
  const c = (pod.status?.conditions ?? []).find((x) => x.type === 'PodScheduled');
  return c && c.status === 'False' && c.reason === 'Unschedulable' ? (c.message ?? 'unschedulable') : undefined;
}

function failing(pod: V1Pod): string | undefined {
  for (const cs of pod.status?.containerStatuses ?? []) {
    const w = cs.state?.waiting;
    if (w?.reason && FAILING_REASONS.has(w.reason)) return w.message ? `${w.reason}: ${w.message}` : w.reason;
  }
  return undefined;
}

function deadlineExceeded(d: V1Deployment | undefined): string | undefined {
  const c = (d?.status?.conditions ?? []).find((x) => x.type === 'Progressing');
  return c && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded' ? (c.message ?? 'progress deadline exceeded') : undefined;
}

interface TierView {
  tier: ResolvedTier;
  status: TierStatus;
  deployment: V1Deployment | undefined;
  gpusHeld: number;
  /** First problem of each kind, from the pods in name order. */
  unschedulable?: string;
  failing?: string;
  deadline?: string;
  /** Why the tier is not settled at its desired replicas, or undefined when it is. */
  unsettled?: { reason: string; detail: string };
}

function viewTier(tier: ResolvedTier, obs: ObservedTier | undefined, gpuSeconds: number, reason: string | undefined): TierView {
  const pods = [...(obs?.pods ?? [])].sort(byName);
  const deployment = obs?.deployment;
  const endpoints = readyEndpoints(pods);
  const replicas = pods.filter(active).length;
  const desired = deployment?.spec?.replicas ?? desiredReplicasOf(tier);
  const status: TierStatus = {
    name: tier.name,
    replicas,
    readyReplicas: endpoints.length,
    desiredReplicas: desired,
    endpoints,
    gpuSeconds: Math.round(gpuSeconds * 10) / 10,
    scalingReason: reason,
  };
  const view: TierView = { tier, status, deployment, gpusHeld: pods.filter(holdsGpus).length * tier.gpusPerReplica };
  view.unschedulable = pods.filter(active).map(unschedulable).find((m) => m !== undefined);
  view.failing = pods.filter(active).map(failing).find((m) => m !== undefined);
  view.deadline = deadlineExceeded(deployment);
  const counts = `${endpoints.length}/${desired} ready, ${replicas} pods`;
  const generation = deployment?.metadata?.generation;
  const updated = deployment?.status?.updatedReplicas ?? 0;
  if (!deployment) view.unsettled = { reason: 'Creating', detail: `${tier.name}: Deployment not created yet` };
  else if ((generation !== undefined && (deployment.status?.observedGeneration ?? 0) < generation) || updated < Math.min(desired, replicas)) {
    view.unsettled = { reason: 'RollingOut', detail: `${tier.name}: rolling out (${counts})` };
  } else if (replicas < desired) view.unsettled = { reason: 'ScalingUp', detail: `${tier.name}: scaling up (${counts})` };
  else if (replicas > desired) view.unsettled = { reason: 'ScalingDown', detail: `${tier.name}: scaling down (${counts})` };
  else if (endpoints.length < desired) view.unsettled = { reason: 'WaitingForReady', detail: `${tier.name}: waiting for ready replicas (${counts})` };
  return view;
}

/** Serving: at least one Ready replica, or scaled to zero on purpose (the router holds or falls back meanwhile). */
const available = (v: TierView) => v.status.readyReplicas > 0 || v.status.desiredReplicas === 0;

function conditionsFor(views: TierView[], problems: SpecProblem[]): Omit<Condition, 'lastTransitionTime'>[] {
  const cond = (type: ConditionType, status: Condition['status'], reason: string, message: string) => ({ type, status, reason, message });
  if (problems.length > 0) {
    const message = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    return [
      cond('Ready', 'False', 'InvalidSpec', message),
      cond('Progressing', 'False', 'InvalidSpec', 'the spec is invalid; nothing is applied until it is fixed'),
      cond('Degraded', 'True', 'InvalidSpec', message),
    ];
  }
  const unschedulable = views.filter((v) => v.unschedulable).map((v) => `tier ${v.tier.name}: pods unschedulable: ${v.unschedulable}`);
  const failing = views.filter((v) => v.failing).map((v) => `tier ${v.tier.name}: ${v.failing}`);
  const deadline = views.filter((v) => v.deadline).map((v) => `tier ${v.tier.name}: ${v.deadline}`);

  const notReady = views.filter((v) => !available(v));
  let ready;
  if (notReady.length === 0) ready = cond('Ready', 'True', 'AllTiersReady', `${views.length}/${views.length} tiers have a ready replica`);
  else {
    const blocked = notReady.filter((v) => v.unschedulable || v.failing);
    const reason = blocked.some((v) => v.unschedulable) ? 'PodsUnschedulable' : blocked.length > 0 ? 'ContainersFailing' : 'TiersNotReady';
    const details = notReady.map((v) => v.unschedulable ? `${v.tier.name} (unschedulable: ${v.unschedulable})` : v.failing ? `${v.tier.name} (${v.failing})` : `${v.tier.name} (0/${v.status.desiredReplicas} ready)`);
    ready = cond('Ready', 'False', reason, `tiers without a ready replica: ${details.join(', ')}`);
  }

  const unsettled = views.filter((v) => v.unsettled);
  const progressing = unsettled.length > 0
    ? cond('Progressing', 'True', unsettled[0]!.unsettled!.reason, unsettled.map((v) => v.unsettled!.detail).join('; '))
    : cond('Progressing', 'False', 'Stable', 'every tier runs its desired replicas, all ready');

  let degraded;
  if (unschedulable.length > 0) degraded = cond('Degraded', 'True', 'PodsUnschedulable', unschedulable.join('; '));
  else if (failing.length > 0) degraded = cond('Degraded', 'True', 'ContainersFailing', failing.join('; '));
  else if (deadline.length > 0) degraded = cond('Degraded', 'True', 'ProgressDeadlineExceeded', deadline.join('; '));
  else degraded = cond('Degraded', 'False', 'AsExpected', 'no unschedulable pods, failing containers or stalled rollouts');
  return [ready, progressing, degraded];
}

export function summarizeStatus(
  mc: ModelCascade,
  observed: ObservedTier[],
  problems: SpecProblem[],
  gpuSeconds: Record<string, number>,
  nowMs: number,
  scalingReasons: Record<string, string> = {},
): ModelCascadeStatus {
  const tiers = (mc.spec?.tiers ?? []).map((t) => resolveTier(t));
  const views = tiers.map((t) => viewTier(t, observed.find((o) => o.name === t.name), gpuSeconds[t.name] ?? 0, scalingReasons[t.name]));
  const previous = mc.status?.conditions ?? [];
  const generation = mc.metadata.generation;
  const conditions: Condition[] = conditionsFor(views, problems).map((c) => {
    const before = previous.find((p) => p.type === c.type);
    const lastTransitionTime = before && before.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : rfc3339(nowMs);
    return { ...c, lastTransitionTime, observedGeneration: generation };
  });
  const total = Object.values(gpuSeconds).reduce((s, x) => s + (Number.isFinite(x) ? x : 0), 0);
  return canonical({
    observedGeneration: generation,
    tiers: views.map((v) => v.status),
    tierCount: views.length,
    readyTiers: `${views.filter(available).length}/${views.length}`,
    gpusInUse: views.reduce((s, v) => s + v.gpusHeld, 0),
    gpuSeconds: Math.round(total),
    conditions,
  });
}

function normalize(s: ModelCascadeStatus): ModelCascadeStatus {
  return {
    ...s,
    tiers: s.tiers ? [...s.tiers].map((t) => ({ ...t, endpoints: [...(t.endpoints ?? [])].sort() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) : undefined,
    conditions: s.conditions ? [...s.conditions].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)) : undefined,
  };
}

/** True when b differs from a in content (key order, list order of tiers/conditions/endpoints and undefined fields ignored). */
export function statusChanged(a: ModelCascadeStatus | undefined, b: ModelCascadeStatus): boolean {
  if (a === undefined) return true;
  return !sameJson(normalize(a), normalize(b));
}
