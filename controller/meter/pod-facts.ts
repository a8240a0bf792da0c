// The lifecycle timestamps of one tier pod that the GPU-seconds meter needs, read from a V1Pod. Timestamps
// may be Date (client-node's typed models) or RFC 3339 strings (wire JSON); both are accepted.
import type { V1Pod } from '@kubernetes/client-node';

export interface PodFacts {
  /** metadata.uid (or the name when there is none). */
  uid: string;
  name: string;
  /** GPUs the pod holds once scheduled (the tier's gpusPerReplica when it was first seen). */
  gpus: number;
  /** PodScheduled=True since (GPUs are reserved on a node from here on); null = not scheduled. */
  scheduledAt: number | null;
  /** Ready=True since; null = not Ready now. */
  readySince: number | null;
  /** Ready=False since, when the pod is scheduled and not Ready (a restart after being Ready shows here). */
  notReadySince: number | null;
  /** The pod stopped holding GPUs: deletionTimestamp, or the end of its containers when it finished. */
  endedAt: number | null;
}

type Stamp = Date | string | undefined | null;

export function toMs(t: Stamp): number | null {
  if (t === undefined || t === null) return null;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

/** Facts of a pod as observed at nowMs (nowMs stands in for timestamps a finished pod does not carry). */
export function podFacts(pod: V1Pod, gpus: number, nowMs: number): PodFacts {
  const conditions = pod.status?.conditions ?? [];
  const cond = (type: string) => conditions.find((c) => c.type === type);
  const scheduled = cond('PodScheduled');
  const ready = cond('Ready');
  let scheduledAt = scheduled?.status === 'True' ? toMs(scheduled.lastTransitionTime) : null;
  // A pod bound to a node without the condition (static or hand-bound pods): from its start or creation.
  if (scheduledAt === null && pod.spec?.nodeName) scheduledAt = toMs(pod.status?.startTime) ?? toMs(pod.metadata?.creationTimestamp) ?? nowMs;
  const readySince = ready?.status === 'True' ? (toMs(ready.lastTransitionTime) ?? scheduledAt ?? nowMs) : null;
  const notReadySince = readySince === null && scheduledAt !== null && ready?.status === 'False' ? toMs(ready.lastTransitionTime) : null;
  let endedAt = toMs(pod.metadata?.deletionTimestamp);
  if (endedAt === null && (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed')) {
    const finished = (pod.status.containerStatuses ?? []).map((s) => toMs(s.state?.terminated?.finishedAt)).filter((x): x is number => x !== null);
    endedAt = finished.length > 0 ? Math.max(...finished) : nowMs;
  }
  const name = pod.metadata?.name ?? '';
  return { uid: pod.metadata?.uid ?? name, name, gpus, scheduledAt, readySince, notReadySince, endedAt };
}
