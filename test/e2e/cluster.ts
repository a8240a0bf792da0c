// The cluster side of the end-to-end run: GPU nodes matching the chart's GPU profiles, `helm install` of
// charts/tiermix, the controller configuration as the release rendered it, and the example ModelCascade.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import type { ModelCascade } from '../../controller/api/types.js';
import { validateControllerConfig } from '../../controller/config/load.js';
import type { ControllerConfig } from '../../controller/config/types.js';
import type { FakeNodeSpec } from '../k8s/fake-kubelet.js';
import { CHART_DIR, REPO_ROOT, helm } from '../unit/chart/helm.js';

const RELEASE = 'tiermix';
export const NAMESPACE = 'tiermix';
const CONTROLLER_CONFIGMAP = 'tiermix-controller';
const CONTROLLER_DEPLOYMENT = 'tiermix-controller';
export const ROUTER_CONFIGMAP = 'tiermix-router';

/** One node per GPU profile of the chart (nvidia.com/gpu.product as GPU feature discovery labels it). */
export const NODES: FakeNodeSpec[] = [
  { name: 'gpu-l4-0', gpus: 4, gpuProduct: 'NVIDIA-L4', cpu: '64', memory: '512Gi' },
  { name: 'gpu-a100-0', gpus: 2, gpuProduct: 'NVIDIA-A100-SXM4-80GB', cpu: '64', memory: '512Gi' },
  { name: 'gpu-h100-0', gpus: 4, gpuProduct: 'NVIDIA-H100-80GB-HBM3', cpu: '64', memory: '512Gi' },
];

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * `helm install` with the chart's defaults, except: no router pods (router.replicas 0; the router runs as a local
 * process) and a 1 s autoscaler tick. The schema keeps controller.replicas >= 1, so the chart's controller
 * Deployment is scaled to 0 afterwards, as an operator running the controller outside the cluster would: a fake
 * pod marked Running would claim a controller that is not there. Returns helm's output.
 */
export async function helmInstall(kc: KubeConfig, kubeconfigPath: string): Promise<string> {
  const r = helm(
    ['install', RELEASE, CHART_DIR, '-n', NAMESPACE, '--create-namespace', '--set', 'router.replicas=0', '--set', 'controller.autoscalerIntervalSeconds=1', '--timeout', '60s'],
    { kubeconfig: kubeconfigPath },
  );
  if (r.status !== 0) throw new Error(`helm install failed (${r.status}):\n${r.stderr}`);
  await kc.makeApiClient(AppsV1Api).patchNamespacedDeployment({ name: CONTROLLER_DEPLOYMENT, namespace: NAMESPACE, body: { spec: { replicas: 0 } } }, mergePatch);
  // The ladder's 13B and 70B tiers name this Secret for HF_TOKEN (docs/install.md, step 1).
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: NAMESPACE,
    body: { metadata: { name: 'hf-token' }, stringData: { token: 'hf_e2e_not_a_real_token' } },
  });
  return r.stdout;
}

/**
 * The controller configuration the release rendered (ConfigMap tiermix-controller, key controller.yaml), with one
 * change: the router's /metrics URL is the local router's, since the chart's headless Service has no pods behind
 * it here. Returns the YAML to write and the parsed configuration.
 */
export async function releasedControllerConfig(kc: KubeConfig, routerMetricsUrl: string): Promise<{ yaml: string; config: ControllerConfig; rendered: ControllerConfig }> {
  const cm = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: CONTROLLER_CONFIGMAP, namespace: NAMESPACE });
  const text = cm.data?.['controller.yaml'];
  if (!text) throw new Error(`ConfigMap ${NAMESPACE}/${CONTROLLER_CONFIGMAP} has no controller.yaml`);
  const raw = parse(text) as { router: { metricsUrls?: string[] } };
  const rendered = validateControllerConfig(structuredClone(raw), 'released controller.yaml');
  raw.router.metricsUrls = [routerMetricsUrl];
  const yaml = stringify(raw);
  return { yaml, config: validateControllerConfig(parse(yaml), 'e2e controller.yaml'), rendered };
}

/** Per-tier overrides of the example: a small in-flight target so scaling shows within seconds, and small maxima. */
const E2E_TIER_SETTINGS: Record<string, { targetInFlightPerReplica: number; max: number }> = {
  'mistral-7b': { targetInFlightPerReplica: 2, max: 3 },
  'llama-2-13b': { targetInFlightPerReplica: 1, max: 2 },
  'llama-2-70b': { targetInFlightPerReplica: 4, max: 1 },
};

/** manifests/examples/ladder.yaml (rendered from the chart's values-ladder.yaml), with E2E_TIER_SETTINGS applied. */
export function exampleLadder(namespace: string): ModelCascade {
  const mc = parse(readFileSync(join(REPO_ROOT, 'manifests', 'examples', 'ladder.yaml'), 'utf8')) as ModelCascade;
  mc.metadata.namespace = namespace;
  for (const tier of mc.spec.tiers) {
    const s = E2E_TIER_SETTINGS[tier.name];
    if (!s) throw new Error(`manifests/examples/ladder.yaml: unexpected tier ${tier.name}`);
    tier.autoscaling = { ...tier.autoscaling, targetInFlightPerReplica: s.targetInFlightPerReplica };
    tier.replicas = { min: tier.replicas.min, max: s.max };
  }
  return mc;
}
