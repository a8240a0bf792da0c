// A tier pod as the controller would have it created: the pod template of the planner's Deployment for one tier
// (vLLM container, args, ports, probes, labels), for tests of the process kubelet without the controller.
import type { V1Pod } from '@kubernetes/client-node';
import type { CascadeTierSpec, ModelCascade } from '../../controller/api/types.js';
import { resolveTier } from '../../controller/plan/defaults.js';
import { buildDeployment } from '../../controller/plan/deployment.js';
import { testControllerConfig } from '../k8s/controller-fixture.js';

export function plannedTierPod(tier: Partial<CascadeTierSpec> & { name: string; model: string }, namespace = 'ns', name = `ladder-${tier.name}-0`): V1Pod {
  const spec = { gpusPerReplica: 1, replicas: { min: 1, max: 1 }, ...tier } as CascadeTierSpec;
  const mc: ModelCascade = { apiVersion: 'tiermix.dev/v1alpha1', kind: 'ModelCascade', metadata: { name: 'ladder', namespace, uid: 'u1' }, spec: { tiers: [spec] } };
  const d = buildDeployment(mc, resolveTier(spec, testControllerConfig(namespace)), 1);
  return { apiVersion: 'v1', kind: 'Pod', metadata: { labels: d.spec!.template.metadata?.labels, name, namespace }, spec: d.spec!.template.spec };
}
