// The controller's own configuration (a YAML file, rendered by the Helm chart into a ConfigMap):
// GPU placement profiles that tiers refer to by name, defaults, and where the router's configuration goes.
//
// CONTRACT: shared by controller/plan, controller/runtime and charts/tiermix (values.gpuProfiles etc.).
import type { V1Affinity, V1Toleration } from '@kubernetes/client-node';

export interface GpuProfile {
  /** Extended resource name, e.g. nvidia.com/gpu (amd.com/gpu, ...). */
  resourceName: string;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  affinity?: V1Affinity;
  runtimeClassName?: string;
  /** Informational: GPU memory in GiB, used by the docs and a validation warning for large models. */
  memoryGiB?: number;
}

export interface ControllerConfig {
  /** Named placement profiles, e.g. nvidia-l4, nvidia-a100-80gb, nvidia-h100-80gb. */
  gpuProfiles: Record<string, GpuProfile>;
  defaultGpuProfile: string;
  /** Default vLLM image when a tier names none. */
  vllmImage: string;
  /** The router's configuration written by the controller (one ConfigMap for all cascades it manages). */
  router: {
    configMapNamespace: string;
    configMapName: string; // key: router.yaml
    /** Router settings other than cascades (server, verification, retry), merged in as given. */
    base?: Record<string, unknown>;
    /** The router's /metrics URLs the autoscaler scrapes (a headless Service's DNS name or pod IPs). */
    metricsUrls?: string[];
  };
  /** Namespaces watched; empty = all. */
  namespaces?: string[];
  leaderElection: { enabled: boolean; leaseName: string; leaseNamespace: string; leaseDurationSeconds: number; renewDeadlineSeconds: number; retryPeriodSeconds: number };
  /** Autoscaler tick (seconds). */
  autoscalerIntervalSeconds: number;
}
