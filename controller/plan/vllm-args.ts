// The `vllm serve` command line of a tier, and the flags the controller owns (users may not set them in vllm.args:
// the controller derives them from the spec, and two values for one flag would be ambiguous).
import { VLLM_PORT } from '../api/types.js';
import type { ResolvedTier } from './defaults.js';
import { modelSource } from './model-source.js';

export const VLLM_COMMAND = ['vllm', 'serve'] as const;

/** Flags set from the spec; also their short and `=` forms are refused in vllm.args. */
export const RESERVED_FLAGS: Readonly<Record<string, string>> = {
  '--served-model-name': 'servedModelName',
  '--tensor-parallel-size': 'gpusPerReplica',
  '-tp': 'gpusPerReplica',
  '--port': '(the controller: vLLM listens on 8000)',
  '--host': '(the controller: vLLM listens on 0.0.0.0)',
  '--max-model-len': 'vllm.maxModelLen',
  '--dtype': 'vllm.dtype',
  '--gpu-memory-utilization': 'vllm.gpuMemoryUtilization',
  '--model': 'model',
};

/** The reserved flag an argument sets, if any (handles --flag=value). */
export function reservedFlagOf(arg: string): string | undefined {
  const flag = arg.split('=')[0] ?? arg;
  return Object.hasOwn(RESERVED_FLAGS, flag) ? flag : undefined;
}

export function vllmArgs(tier: ResolvedTier): string[] {
  const source = modelSource(tier.spec.model);
  const model = source.kind === 'invalid' ? tier.spec.model : source.arg;
  const v = tier.spec.vllm ?? {};
  const args = [
    model,
    '--served-model-name', tier.servedModelName,
    '--tensor-parallel-size', String(tier.gpusPerReplica),
    '--port', String(VLLM_PORT),
    '--host', '0.0.0.0',
  ];
  // Optional tuning: only when set, so vLLM's own defaults (from the model's config) apply otherwise.
  if (v.maxModelLen !== undefined) args.push('--max-model-len', String(v.maxModelLen));
  if (v.dtype !== undefined) args.push('--dtype', v.dtype);
  if (v.gpuMemoryUtilization !== undefined) args.push('--gpu-memory-utilization', String(v.gpuMemoryUtilization));
  return [...args, ...(v.args ?? [])];
}
