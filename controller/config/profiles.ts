// Built-in GPU placement profiles: the defaults of ControllerConfig.gpuProfiles, for clusters running NVIDIA's
// device plugin with GPU Feature Discovery (which labels nodes with nvidia.com/gpu.product). Product label values
// differ between clouds and driver versions; check yours with
//   kubectl get nodes -L nvidia.com/gpu.product
// and override the profiles in the controller configuration (they replace these, they do not merge).
import type { GpuProfile } from './types.js';

/** GPU nodes are commonly tainted nvidia.com/gpu=present:NoSchedule (GKE, the GPU operator's docs); tolerate it. */
const GPU_TAINT = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' } as const;

export const BUILTIN_GPU_PROFILES: Readonly<Record<string, GpuProfile>> = {
  'nvidia-l4': {
    resourceName: 'nvidia.com/gpu',
    nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-L4' },
    tolerations: [{ ...GPU_TAINT }],
    memoryGiB: 24,
  },
  'nvidia-a100-80gb': {
    resourceName: 'nvidia.com/gpu',
    nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' },
    tolerations: [{ ...GPU_TAINT }],
    memoryGiB: 80,
  },
  'nvidia-h100-80gb': {
    resourceName: 'nvidia.com/gpu',
    nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' },
    tolerations: [{ ...GPU_TAINT }],
    memoryGiB: 80,
  },
};

export const BUILTIN_DEFAULT_GPU_PROFILE = 'nvidia-l4';
