// The cost model of offline evaluation: GPU-seconds per answer and per verification of each tier. MODELLED,
// not measured: service times come from the simulator's latency profiles (router/sim/latency.ts) at a
// stated steady batch size, and GPU-seconds are attributed the way the router's meter does
// (router/cost/gpu-meter.ts): a sequence running in a batch of b holds 1/b of the replica's GPUs.
//
//   answer GPU-s = gpus/b x service(prompt tokens, answer tokens) at load b
//   verify GPU-s = gpus/b x [prefill(verification prompt) + k x (tokens per verdict - 1) x inter-token]
// The k verdicts share one prompt (one request with n=k; vLLM's prefix cache prefills it once) and each
// decodes in its own batch slot.
import { countTokens } from '../sim/tokens.js';
import { formatMmluPrompt } from '../sim/dataset.js';
import { guessProfile, interTokenMs, prefillMs, PROFILES, serviceMs, type ProfileName, type StepContext } from '../sim/latency.js';
import { buildVerificationPrompt } from '../verify/prompt.js';
import type { EvalRow } from './rows.js';

export interface TierSpec {
  /** Data model name, e.g. "Llama-2-70b-hf". */
  name: string;
  gpusPerReplica: number;
  profile: ProfileName;
}

export interface CostSettings {
  /** Sequences running on a replica while a request is served (steady state, no queueing). */
  batchSize: number;
  /** Verifier samples k per verification. */
  verifySamples: number;
  /** Tokens a verifier sample generates (a one-sentence evaluation and the verdict line). */
  verifyTokensPerSample: number;
}

export const DEFAULT_COST_SETTINGS: Readonly<CostSettings> = { batchSize: 16, verifySamples: 8, verifyTokensPerSample: 30 };

/** When the data has no question text: the mean of formatMmluPrompt over the MMLU-Pro train split (measured). */
export const FALLBACK_PROMPT_TOKENS = 219;
/** When no outputs are at hand: MMLU-Pro outputs of the 7B-70B models average 89-99 tokens (measured). */
export const FALLBACK_ANSWER_TOKENS = 95;

/** Tokens the verification prompt adds around the question and the answer (preamble, 4 demos, fields). */
export const VERIFY_PROMPT_OVERHEAD_TOKENS = countTokens(buildVerificationPrompt({ context: '', question: '', answer: '' }));

export interface TierTokens {
  promptTokens: number;
  answerTokens: number;
}

export interface TierCost {
  /** GPU-seconds of one answer. */
  answer: number;
  /** GPU-seconds of one self-verification (k samples) of that answer. */
  verify: number;
}

/** Default GPUs per replica: 4 for a 70B (tensor parallel 4, as in the simulator's profile), else 1. */
export function defaultGpus(name: string): number {
  return /70b/i.test(name) ? 4 : 1;
}

export function tierSpec(name: string, gpusPerReplica = defaultGpus(name), profile: ProfileName = guessProfile(name)): TierSpec {
  return { name, gpusPerReplica, profile };
}

function stepContext(profile: ProfileName, batchSize: number): StepContext {
  const p = PROFILES[profile];
  // A batch cannot exceed what the replica runs at once.
  return { profile: p, maxNumSeqs: p.maxNumSeqs, running: Math.min(batchSize, p.maxNumSeqs), timeScale: 1, slowFactor: 1 };
}

export function tierCost(spec: TierSpec, tokens: TierTokens, settings: CostSettings = DEFAULT_COST_SETTINGS): TierCost {
  const ctx = stepContext(spec.profile, settings.batchSize);
  const share = spec.gpusPerReplica / ctx.running / 1000; // ms of one batch slot -> GPU-seconds
  const answer = serviceMs(tokens.promptTokens, tokens.answerTokens, ctx) * share;
  const verifyPrompt = VERIFY_PROMPT_OVERHEAD_TOKENS + tokens.promptTokens + tokens.answerTokens;
  const decode = settings.verifySamples * Math.max(0, settings.verifyTokensPerSample - 1) * interTokenMs(ctx);
  const verify = (prefillMs(verifyPrompt, ctx) + decode) * share;
  return { answer, verify };
}

/** Mean prompt tokens of the rows' questions as tiermix would receive them (formatMmluPrompt), else the fallback. */
export function meanPromptTokens(rows: readonly EvalRow[]): number {
  let n = 0;
  let sum = 0;
  for (const r of rows) {
    if (r.question === undefined) continue;
    sum += countTokens(formatMmluPrompt({ question: r.question, options: r.options ?? [] }));
    n++;
  }
  return n === 0 ? FALLBACK_PROMPT_TOKENS : sum / n;
}
