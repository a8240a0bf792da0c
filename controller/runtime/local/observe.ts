// Local processes seen as the planner sees the cluster: each process a Running pod on 127.0.0.1 whose http container
// port is the process's own port (Ready when its /health answers 200), each group a Deployment that has observed its
// spec. summarizeStatus and planRouterConfigMap then work unchanged on the local runtime.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { ModelCascade } from '../../api/types.js';
import { tierObjectName } from '../../plan/names.js';
import type { ObservedTier } from '../../plan/types.js';
import type { ProcessGroup } from './process-plan.js';

const LOCAL_NODE = 'local';

export interface RunningProcess {
  id: string;
  group: string;
  hash: string;
  port: number;
  ready: boolean;
  startedAtMs: number;
  /** When `ready` last changed (the Ready condition's lastTransitionTime); absent = never, since the start. */
  readyChangedAtMs?: number;
  /** Set once a stop was requested: the pod is Terminating. */
  stopping?: boolean;
  /** When the stop was requested (the pod's deletionTimestamp). */
  stoppingSinceMs?: number;
}

function processPod(p: RunningProcess): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.id, deletionTimestamp: p.stopping ? new Date(p.stoppingSinceMs ?? p.startedAtMs) : undefined },
    spec: { nodeName: LOCAL_NODE, containers: [{ name: 'vllm', ports: [{ name: 'http', containerPort: p.port, protocol: 'TCP' }] }] },
    status: {
      phase: 'Running',
      podIP: '127.0.0.1',
      startTime: new Date(p.startedAtMs),
      conditions: [
        // Transition times let the GPU-seconds meter place loading -> ready exactly, as a kubelet's would.
        { type: 'PodScheduled', status: 'True', lastTransitionTime: new Date(p.startedAtMs) },
        { type: 'Ready', status: p.ready ? 'True' : 'False', lastTransitionTime: new Date(p.readyChangedAtMs ?? p.startedAtMs) },
      ],
    },
  };
}

/**
 * A replica whose process keeps exiting, while the runtime waits to restart it: a pod in CrashLoopBackOff, as the
 * kubelet would show it (not bound to a node, so it holds no GPU).
 */
function crashLoopPod(group: string, message: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${group.split('/')[1]}-restarting` },
    spec: { containers: [{ name: 'vllm' }] },
    status: {
      phase: 'Pending',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [{ name: 'vllm', image: '', imageID: '', ready: false, restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff', message } } }],
    },
  };
}

/**
 * What the runtime observes for each tier of a cascade: its group (if planned), the group's processes, and a
 * CrashLoopBackOff pod for a group in restart back-off (crashLooping: group key -> what the last exit said).
 */
export function observeCascade(mc: ModelCascade, groups: readonly ProcessGroup[], processes: readonly RunningProcess[], crashLooping: Readonly<Record<string, string>> = {}): ObservedTier[] {
  const ns = mc.metadata.namespace ?? 'default';
  return (mc.spec?.tiers ?? []).map((t) => {
    const key = `${ns}/${tierObjectName(mc.metadata.name, t.name)}`;
    const group = groups.find((g) => g.key === key);
    const mine = processes.filter((p) => p.group === key);
    const live = mine.filter((p) => !p.stopping);
    const deployment: V1Deployment | undefined = group && {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: key.split('/')[1], namespace: ns, generation: 1 },
      spec: { replicas: group.replicas, selector: {}, template: {} },
      status: {
        observedGeneration: 1,
        replicas: live.length,
        updatedReplicas: live.filter((p) => p.hash === group.hash).length,
        readyReplicas: live.filter((p) => p.ready).length,
      },
    };
    const pods = mine.map(processPod);
    const crash = crashLooping[key];
    if (crash !== undefined && group && live.length < group.replicas) pods.push(crashLoopPod(key, crash));
    return { name: t.name, deployment, pods };
  });
}
