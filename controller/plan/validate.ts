// What the CRD schema cannot say (Kubernetes v1.20 has no CEL): cross-field rules, references to the controller
// configuration, and the limits that come from the names of the objects the spec turns into. The schema's own rules
// are checked again here too, because the local runtime has no API server to apply them.
import { DTYPES, MAX_GPUS_PER_REPLICA, MAX_TIERS, TIER_NAME_MAX, TIER_NAME_PATTERN } from '../api/crd.js';
import type { CascadeTierSpec, ModelCascade } from '../api/types.js';
import type { ControllerConfig } from '../config/types.js';
import { resolveTier } from './defaults.js';
import { modelSource } from './model-source.js';
import { BUILTIN_MODEL_TIERS, BUILTIN_MODEL_VERIFIER_SAMPLES, usesBuiltinModel } from './routing.js';
import { tierObjectName } from './names.js';
import type { SpecProblem } from './types.js';
import { RESERVED_FLAGS, reservedFlagOf } from './vllm-args.js';

const TIER_NAME = new RegExp(TIER_NAME_PATTERN);
/** Service names are DNS-1035 labels: a letter first, at most 63 characters. */
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

const isInt = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n);
const isNum = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

function validateTier(mc: ModelCascade, t: CascadeTierSpec, at: string, config: ControllerConfig, add: (path: string, message: string) => void): void {
  if (typeof t.name !== 'string' || !TIER_NAME.test(t.name) || t.name.length > TIER_NAME_MAX) {
    add(`${at}.name`, `must be a DNS label of at most ${TIER_NAME_MAX} characters (lowercase letters, digits, "-")`);
  } else {
    const object = tierObjectName(mc.metadata.name, t.name);
    if (object.length > 63 || !DNS_1035.test(object)) {
      add(`${at}.name`, `the tier's Deployment and Service would be named "${object}", which is not a DNS-1035 label of at most 63 characters (letter first, no "."); shorten the cascade or tier name`);
    }
  }
  if (typeof t.model !== 'string' || t.model === '') add(`${at}.model`, 'is required (a Hugging Face id or a URI)');
  else {
    const source = modelSource(t.model);
    if (source.kind === 'invalid') add(`${at}.model`, source.message);
  }
  if (t.servedModelName !== undefined && (typeof t.servedModelName !== 'string' || t.servedModelName === '')) add(`${at}.servedModelName`, 'must be a non-empty string');
  const tier = resolveTier(t, config);
  if (!isInt(tier.gpusPerReplica) || tier.gpusPerReplica < 1 || tier.gpusPerReplica > MAX_GPUS_PER_REPLICA) {
    add(`${at}.gpusPerReplica`, `must be an integer from 1 to ${MAX_GPUS_PER_REPLICA} (one node's GPUs: vLLM's tensor parallelism)`);
  }
  if (!tier.profile) {
    const known = Object.keys(config.gpuProfiles).sort().join(', ') || '(none)';
    add(`${at}.gpuProfile`, `unknown GPU profile "${tier.profileName}"; the controller configuration has: ${known}`);
  }
  const { min, max } = tier.replicas;
  if (!isInt(min) || min < 0) add(`${at}.replicas.min`, 'must be an integer >= 0');
  if (!isInt(max) || max < 1) add(`${at}.replicas.max`, 'must be an integer >= 1');
  if (isInt(min) && isInt(max) && min > max) add(`${at}.replicas`, `min (${min}) is greater than max (${max})`);
  const a = t.autoscaling;
  if (a?.targetInFlightPerReplica !== undefined && !(isNum(a.targetInFlightPerReplica) && a.targetInFlightPerReplica > 0)) add(`${at}.autoscaling.targetInFlightPerReplica`, 'must be a number > 0');
  if (a?.scaleDownDelaySeconds !== undefined && !(isInt(a.scaleDownDelaySeconds) && a.scaleDownDelaySeconds >= 0)) add(`${at}.autoscaling.scaleDownDelaySeconds`, 'must be an integer >= 0');
  const v = t.vllm ?? {};
  if (v.maxModelLen !== undefined && !(isInt(v.maxModelLen) && v.maxModelLen >= 1)) add(`${at}.vllm.maxModelLen`, 'must be an integer >= 1');
  if (v.dtype !== undefined && !(DTYPES as readonly string[]).includes(v.dtype)) add(`${at}.vllm.dtype`, `must be one of ${DTYPES.join(', ')}`);
  if (v.gpuMemoryUtilization !== undefined && !(isNum(v.gpuMemoryUtilization) && v.gpuMemoryUtilization > 0 && v.gpuMemoryUtilization <= 1)) add(`${at}.vllm.gpuMemoryUtilization`, 'must be in (0, 1]');
  (v.args ?? []).forEach((arg, i) => {
    const flag = reservedFlagOf(arg);
    if (flag) add(`${at}.vllm.args[${i}]`, `${flag} is set by the controller; use ${RESERVED_FLAGS[flag]} instead`);
  });
  for (const key of ['cpu', 'memory'] as const) {
    const q = t.resources?.[key];
    if (q !== undefined && !QUANTITY.test(q)) add(`${at}.resources.${key}`, `"${q}" is not a quantity (e.g. 8, 500m, 32Gi)`);
  }
  if (t.cache?.pvc && t.cache?.emptyDir) add(`${at}.cache`, 'set either pvc or emptyDir, not both');
  if (t.cache?.pvc && !t.cache.pvc.claimName) add(`${at}.cache.pvc.claimName`, 'is required');
  const hf = t.huggingFaceToken;
  if (hf && (!hf.secretName || !hf.key)) add(`${at}.huggingFaceToken`, 'needs both secretName and key');
  const envNames = new Set<string>();
  (t.env ?? []).forEach((e, i) => {
    if (!e?.name) add(`${at}.env[${i}].name`, 'is required');
    else if (envNames.has(e.name)) add(`${at}.env[${i}].name`, `"${e.name}" is set twice`);
    else envNames.add(e.name);
  });
}

export function validateCascade(mc: ModelCascade, config: ControllerConfig): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const tiers = mc.spec?.tiers;
  if (!Array.isArray(tiers) || tiers.length === 0) {
    add('spec.tiers', 'needs at least one tier');
    return problems;
  }
  if (tiers.length > MAX_TIERS) add('spec.tiers', `has ${tiers.length} tiers; at most ${MAX_TIERS}`);
  const seen = new Map<string, number>();
  tiers.forEach((t, i) => {
    const at = `spec.tiers[${i}]`;
    if (t === null || typeof t !== 'object') {
      add(at, 'must be an object');
      return;
    }
    if (typeof t.name === 'string' && seen.has(t.name)) add(`${at}.name`, `"${t.name}" is already the name of spec.tiers[${seen.get(t.name)}]`);
    else if (typeof t.name === 'string') seen.set(t.name, i);
    validateTier(mc, t, at, config, add);
  });

  const routing = mc.spec.routing;
  const obj = routing?.objective;
  if (obj) {
    const has = [obj.lambda !== undefined, obj.gpuSecondsPerRequest !== undefined].filter(Boolean).length;
    if (has !== 1) add('spec.routing.objective', 'set exactly one of lambda or gpuSecondsPerRequest');
    if (obj.lambda !== undefined && !(isNum(obj.lambda) && obj.lambda >= 0)) add('spec.routing.objective.lambda', 'must be a number >= 0');
    if (obj.gpuSecondsPerRequest !== undefined && !(isNum(obj.gpuSecondsPerRequest) && obj.gpuSecondsPerRequest > 0)) add('spec.routing.objective.gpuSecondsPerRequest', 'must be a number > 0');
  }
  const ver = routing?.verifier;
  if (ver?.samples !== undefined && !(isInt(ver.samples) && ver.samples >= 1 && ver.samples <= 64)) add('spec.routing.verifier.samples', 'must be an integer from 1 to 64');
  if (ver?.temperature !== undefined && !(isNum(ver.temperature) && ver.temperature >= 0 && ver.temperature <= 2)) add('spec.routing.verifier.temperature', 'must be a number from 0 to 2');
  if (routing?.classifier !== undefined && (typeof routing.classifier !== 'string' || routing.classifier === '')) add('spec.routing.classifier', "must be a directory in the router image or 'none'");
  // The router refuses the shipped model with another k (its confidence bins were fitted for k=8).
  if (usesBuiltinModel(routing) && tiers.length === BUILTIN_MODEL_TIERS && ver?.samples !== undefined && ver.samples !== BUILTIN_MODEL_VERIFIER_SAMPLES) {
    add('spec.routing.verifier.samples', `the shipped routing model was fitted for ${BUILTIN_MODEL_VERIFIER_SAMPLES} verifier samples; use ${BUILTIN_MODEL_VERIFIER_SAMPLES}, or a model trained with tiermix train --verify-samples ${ver.samples} (spec.routing.classifier)`);
  }

  const maxGpus = mc.spec.maxGpus;
  if (maxGpus !== undefined) {
    if (!isInt(maxGpus) || maxGpus < 1) add('spec.maxGpus', 'must be an integer >= 1');
    else {
      const floor = tiers.reduce((sum, t) => sum + (t?.replicas?.min ?? 1) * (t?.gpusPerReplica ?? 1), 0);
      if (floor > maxGpus) add('spec.maxGpus', `${maxGpus} is less than the ${floor} GPUs the tiers' replicas.min already hold`);
    }
  }
  return problems;
}
