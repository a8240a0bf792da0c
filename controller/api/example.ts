// An example ModelCascade: the Mistral-7B -> Llama-2-13B -> Llama-2-70B ladder the router's shipped classifier was
// trained for. Used by tests, the docs (docs/modelcascade.md) and the local runtime's demo.
import { API_VERSION, KIND, type ModelCascade } from './types.js';

export function exampleCascade(name = 'ladder', namespace = 'default'): ModelCascade {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace },
    spec: {
      tiers: [
        {
          name: 'mistral-7b',
          model: 'mistralai/Mistral-7B-v0.1',
          servedModelName: 'Mistral-7B-v0.1',
          gpusPerReplica: 1,
          gpuProfile: 'nvidia-l4',
          vllm: { maxModelLen: 8192, dtype: 'bfloat16', gpuMemoryUtilization: 0.9 },
          resources: { cpu: '4', memory: '24Gi' },
          replicas: { min: 1, max: 4 },
          autoscaling: { targetInFlightPerReplica: 16 },
        },
        {
          name: 'llama-2-13b',
          model: 'meta-llama/Llama-2-13b-hf',
          servedModelName: 'Llama-2-13b-hf',
          gpusPerReplica: 1,
          gpuProfile: 'nvidia-a100-80gb',
          resources: { cpu: '8', memory: '64Gi' },
          replicas: { min: 1, max: 2 },
          huggingFaceToken: { secretName: 'hf-token', key: 'token' },
        },
        {
          name: 'llama-2-70b',
          model: 'meta-llama/Llama-2-70b-hf',
          servedModelName: 'Llama-2-70b-hf',
          gpusPerReplica: 4,
          gpuProfile: 'nvidia-a100-80gb',
          resources: { cpu: '16', memory: '160Gi' },
          replicas: { min: 0, max: 2 },
          cache: { pvc: { claimName: 'hf-cache-70b' } },
          huggingFaceToken: { secretName: 'hf-token', key: 'token' },
        },
      ],
      routing: { verifier: { samples: 8, temperature: 1 }, objective: { lambda: 0.3 } },
      maxGpus: 16,
    },
  };
}
