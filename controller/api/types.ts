// The ModelCascade API (tiermix.dev/v1alpha1) as TypeScript types: what an operator writes (spec) and what the
// controller reports (status). The CRD's structural OpenAPI schema (controller/api/crd.ts) is the validating
// twin of these types; the two are kept in step by a unit test.
//
// CONTRACT: this file is shared by controller/plan, controller/runtime, controller/autoscale, controller/meter
// and the Helm chart. Change field names only together with all of them.
import type { V1Affinity, V1EnvFromSource, V1EnvVar, V1Toleration } from '@kubernetes/client-node';

export const GROUP = 'tiermix.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'ModelCascade';
export const PLURAL = 'modelcascades';
export const SINGULAR = 'modelcascade';
export const SHORT_NAMES = ['mc', 'cascade'];
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** Labels on every object the controller makes (selectors use the last two). */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by', // value: MANAGER
  component: 'app.kubernetes.io/component', // value: 'vllm' for tier pods
  cascade: 'tiermix.dev/cascade',
  tier: 'tiermix.dev/tier',
} as const;
/** Server-side apply field manager and managed-by label value. */
export const MANAGER = 'tiermix';
/** Port vLLM (and the simulator) listens on inside a tier pod. */
export const VLLM_PORT = 8000;

export interface VllmSpec {
  /** Container image; default from the controller configuration (vllm/vllm-openai:<pinned>). */
  image?: string;
  /** Extra `vllm serve` arguments, appended after the ones the controller sets. */
  args?: string[];
  maxModelLen?: number;
  /** auto | half | float16 | bfloat16 | float | float32 */
  dtype?: string;
  /** (0, 1]; vLLM's --gpu-memory-utilization. */
  gpuMemoryUtilization?: number;
}

export interface ModelCacheSpec {
  /** Mount an existing PVC at the Hugging Face cache path... */
  pvc?: { claimName: string };
  /** ...or an emptyDir (the default, sizeLimit optional). */
  emptyDir?: { sizeLimit?: string };
}

export interface TierAutoscalingSpec {
  /** In-flight requests one replica should carry (KubeAI's targetRequests). Default 8. */
  targetInFlightPerReplica?: number;
  /** Consecutive lower recommendations must last this long before scaling down. Default 120. */
  scaleDownDelaySeconds?: number;
}

export interface CascadeTierSpec {
  /** DNS label (lowercase letters, digits, '-'; <= 40 chars); unique within the cascade. */
  name: string;
  /** Hugging Face id (org/name) or a URI (s3://, gs://, pvc://, file://). */
  model: string;
  /** Name vLLM serves the model under (--served-model-name); default: `model`. */
  servedModelName?: string;
  vllm?: VllmSpec;
  /** GPUs per replica, also vLLM's --tensor-parallel-size. Default 1. */
  gpusPerReplica: number;
  /** A placement profile from the controller configuration (GpuProfile); default: its defaultGpuProfile. */
  gpuProfile?: string;
  /** CPU and memory requests (= limits for memory) per replica, as quantities. */
  resources?: { cpu?: string; memory?: string };
  /** Default {min: 1, max: 1}. min may be 0 (scale from zero). */
  replicas: { min: number; max: number };
  autoscaling?: TierAutoscalingSpec;
  cache?: ModelCacheSpec;
  env?: V1EnvVar[];
  envFrom?: V1EnvFromSource[];
  /** Secret key that becomes HF_TOKEN (gated models such as Llama 2). */
  huggingFaceToken?: { secretName: string; key: string };
}

export interface RoutingSpec {
  /** Classifier directory inside the router image (default: the shipped default-ladder model) or 'none'. */
  classifier?: string;
  verifier?: { samples?: number; temperature?: number };
  /** Exactly one of lambda (accuracy per GPU-second) or a GPU-seconds budget per request held online. */
  objective?: { lambda?: number; gpuSecondsPerRequest?: number };
}

export interface ModelCascadeSpec {
  /** Smallest (cheapest) tier first; 1-8 tiers. */
  tiers: CascadeTierSpec[];
  routing?: RoutingSpec;
  /** Optional cap on GPUs the whole cascade may hold (issue: autoscaling). */
  maxGpus?: number;
}

export type ConditionType = 'Ready' | 'Progressing' | 'Degraded';

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  /** CamelCase, e.g. AllTiersReady, PodsUnschedulable, InvalidSpec, RollingOut. */
  reason: string;
  message: string;
  lastTransitionTime: string; // RFC 3339
  observedGeneration?: number;
}

export interface TierStatus {
  name: string;
  /** Pods of the tier's Deployment (status.replicas). */
  replicas: number;
  readyReplicas: number;
  /** What the controller asked for (autoscaler output, clamped to spec.replicas). */
  desiredReplicas: number;
  /** Base URLs of ready replicas (http://<podIP>:8000), as written into the router configuration. */
  endpoints: string[];
  /** Metered GPU-seconds of this tier since the cascade was created (all states). */
  gpuSeconds: number;
  /** Last scaling reason, if any. */
  scalingReason?: string;
}

export interface ModelCascadeStatus {
  observedGeneration?: number;
  tiers?: TierStatus[];
  /** Printer-column summaries: tier count, "ready/total", GPUs held by scheduled pods, GPU-seconds (rounded). */
  tierCount?: number;
  readyTiers?: string;
  gpusInUse?: number;
  gpuSeconds?: number;
  conditions?: Condition[];
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface ModelCascade {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: ModelCascadeSpec;
  status?: ModelCascadeStatus;
}

/** Toleration/affinity types re-exported for GpuProfile (controller/config). */
export type { V1Affinity, V1Toleration };
