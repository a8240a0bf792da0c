// Shared shapes of the demo: the ladder it runs and what it records about each request.

export interface DemoTier {
  /** The router's tier name (`<cascade>/<tier>`, as the controller writes it); also the `model` a pinned request sends. */
  name: string;
  /** The tier's name in the ModelCascade (the controller's metrics label it so). */
  tier: string;
  /** Model the simulator plays and the router sends upstream (the data's model name; vLLM's served model name). */
  model: string;
  /** The ModelCascade's spec.tiers[].model (a Hugging Face id). */
  hfModel: string;
  gpusPerReplica: number;
  /** spec.tiers[].replicas and autoscaling: small targets and a short delay, so scaling shows within the demo. */
  replicas: { min: number; max: number };
  targetInFlightPerReplica: number;
}

export const DEMO_CASCADE = 'ladder';

/** The cascade the issue asks for: Mistral-7B -> Llama-2-13B -> Llama-2-70B (TP=4). */
export const DEMO_TIERS: readonly DemoTier[] = [
  { name: `${DEMO_CASCADE}/mistral-7b`, tier: 'mistral-7b', model: 'Mistral-7B-v0.1', hfModel: 'mistralai/Mistral-7B-v0.1', gpusPerReplica: 1, replicas: { min: 1, max: 4 }, targetInFlightPerReplica: 4 },
  { name: `${DEMO_CASCADE}/llama-2-13b`, tier: 'llama-2-13b', model: 'Llama-2-13b-hf', hfModel: 'meta-llama/Llama-2-13b-hf', gpusPerReplica: 1, replicas: { min: 1, max: 2 }, targetInFlightPerReplica: 3 },
  { name: `${DEMO_CASCADE}/llama-2-70b`, tier: 'llama-2-70b', model: 'Llama-2-70b-hf', hfModel: 'meta-llama/Llama-2-70b-hf', gpusPerReplica: 4, replicas: { min: 1, max: 3 }, targetInFlightPerReplica: 3 },
];

/** The routing policy the demo's router runs (the router configuration's `policy` block). */
export type DemoPolicy =
  | { type: 'threshold'; threshold: number }
  | {
      type: 'pomdp';
      /** builtin:default-ladder or a folder written by tiermix train. */
      model: string;
      classifier: boolean;
      objective: { lambda: number } | { gpuSecondsPerRequest: number };
      /** measured: a running mean of the metered calls; configured: the fitted (modelled) costs, fixed. */
      costs: 'measured' | 'configured';
    };

/** One line saying what the policy does, for the report. */
export function describePolicy(p: DemoPolicy): string {
  if (p.type === 'threshold') return `threshold: escalate one tier while the verifier confidence is below ${p.threshold}`;
  const objective = 'lambda' in p.objective ? `lambda ${p.objective.lambda}` : `a budget of ${p.objective.gpuSecondsPerRequest} GPU-s per request (lambda held online)`;
  const costs = p.costs === 'measured' ? 'tier costs measured online' : 'tier costs fixed at the fitted (modelled) values';
  return `pomdp: ${p.model}, ${p.classifier ? 'query classifier prior' : 'empirical prior (no classifier)'}, ${objective}, ${costs}`;
}

/** One tier a routed request visited, from the response's tiermix.steps. */
export interface StepRecord {
  tier: string;
  outcome: string;
  /** As the router measured it: wall-clock GPU-seconds (not yet divided by the time scale). */
  gpuSeconds: number;
  /** Wall seconds of the tier's answer and verification calls. */
  seconds: number;
  /** The tier's answer was self-verified (a verification call was made). */
  verified?: boolean;
}

/** What the demo's client saw for one request. */
export interface RequestResult {
  questionId: number;
  ok: boolean;
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  /** Wall seconds from sending to the last byte of the body, at the demo's client. */
  latencySeconds: number;
  /** Tier whose answer was returned (tiermix.tier). */
  tier: string | null;
  /** tiermix.gpu_seconds, wall-clock. */
  gpuSeconds: number;
  /** tiermix.steps for routed requests; empty for pinned ones. */
  steps: StepRecord[];
  /** Letter in the answer equals the gold letter; null when the request failed. */
  correct: boolean | null;
  /** The response's usage: tokens of the returned answer's call only (verification and earlier tiers not included). */
  usage?: { prompt: number; completion: number };
  error?: string;
}
