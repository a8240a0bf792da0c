// The POMDP's fitted parameters on disk (pomdp.json beside the classifier's model.onnx): what `tiermix train`
// writes and the router loads before requests arrive. Plain JSON of a PomdpModel (counts are kept as the
// smoothed probabilities and raw counts fitModel produced), plus what the live router needs to use it
// safely: the tier names it was fitted for, the verifier it was fitted with, and the modelled per-tier
// occupancy seconds that seed the live cost estimate.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnswerFormat } from './answer.js';
import type { PomdpModel } from './model.js';

export const POMDP_FILE = 'pomdp.json';
export const POMDP_FORMAT = 'tiermix-pomdp/1';

export interface PomdpParams {
  format: typeof POMDP_FORMAT;
  /** Data model names, smallest first. */
  tiers: string[];
  answerFormat: AnswerFormat;
  /** How the verifier observations of the fitted rows were obtained: "none", "real" or a simulated spec. */
  verifier: string;
  /** Verifier samples k the confidence bins were fitted for (bins 0..k). */
  verifierSamples: number;
  /**
   * Seconds of one replica's time a call occupies (its service time / the calls sharing the replica), per tier,
   * MODELLED at training time (router/train/cost.ts); the router multiplies them by gpusPerReplica and starts
   * its cost estimate there.
   */
  occupancySeconds: { answer: number[]; verify: number[]; note: string };
  /** The fitted model (fitModel on the train split). */
  model: {
    alpha: number;
    n: number;
    jointPrior: number[];
    verify: number[][][];
    pUnknown: number[];
    /** Answer-pattern counts by patternKey. */
    answers: Record<string, number[]>;
  };
  training: { data: string; split: string; rows: number; createdAt: string };
}

export function paramsFromModel(
  model: PomdpModel,
  meta: Omit<PomdpParams, 'format' | 'model' | 'verifierSamples'>,
): PomdpParams {
  if (meta.tiers.length !== model.tiers) throw new RangeError(`${meta.tiers.length} tier names for a ${model.tiers}-tier model`);
  return {
    format: POMDP_FORMAT,
    ...meta,
    verifierSamples: model.bins,
    model: {
      alpha: model.alpha,
      n: model.n,
      jointPrior: [...model.jointPrior],
      verify: model.verify.map((t) => t.map((c) => [...c])),
      pUnknown: [...model.pUnknown],
      answers: Object.fromEntries([...model.answers].map(([k, v]) => [k, [...v]])),
    },
  };
}

const isNumArray = (v: unknown, len?: number): v is number[] =>
  Array.isArray(v) && (len === undefined || v.length === len) && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0);

/** Check and convert parsed JSON; every problem names the field. */
export function modelFromParams(p: PomdpParams, where = POMDP_FILE): PomdpModel {
  const bad = (field: string, why: string) => new Error(`${where}: ${field} ${why}`);
  if (p?.format !== POMDP_FORMAT) throw bad('format', `is ${JSON.stringify(p?.format)}, expected ${POMDP_FORMAT}`);
  const n = Array.isArray(p.tiers) ? p.tiers.length : 0;
  if (n < 1 || n > 8) throw bad('tiers', `must list 1..8 tier names`);
  const S = 1 << n;
  const k = p.verifierSamples;
  if (!Number.isInteger(k) || k < 1) throw bad('verifierSamples', 'must be an integer >= 1');
  const m = p.model;
  if (!isNumArray(m?.jointPrior, S)) throw bad('model.jointPrior', `must hold ${S} probabilities`);
  if (!isNumArray(m.pUnknown, n)) throw bad('model.pUnknown', `must hold ${n} shares`);
  if (!Array.isArray(m.verify) || m.verify.length !== n || m.verify.some((t) => !Array.isArray(t) || t.length !== 2 || t.some((c) => !isNumArray(c, k + 1)))) {
    throw bad('model.verify', `must be [${n}][2][${k + 1}] probabilities`);
  }
  if (typeof m.answers !== 'object' || m.answers === null) throw bad('model.answers', 'must be an object of counts');
  const answers = new Map<string, Float64Array>();
  for (const [key, counts] of Object.entries(m.answers)) {
    if (!isNumArray(counts) || counts.length % S !== 0) throw bad(`model.answers["${key}"]`, `must hold a multiple of ${S} counts`);
    answers.set(key, Float64Array.from(counts));
  }
  if (!(m.alpha > 0)) throw bad('model.alpha', 'must be > 0');
  for (const f of ['answer', 'verify'] as const) {
    if (!isNumArray(p.occupancySeconds?.[f], n)) throw bad(`occupancySeconds.${f}`, `must hold ${n} non-negative numbers`);
  }
  return {
    tiers: n,
    bins: k,
    alpha: m.alpha,
    jointPrior: Float64Array.from(m.jointPrior),
    verify: m.verify.map((t) => t.map((c) => Float64Array.from(c))),
    pUnknown: [...m.pUnknown],
    answers,
    n: m.n,
  };
}

export function writePomdpParams(dir: string, params: PomdpParams): void {
  writeFileSync(join(dir, POMDP_FILE), `${JSON.stringify(params)}\n`);
}

/** Read dir/pomdp.json; the error says how to get one when it is missing. */
export function readPomdpParams(dir: string): { params: PomdpParams; model: PomdpModel } {
  const path = join(dir, POMDP_FILE);
  if (!existsSync(path)) throw new Error(`${dir}: no ${POMDP_FILE}; expected a folder written by tiermix train (which fits the POMDP too)`);
  let params: PomdpParams;
  try {
    params = JSON.parse(readFileSync(path, 'utf8')) as PomdpParams;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return { params, model: modelFromParams(params, path) };
}
