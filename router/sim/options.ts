// Simulator options, shared by `tiermix sim` and startSimulator(): one schema, one set of defaults, and
// error messages that say which option is wrong and what it accepts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_SIMULATED_VERIFIER, parseVerifierSpec, type SimulatedVerifierModel } from '../verify/simulated-verifier.js';
import { defaultDataDir, OUTCOMES_FILE, type MmluQuestion } from './dataset.js';
import { guessProfile, PROFILE_NAMES, PROFILES, type LatencyProfile, type ProfileName } from './latency.js';

export interface SimLogger {
  info(message: string): void;
  warn(message: string): void;
}

export const silentLogger: SimLogger = { info: () => {}, warn: () => {} };

export interface FaultSettings {
  /** Share of completion requests answered 500. */
  failRate: number;
  /** Multiplies every modelled latency (a slow replica). */
  slowFactor: number;
  /** Share of completion requests whose socket is destroyed without an answer. */
  dropRate: number;
}

export interface SimulatorOptions extends Partial<FaultSettings> {
  /** Model (e.g. "Mistral-7B-v0.1" or "mistralai/Mistral-7B-v0.1"); picks the data file and the profile. */
  model: string;
  /** Name clients send in `model`; default the model value. */
  servedModelName?: string;
  /** MMLU-Pro folder; undefined = env TIERMIX_DATA if it exists; null = none (generated questions). */
  dataDir?: string | null;
  /** Use these questions instead of the data or the generated set (tests, demos). */
  questions?: readonly MmluQuestion[];
  /** Seed of the generated question set used when there is no data (default 1, as in the demo). */
  generatedSeed?: number;
  /** Size of that set (default 2000). */
  generatedCount?: number;
  profile?: ProfileName;
  maxNumSeqs?: number;
  /** Longest waiting queue before answering 503 (default unbounded). */
  maxWaiting?: number;
  kvCapacityTokens?: number;
  maxModelLen?: number;
  /** Multiplies all latencies: 1 = modelled time, 0 = none. */
  timeScale?: number;
  /** /health answers 503 for this long after listening (wall seconds, not scaled). */
  startupSeconds?: number;
  /** "simulated:pc=..,pw=..,kappa=.." or the model itself. */
  verifier?: string | SimulatedVerifierModel;
  /** Seed of the fault draws. */
  seed?: number;
  host?: string;
  port?: number;
  logger?: SimLogger;
}

export interface ResolvedOptions extends FaultSettings {
  model: string;
  servedModelName: string;
  dataDir: string | null;
  questions: readonly MmluQuestion[] | null;
  generatedSeed: number;
  generatedCount: number;
  profile: LatencyProfile;
  maxNumSeqs: number;
  maxWaiting: number;
  kvCapacityTokens: number;
  maxModelLen: number;
  timeScale: number;
  startupSeconds: number;
  verifier: SimulatedVerifierModel;
  seed: number;
  host: string;
  port: number;
  logger: SimLogger;
}

export class SimOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimOptionsError';
  }
}

const probability = z.number().min(0).max(1);
export const FaultSettingsSchema = z.strictObject({
  failRate: probability.optional(),
  slowFactor: z.number().min(0).max(1000).optional(),
  dropRate: probability.optional(),
});

const positiveInt = z.number().int().min(1);
const OptionsSchema = z.object({
  model: z.string().trim().min(1, 'is required, e.g. Mistral-7B-v0.1'),
  servedModelName: z.string().trim().min(1).optional(),
  profile: z.enum(PROFILE_NAMES as [ProfileName, ...ProfileName[]]).optional(),
  maxNumSeqs: positiveInt.optional(),
  maxWaiting: z.number().int().min(0).or(z.literal(Infinity)).optional(),
  kvCapacityTokens: positiveInt.optional(),
  maxModelLen: positiveInt.optional(),
  timeScale: z.number().min(0).max(1000).optional(),
  startupSeconds: z.number().min(0).max(3600).optional(),
  generatedSeed: z.number().int().optional(),
  generatedCount: z.number().int().min(0).max(1_000_000).optional(),
  seed: z.number().int().optional(),
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  failRate: probability.optional(),
  slowFactor: z.number().min(0).max(1000).optional(),
  dropRate: probability.optional(),
});

/** Context length vLLM would take from the model's config. */
export function guessMaxModelLen(model: string): number {
  const base = model.toLowerCase();
  if (/mistral|mixtral/.test(base)) return 32768;
  if (/llama-?3/.test(base)) return 8192;
  return 4096;
}

export function resolveOptions(opts: SimulatorOptions): ResolvedOptions {
  const parsed = OptionsSchema.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SimOptionsError(`option ${String(issue.path[0] ?? '')}: ${issue.message}`);
  }
  const o = parsed.data;
  let verifier: SimulatedVerifierModel = { ...DEFAULT_SIMULATED_VERIFIER };
  try {
    if (typeof opts.verifier === 'string') verifier = parseVerifierSpec(opts.verifier);
    else if (opts.verifier) verifier = { ...opts.verifier };
  } catch (err) {
    throw new SimOptionsError((err as Error).message);
  }
  if (typeof opts.dataDir === 'string' && !existsSync(join(opts.dataDir, OUTCOMES_FILE))) {
    throw new SimOptionsError(`option dataDir: ${opts.dataDir} has no ${OUTCOMES_FILE}; point it at the mmlu-pro folder, or use "none"`);
  }
  const profile = PROFILES[o.profile ?? guessProfile(o.model)];
  return {
    model: o.model,
    servedModelName: o.servedModelName ?? o.model,
    dataDir: opts.dataDir === undefined ? (defaultDataDir() ?? null) : opts.dataDir,
    questions: opts.questions ?? null,
    generatedSeed: o.generatedSeed ?? 1,
    generatedCount: o.generatedCount ?? 2000,
    profile,
    maxNumSeqs: o.maxNumSeqs ?? profile.maxNumSeqs,
    maxWaiting: o.maxWaiting ?? Infinity,
    kvCapacityTokens: o.kvCapacityTokens ?? profile.kvCapacityTokens,
    maxModelLen: o.maxModelLen ?? guessMaxModelLen(o.model),
    timeScale: o.timeScale ?? 1,
    startupSeconds: o.startupSeconds ?? 0,
    verifier,
    seed: o.seed ?? 0,
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    failRate: o.failRate ?? 0,
    slowFactor: o.slowFactor ?? 1,
    dropRate: o.dropRate ?? 0,
    logger: opts.logger ?? silentLogger,
  };
}
