// Fixtures for the planner's unit tests: the controller configuration with the built-in profiles, and pods in the
// states the status and router configuration care about.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { exampleCascade } from '../../../../controller/api/example.js';
import type { ModelCascade } from '../../../../controller/api/types.js';
import { defaultControllerConfig } from '../../../../controller/config/load.js';
import type { ControllerConfig } from '../../../../controller/config/types.js';

export const config: ControllerConfig = defaultControllerConfig();

export function cascade(mutate?: (mc: ModelCascade) => void): ModelCascade {
  const mc = exampleCascade();
  mc.metadata.uid = '0b1c2d3e-0000-4000-8000-000000000001';
  mc.metadata.generation = 3;
  mutate?.(mc);
  return mc;
}

export interface PodState {
  name: string;
  ip?: string;
  ready?: boolean;
  node?: string;
  terminating?: boolean;
  unschedulable?: string;
  waiting?: { reason: string; message?: string };
}

export function pod(s: PodState): V1Pod {
  const scheduled = s.unschedulable === undefined;
  return {
    metadata: { name: s.name, deletionTimestamp: s.terminating ? new Date('2024-01-01T00:00:00Z') : undefined },
    spec: { containers: [{ name: 'vllm', ports: [{ name: 'http', containerPort: 8000 }] }], nodeName: scheduled ? (s.node ?? 'gpu-node-1') : undefined },
    status: {
      phase: scheduled ? 'Running' : 'Pending',
      podIP: scheduled ? s.ip : undefined,
      conditions: [
        scheduled
          ? { type: 'PodScheduled', status: 'True' }
          : { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: s.unschedulable },
        { type: 'Ready', status: s.ready ? 'True' : 'False' },
      ],
      containerStatuses: s.waiting ? [{ name: 'vllm', ready: false, restartCount: 3, image: 'x', imageID: '', state: { waiting: s.waiting } }] : undefined,
    },
  } as V1Pod;
}

/** A Deployment that has caught up with its spec (generation observed, all replicas updated). */
export function settledDeployment(replicas: number, generation = 1): V1Deployment {
  return {
    metadata: { generation },
    spec: { replicas, selector: {}, template: {} },
    status: { observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: replicas },
  } as V1Deployment;
}
