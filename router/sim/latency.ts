// The latency model, as pure functions of their inputs (the engine supplies the clock and the batch).
//
//   time to first token = (prefill overhead + prompt tokens x prefill time per token) x load factor
//   each later token     = inter-token latency x load factor
//   load factor          = 1 with one sequence running, rising linearly to `timeFactorUnderLoad` when
//                          max-num-seqs sequences run (the shape of llm-d-inference-sim's
//                          time-factor-under-load): a bigger decode batch makes every step slower.
//
// All values are then multiplied by the slow factor (fault injection) and the time scale.
// Figures and their sources are in docs/simulator.md.

export type ProfileName = '7b' | '13b' | '70b' | 'zero';
export const PROFILE_NAMES: readonly ProfileName[] = ['7b', '13b', '70b', 'zero'];

export interface LatencyProfile {
  name: ProfileName;
  /** What the numbers stand for, for --help and the startup log. */
  hardware: string;
  prefillOverheadMs: number;
  prefillPerTokenMs: number;
  interTokenMs: number;
  /** Slowdown of every step when max-num-seqs sequences run (1 = none). */
  timeFactorUnderLoad: number;
  /** Default --max-num-seqs for this profile. */
  maxNumSeqs: number;
  /** Tokens the KV cache holds (prompt + generated, summed over running sequences). */
  kvCapacityTokens: number;
}

export const PROFILES: Readonly<Record<ProfileName, LatencyProfile>> = {
  // Llama-2-7B / Mistral-7B, fp16, 1x A100-80GB. KV: 512 KiB/token (32 layers x 4096 x 2 x 2 B) into
  // ~58 GB left after weights at 0.9 GPU memory utilisation -> ~110k tokens.
  '7b': {
    name: '7b',
    hardware: '7B fp16 on 1x A100-80GB',
    prefillOverheadMs: 30,
    prefillPerTokenMs: 0.3,
    interTokenMs: 18,
    timeFactorUnderLoad: 2,
    maxNumSeqs: 64,
    kvCapacityTokens: 110_000,
  },
  // Llama-2-13B, fp16, 1x A100-80GB. KV: 800 KiB/token (40 x 5120 x 2 x 2 B) into ~46 GB -> ~57k tokens.
  '13b': {
    name: '13b',
    hardware: '13B fp16 on 1x A100-80GB',
    prefillOverheadMs: 45,
    prefillPerTokenMs: 0.6,
    interTokenMs: 28,
    timeFactorUnderLoad: 2,
    maxNumSeqs: 48,
    kvCapacityTokens: 57_000,
  },
  // Llama-2-70B, fp16, 4x A100-80GB (tensor parallel 4). KV with GQA: 320 KiB/token (80 x 8 heads x 128 x
  // 2 x 2 B) into ~150 GB -> ~460k tokens.
  '70b': {
    name: '70b',
    hardware: '70B fp16 on 4x A100-80GB (TP=4)',
    prefillOverheadMs: 90,
    prefillPerTokenMs: 1.2,
    interTokenMs: 45,
    timeFactorUnderLoad: 2.5,
    maxNumSeqs: 32,
    kvCapacityTokens: 460_000,
  },
  // Benchmarks of the router itself: no modelled time at all.
  zero: {
    name: 'zero',
    hardware: 'none (zero latency)',
    prefillOverheadMs: 0,
    prefillPerTokenMs: 0,
    interTokenMs: 0,
    timeFactorUnderLoad: 1,
    maxNumSeqs: 256,
    kvCapacityTokens: 1_000_000,
  },
};

/**
 * Size class from a model name: "Llama-2-13b-hf" -> 13b, "mistralai/Mistral-7B-v0.1" -> 7b. A mixture of
 * experts like "Mixtral-8x7B" decodes at about the cost of its ~13B active parameters, so it maps to 13b.
 * Names without a size (e.g. "gpt4o") fall back to 7b; pass --profile to choose.
 */
export function guessProfile(modelName: string): ProfileName {
  const base = modelName.slice(modelName.lastIndexOf('/') + 1).toLowerCase();
  if (/\d+x\d+(\.\d+)?b\b/.test(base)) return '13b';
  const m = /(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)b(?![a-z])/.exec(base);
  if (!m) return '7b';
  const billions = Number(m[1]);
  if (billions <= 9) return '7b';
  if (billions <= 30) return '13b';
  return '70b';
}

/** Slowdown of each engine step with `running` sequences in the batch (including the one asking). */
export function loadFactor(running: number, maxNumSeqs: number, timeFactorUnderLoad: number): number {
  if (maxNumSeqs <= 1 || timeFactorUnderLoad <= 1) return 1;
  const share = Math.min(1, Math.max(0, (running - 1) / (maxNumSeqs - 1)));
  return 1 + (timeFactorUnderLoad - 1) * share;
}

export interface StepContext {
  profile: LatencyProfile;
  maxNumSeqs: number;
  /** Sequences running at the moment this step is scheduled. */
  running: number;
  /** Wall-time multiplier: 1 = modelled time, 0 = no waiting at all. */
  timeScale: number;
  /** Extra multiplier of a deliberately slow replica (fault injection); 1 = normal. */
  slowFactor: number;
}

function scale(ms: number, ctx: StepContext): number {
  return ms * loadFactor(ctx.running, ctx.maxNumSeqs, ctx.profile.timeFactorUnderLoad) * ctx.slowFactor * ctx.timeScale;
}

/** Milliseconds from admission to the first output token. */
export function prefillMs(promptTokens: number, ctx: StepContext): number {
  return scale(ctx.profile.prefillOverheadMs + promptTokens * ctx.profile.prefillPerTokenMs, ctx);
}

/** Milliseconds between two output tokens. */
export function interTokenMs(ctx: StepContext): number {
  return scale(ctx.profile.interTokenMs, ctx);
}

/** Service time of one sequence in a steady batch (no queueing): prefill + (tokens - 1) steps. */
export function serviceMs(promptTokens: number, outputTokens: number, ctx: StepContext): number {
  return prefillMs(promptTokens, ctx) + Math.max(0, outputTokens - 1) * interTokenMs(ctx);
}
