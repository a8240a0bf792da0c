// The ModelCascade CustomResourceDefinition (apiextensions.k8s.io/v1): a structural OpenAPI v3 schema with defaults
// and the validation Kubernetes v1.20 can express. Cross-field rules (min <= max, a known gpuProfile, reserved vLLM
// flags, ...) cannot be written here (CEL x-kubernetes-validations arrived in v1.23): controller/plan/validate.ts
// checks them and the controller reports them as an InvalidSpec condition.
//
// Exported as a plain object (crd) and as YAML text (crdYaml()). Send the text, or an object built from it, to the
// API server: client-node 1.4's typed models drop `default`, `enum` and `x-kubernetes-*` from plain objects.
import { stringify } from 'yaml';
import { GROUP, KIND, PLURAL, SHORT_NAMES, SINGULAR, VERSION, CRD_NAME } from './types.js';

/** A JSON-schema node as the CRD writes it (a loose shape: the schema is data, checked by tests and the server). */
export type Schema = { [key: string]: unknown };

const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const int = (extra: Schema = {}): Schema => ({ type: 'integer', ...extra });
const num = (extra: Schema = {}): Schema => ({ type: 'number', ...extra });
const bool = (extra: Schema = {}): Schema => ({ type: 'boolean', ...extra });
const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({ type: 'object', properties, ...extra });
const arr = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
/** Anything (an opaque Kubernetes sub-object we pass through, e.g. valueFrom). */
const opaque = (description: string): Schema => ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });

/** Kubernetes resource quantity, e.g. 8, 500m, 32Gi (the apiserver's own quantity regex, simplified). */
const QUANTITY = '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$';
/** DNS-1123 label: what a tier name must be to become part of Deployment and Service names. */
export const TIER_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const TIER_NAME_MAX = 40;
export const MAX_TIERS = 8;
export const MAX_GPUS_PER_REPLICA = 16;
export const DTYPES = ['auto', 'half', 'float16', 'bfloat16', 'float', 'float32'] as const;

const envVar = obj(
  {
    name: str({ minLength: 1 }),
    value: str(),
    valueFrom: opaque('As in a container: secretKeyRef, configMapKeyRef, fieldRef or resourceFieldRef.'),
  },
  { required: ['name'] },
);

const envFromSource = obj({
  prefix: str(),
  configMapRef: obj({ name: str(), optional: bool() }, { required: ['name'] }),
  secretRef: obj({ name: str(), optional: bool() }, { required: ['name'] }),
});

const vllm = obj(
  {
    image: str({ description: "Container image; default: the controller configuration's vllmImage.", minLength: 1 }),
    args: arr(str(), { description: 'Extra `vllm serve` arguments, appended after the ones the controller sets.' }),
    maxModelLen: int({ description: "vLLM's --max-model-len.", minimum: 1 }),
    dtype: str({ description: "vLLM's --dtype.", enum: [...DTYPES] }),
    gpuMemoryUtilization: num({ description: "vLLM's --gpu-memory-utilization, in (0, 1].", exclusiveMinimum: true, minimum: 0, maximum: 1 }),
  },
  { description: 'The vLLM server of this tier.' },
);

const tier = obj(
  {
    name: str({ description: 'DNS label, unique within the cascade; Deployment and Service are named <cascade>-<tier>.', pattern: TIER_NAME_PATTERN, minLength: 1, maxLength: TIER_NAME_MAX }),
    model: str({ description: 'Hugging Face id (org/name, or hf://org/name) or a URI: file:///path, pvc://<claim>/<path>, s3://, gs://.', minLength: 1 }),
    servedModelName: str({ description: 'Name vLLM serves the model under (--served-model-name); default: model.', minLength: 1 }),
    vllm,
    gpusPerReplica: int({ description: "GPUs per replica, also vLLM's --tensor-parallel-size.", minimum: 1, maximum: MAX_GPUS_PER_REPLICA, default: 1 }),
    gpuProfile: str({ description: "A GPU placement profile of the controller configuration; default: its defaultGpuProfile.", minLength: 1 }),
    resources: obj(
      {
        cpu: str({ description: 'CPU request per replica (no limit is set).', pattern: QUANTITY }),
        memory: str({ description: 'Memory request and limit per replica.', pattern: QUANTITY }),
      },
      { description: 'CPU and memory per replica.' },
    ),
    replicas: obj(
      {
        min: int({ description: 'Fewest replicas; 0 allows scale from zero.', minimum: 0, default: 1 }),
        max: int({ description: 'Most replicas; must be >= min (checked by the controller).', minimum: 1, default: 1 }),
      },
      { default: { min: 1, max: 1 } },
    ),
    autoscaling: obj({
      targetInFlightPerReplica: num({ description: 'In-flight requests one replica should carry. Default 8.', exclusiveMinimum: true, minimum: 0 }),
      scaleDownDelaySeconds: int({ description: 'A lower recommendation must last this long before scaling down. Default 120.', minimum: 0 }),
    }),
    cache: obj(
      {
        pvc: obj({ claimName: str({ minLength: 1 }) }, { required: ['claimName'] }),
        emptyDir: obj({ sizeLimit: str({ pattern: QUANTITY }) }),
      },
      { description: 'Model cache at the Hugging Face cache path: an existing PVC or an emptyDir (the default); set at most one.' },
    ),
    env: arr(envVar, { description: 'Extra environment variables of the vLLM container.' }),
    envFrom: arr(envFromSource),
    huggingFaceToken: obj(
      { secretName: str({ minLength: 1 }), key: str({ minLength: 1 }) },
      { description: 'Secret key that becomes HF_TOKEN (gated models such as Llama 2).', required: ['secretName', 'key'] },
    ),
  },
  { required: ['name', 'model'] },
);

const routing = obj(
  {
    classifier: str({ description: "Classifier directory inside the router image, or 'none'; default: the shipped default-ladder model.", minLength: 1 }),
    verifier: obj({
      samples: int({ description: 'Self-verification samples k.', minimum: 1, maximum: 64 }),
      temperature: num({ description: 'Sampling temperature of the verification samples.', minimum: 0, maximum: 2 }),
    }),
    objective: obj(
      {
        lambda: num({ description: 'Accuracy one GPU-second is worth (fixed).', minimum: 0 }),
        gpuSecondsPerRequest: num({ description: 'GPU-seconds per request the router holds by adjusting lambda online.', exclusiveMinimum: true, minimum: 0 }),
      },
      {
        description: 'Exactly one of lambda or gpuSecondsPerRequest.',
        oneOf: [{ required: ['lambda'] }, { required: ['gpuSecondsPerRequest'] }],
      },
    ),
  },
  { description: "How the router routes requests to this cascade (its pomdp policy)." },
);

const spec = obj(
  {
    tiers: arr(tier, {
      description: 'Smallest (cheapest) tier first.',
      minItems: 1,
      maxItems: MAX_TIERS,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    }),
    routing,
    maxGpus: int({ description: 'Cap on GPUs the whole cascade may hold.', minimum: 1 }),
  },
  { required: ['tiers'] },
);

const condition = obj(
  {
    type: str(),
    status: str({ enum: ['True', 'False', 'Unknown'] }),
    reason: str(),
    message: str(),
    lastTransitionTime: str({ format: 'date-time' }),
    observedGeneration: int(),
  },
  { required: ['type', 'status'] },
);

const tierStatus = obj(
  {
    name: str(),
    replicas: int(),
    readyReplicas: int(),
    desiredReplicas: int(),
    endpoints: arr(str()),
    gpuSeconds: num(),
    scalingReason: str(),
  },
  { required: ['name'] },
);

const status = obj({
  observedGeneration: int(),
  tiers: arr(tierStatus, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }),
  tierCount: int(),
  readyTiers: str(),
  gpusInUse: int(),
  gpuSeconds: num(),
  conditions: arr(condition, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
});

export const modelCascadeSchema: Schema = obj(
  { apiVersion: str(), kind: str(), metadata: { type: 'object' }, spec, status },
  { required: ['spec'] },
);

export const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: CRD_NAME, labels: { 'app.kubernetes.io/name': 'tiermix', 'app.kubernetes.io/component': 'crd' } },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: [...SHORT_NAMES], categories: ['tiermix'] },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Tiers', type: 'integer', jsonPath: '.status.tierCount', description: 'Tiers in the cascade' },
          { name: 'Ready', type: 'string', jsonPath: '.status.readyTiers', description: 'Tiers with a ready replica / all tiers' },
          { name: 'GPUs', type: 'integer', jsonPath: '.status.gpusInUse', description: 'GPUs held by scheduled pods' },
          { name: 'GPU-seconds', type: 'number', jsonPath: '.status.gpuSeconds', description: 'Metered GPU-seconds since creation' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: { openAPIV3Schema: modelCascadeSchema },
      },
    ],
  },
} as const;

export const CRD_FILE_HEADER =
  '# Generated by controller/api/write-crd.ts from controller/api/crd.ts: do not edit.\n' +
  '# Regenerate: npx tsc -p . && node dist/controller/api/write-crd.js\n';

/** The CRD as YAML text (with a header that says it is generated). */
export function crdYaml(): string {
  return CRD_FILE_HEADER + stringify(crd, { lineWidth: 0 });
}
