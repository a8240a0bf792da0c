// The expected Deployment of one tier: `replicas` pods of the vLLM server with the tier's GPUs, placed by its GPU
// profile. Pure and deterministic: the same inputs give the same object, byte for byte once canonicalized.
import type { V1Container, V1Deployment, V1EnvVar, V1PodSpec, V1Probe, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { VLLM_PORT, type ModelCascade } from '../api/types.js';
import { canonical } from './canonical.js';
import type { ResolvedTier } from './defaults.js';
import { MODEL_MOUNT_PATH, modelSource } from './model-source.js';
import { ownerReferences, tierLabels, tierObjectName, tierSelector } from './names.js';
import { VLLM_COMMAND, vllmArgs } from './vllm-args.js';

/** Hugging Face cache inside the pod (HF_HOME); the model cache volume is mounted here. */
export const HF_CACHE_PATH = '/root/.cache/huggingface';
/** Used when a tier's profile is unknown (validation refuses such a spec; this keeps the builder total). */
const FALLBACK_GPU_RESOURCE = 'nvidia.com/gpu';

/** Startup: loading a 70B model (download + weights into GPU memory) can take many minutes; allow 30. */
const startupProbe: V1Probe = { httpGet: { path: '/health', port: 'http' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 180 };
/** Readiness gates the router's endpoint list (plan/router-config.ts lists Ready pods only). */
const readinessProbe: V1Probe = { httpGet: { path: '/health', port: 'http' }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 };
/** Liveness: restart an engine that stopped answering for about a minute (a busy engine still answers /health). */
const livenessProbe: V1Probe = { httpGet: { path: '/health', port: 'http' }, periodSeconds: 15, timeoutSeconds: 10, failureThreshold: 4 };

function env(tier: ResolvedTier): V1EnvVar[] {
  const ours: V1EnvVar[] = [{ name: 'HF_HOME', value: HF_CACHE_PATH }];
  const token = tier.spec.huggingFaceToken;
  if (token) ours.push({ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: token.secretName, key: token.key } } });
  // Env is a list keyed by name for server-side apply: a duplicate name is an error, so the user's value replaces ours.
  const user = tier.spec.env ?? [];
  const userNames = new Set(user.map((e) => e.name));
  const seen = new Set<string>();
  const lastWins = [...user].reverse().filter((e) => !seen.has(e.name) && seen.add(e.name)).reverse();
  return [...ours.filter((e) => !userNames.has(e.name)), ...lastWins];
}

function volumes(tier: ResolvedTier): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const cache = tier.spec.cache;
  const vols: V1Volume[] = [
    // NCCL (tensor parallel) and PyTorch's dataloader use shared memory; the container runtime's 64 MiB /dev/shm is
    // too small. Memory-backed, so it counts against the pod's memory (the limit bounds it; no separate sizeLimit).
    { name: 'dshm', emptyDir: { medium: 'Memory' } },
    cache?.pvc
      ? { name: 'model-cache', persistentVolumeClaim: { claimName: cache.pvc.claimName } }
      : { name: 'model-cache', emptyDir: cache?.emptyDir?.sizeLimit ? { sizeLimit: cache.emptyDir.sizeLimit } : {} },
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'dshm', mountPath: '/dev/shm' },
    { name: 'model-cache', mountPath: HF_CACHE_PATH },
  ];
  const source = modelSource(tier.spec.model);
  if (source.kind === 'pvc') {
    vols.push({ name: 'model', persistentVolumeClaim: { claimName: source.claimName, readOnly: true } });
    mounts.push({ name: 'model', mountPath: MODEL_MOUNT_PATH, readOnly: true });
  }
  return { volumes: vols, mounts };
}

function container(tier: ResolvedTier, mounts: V1VolumeMount[]): V1Container {
  const gpu = tier.profile?.resourceName ?? FALLBACK_GPU_RESOURCE;
  const gpus = String(tier.gpusPerReplica);
  const { cpu, memory } = tier.spec.resources ?? {};
  return {
    name: 'vllm',
    image: tier.image,
    imagePullPolicy: 'IfNotPresent',
    command: [...VLLM_COMMAND],
    args: vllmArgs(tier),
    ports: [{ name: 'http', containerPort: VLLM_PORT, protocol: 'TCP' }],
    env: env(tier),
    envFrom: tier.spec.envFrom?.length ? tier.spec.envFrom : undefined,
    // Extended resources (GPUs) must have requests = limits. Memory: request = limit, so the pod is never OOM-killed
    // for using what it asked for. CPU: a request only; a CPU limit would throttle tokenization and scheduling.
    resources: {
      requests: { [gpu]: gpus, ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) },
      limits: { [gpu]: gpus, ...(memory ? { memory } : {}) },
    },
    volumeMounts: mounts,
    startupProbe,
    readinessProbe,
    livenessProbe,
    lifecycle: {
      // Keep serving for a while after deletion starts: the router drops the pod from its endpoints when the pod is
      // Terminating, and needs the ConfigMap update to reach it (reload polling + kubelet sync) before vLLM stops.
      preStop: { exec: { command: ['sleep', '15'] } },
    },
    terminationMessagePolicy: 'FallbackToLogsOnError',
    // As tight as the official vLLM image allows. The image has no USER and runs as root: its caches (Hugging Face,
    // torch.compile, Triton, FlashInfer) live under /root/.cache, and runAsNonRoot would refuse to start it
    // ("image will run as root"). Running it as another uid would need a writable HOME for every one of those
    // caches and breaks with some vLLM versions. So: root inside the container, but with every capability
    // dropped, no privilege escalation and the runtime's seccomp profile (pod level). The root filesystem stays
    // writable: vLLM and its kernels write compiled artifacts to paths under / that change between versions.
    // Images that run as a non-root user can be used as they are (nothing here forces root).
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    },
  };
}

function podSpec(tier: ResolvedTier): V1PodSpec {
  const { volumes: vols, mounts } = volumes(tier);
  const profile = tier.profile;
  return {
    containers: [container(tier, mounts)],
    volumes: vols,
    nodeSelector: profile?.nodeSelector && Object.keys(profile.nodeSelector).length ? { ...profile.nodeSelector } : undefined,
    tolerations: profile?.tolerations?.length ? profile.tolerations.map((t) => ({ ...t })) : undefined,
    affinity: profile?.affinity,
    runtimeClassName: profile?.runtimeClassName,
    // vLLM reads VLLM_PORT from its environment; Kubernetes' service links would set it to "tcp://..." when a
    // Service named vllm exists in the namespace, and vLLM then fails to start. The pod needs no service env vars.
    enableServiceLinks: false,
    // vLLM never talks to the Kubernetes API.
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: 45,
    securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
  };
}

export function buildDeployment(mc: ModelCascade, tier: ResolvedTier, replicas: number): V1Deployment {
  const cascade = mc.metadata.name;
  const labels = tierLabels(cascade, tier.name);
  return canonical({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: tierObjectName(cascade, tier.name),
      namespace: mc.metadata.namespace,
      labels,
      ownerReferences: ownerReferences(mc),
    },
    spec: {
      replicas,
      selector: { matchLabels: tierSelector(cascade, tier.name) },
      // Replace one pod at a time without a surge pod: a surge would need a spare replica's worth of GPUs, which a
      // full GPU pool does not have (the rollout would hang Pending). While a single-replica tier restarts, the
      // router serves its requests from a neighbouring tier.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
      // Longer than the startup probe's 30 minutes, so a slow model load is not reported as a failed rollout.
      progressDeadlineSeconds: 2400,
      revisionHistoryLimit: 3,
      template: {
        metadata: { labels },
        spec: podSpec(tier),
      },
    },
  } satisfies V1Deployment);
}
