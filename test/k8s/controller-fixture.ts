// Helpers for the controller's tests on the real control plane: a controller configuration for a test namespace,
// the controller started in-process with the real planner, and small ModelCascade client calls.
// No side effects on import (node --test loads every file under dist/test).
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { GROUP, PLURAL, VERSION, type ModelCascade, type ModelCascadeSpec } from '../../controller/api/types.js';
import { validateControllerConfig } from '../../controller/config/load.js';
import type { ControllerConfig } from '../../controller/config/types.js';
import type { PolicyRule } from '../../controller/runtime/rbac.js';
import { planner } from '../../controller/plan/index.js';
import {
  startKubernetesController,
  type KubernetesController,
  type KubernetesControllerOptions,
} from '../../controller/runtime/kubernetes/controller.js';
import { waitFor } from './wait.js';

/** Built-in GPU profiles; router ConfigMap and Lease in `namespace`; leader election off unless asked for. */
export function testControllerConfig(namespace: string, overrides: Record<string, unknown> = {}): ControllerConfig {
  return validateControllerConfig({
    defaultGpuProfile: 'nvidia-h100-80gb',
    router: { configMapNamespace: namespace, configMapName: 'tiermix-router' },
    leaderElection: { enabled: false, leaseNamespace: namespace, leaseName: 'tiermix-controller' },
    ...overrides,
  });
}

/** The controller in this process; logs are silent unless TIERMIX_CONTROLLER_LOG=<level>. */
export function startTestController(
  kc: KubeConfig,
  config: ControllerConfig,
  extra: Partial<KubernetesControllerOptions> = {},
): Promise<KubernetesController> {
  return startKubernetesController({
    kubeConfig: kc,
    config,
    planner,
    logger: pino({ name: 'tiermix-controller', level: process.env.TIERMIX_CONTROLLER_LOG ?? 'silent' }),
    ...extra,
  });
}

export function cascade(name: string, namespace: string, spec: ModelCascadeSpec): ModelCascade {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'ModelCascade', metadata: { name, namespace }, spec };
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** ModelCascade calls as a user (kubectl) would make them. */
export function cascadeClient(kc: KubeConfig) {
  const api = kc.makeApiClient(CustomObjectsApi);
  const base = { group: GROUP, version: VERSION, plural: PLURAL };
  return {
    create: async (mc: ModelCascade): Promise<ModelCascade> =>
      (await api.createNamespacedCustomObject({ ...base, namespace: mc.metadata.namespace ?? 'default', body: mc })) as ModelCascade,
    get: async (namespace: string, name: string): Promise<ModelCascade> =>
      (await api.getNamespacedCustomObject({ ...base, namespace, name })) as ModelCascade,
    list: async (namespace: string): Promise<ModelCascade[]> =>
      ((await api.listNamespacedCustomObject({ ...base, namespace })) as { items: ModelCascade[] }).items,
    patch: async (namespace: string, name: string, body: unknown): Promise<ModelCascade> =>
      (await api.patchNamespacedCustomObject({ ...base, namespace, name, body }, mergePatch)) as ModelCascade,
    delete: async (namespace: string, name: string): Promise<void> => {
      await api.deleteNamespacedCustomObject({ ...base, namespace, name });
    },
  };
}

export const condition = (mc: ModelCascade | undefined, type: string) => mc?.status?.conditions?.find((c) => c.type === type);

/**
 * A KubeConfig for a new ServiceAccount bound (ClusterRole + ClusterRoleBinding) to exactly `rules`: runs the
 * controller with the permissions the chart grants, so a call outside the RBAC contract fails with 403.
 * Needs the full control plane (kube-controller-manager's token controller writes the account's token Secret).
 */
export async function serviceAccountKubeConfig(
  admin: KubeConfig,
  namespace: string,
  name: string,
  rules: readonly PolicyRule[],
): Promise<KubeConfig> {
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createClusterRole({ body: { metadata: { name }, rules: rules.map((r) => ({ ...r })) } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const token = await waitFor(`token Secret of ServiceAccount ${namespace}/${name}`, async () => {
    const secrets = (await core.listNamespacedSecret({ namespace, fieldSelector: 'type=kubernetes.io/service-account-token' })).items;
    const s = secrets.find((x) => x.metadata?.annotations?.['kubernetes.io/service-account.name'] === name);
    return s?.data?.token ? Buffer.from(s.data.token, 'base64').toString('utf8') : undefined;
  });
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('admin kubeconfig has no cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token }],
    contexts: [{ name, cluster: cluster.name, user: name, namespace }],
    currentContext: name,
  });
  return kc;
}
