// Baseline policies as pure functions over rows: fixed tiers, random mixing (the chord), two real-signal
// policies (answer extraction, agreement between tiers), AutoMix's verifier threshold, and the RouteLLM-style
// classifier threshold over a classifier supplied from outside (see extensions.ts).
import { only, type Candidate, type RowPolicy, type Trace } from './evaluate.js';
import { fmtKnob, spreadValues, type PolicyFamily } from './family.js';
import type { ObservedRow } from './observe.js';
import type { EvalRow } from './rows.js';

export function alwaysFamily(tier: number, name: string, description: string, reference = true): PolicyFamily {
  return { name, description, signals: 'none', reference, candidates: () => [{ knob: `tier ${tier}`, policy: () => only(tier) }] };
}

/** Random mixing of the smallest and the largest tier: the SLM-LLM chord that ΔIBC and PGR are measured against. */
export function randomMixFamily(largest: number, steps = 10): PolicyFamily {
  return {
    name: 'random-mix',
    description: 'ask the largest tier with probability w, else the smallest (exact expectation)',
    signals: 'none',
    operatingKnob: 'w=0.5',
    candidates: () =>
      Array.from({ length: steps + 1 }, (_, i): Candidate => ({
        knob: `w=${fmtKnob(i / steps)}`,
        mix: { a: () => only(0), b: () => only(largest), w: i / steps },
      })),
  };
}

/** Real signal: the smallest tier's answer had no extractable letter -> ask the largest tier. */
export function extractionPolicy(largest: number): RowPolicy {
  return (row) => (row.tiers[0]!.pred === null ? { asked: [0, largest], verified: [], returned: largest } : only(0));
}

export function extractionFamily(largest: number): PolicyFamily {
  return {
    name: 'extraction',
    description: 'smallest tier; escalate to the largest when no answer letter could be extracted',
    signals: 'real',
    candidates: () => [{ knob: 'null->largest', policy: extractionPolicy(largest) }],
  };
}

/**
 * Real signal: ask the two smallest tiers; when both give the same extracted letter, return it, else ask the
 * largest. An unextractable first answer cannot agree with anything, so it goes straight to the largest.
 */
export function agreementPolicy(largest: number): RowPolicy {
  return (row) => {
    const a = row.tiers[0]!.pred;
    if (a === null) return { asked: [0, largest], verified: [], returned: largest };
    if (row.tiers[1]!.pred === a) return { asked: [0, 1], verified: [], returned: 1 };
    return { asked: [0, 1, largest], verified: [], returned: largest };
  };
}

export function agreementFamily(largest: number): PolicyFamily {
  return {
    name: 'agreement',
    description: 'ask tiers 0 and 1; return when their letters agree, else ask the largest',
    signals: 'real',
    candidates: () => [{ knob: 'disagree->largest', policy: agreementPolicy(largest) }],
  };
}

/** AutoMix's unknown verdict counts as confidence 0 (its compute_fraction_correct does the same). */
export const confidenceAt = (row: ObservedRow, tier: number): number => row.confidence[tier] ?? 0;

/** AutoMix threshold (2 tiers, lo -> hi): verify lo's answer, escalate to hi when confidence < t. */
export function automixThresholdPolicy(lo: number, hi: number, t: number): RowPolicy {
  return (row): Trace =>
    confidenceAt(row, lo) < t ? { asked: [lo, hi], verified: [lo], returned: hi } : { asked: [lo], verified: [lo], returned: lo };
}

/** Thresholds that change a decision on train: each distinct confidence, plus "always escalate". */
export function thresholdSweep(train: readonly ObservedRow[], tiers: readonly number[], max = 40): number[] {
  const values = spreadValues(
    train.flatMap((r) => tiers.map((i) => confidenceAt(r, i))),
    max,
  );
  return [...values, Infinity];
}

export function automixThresholdFamily(lo: number, hi: number): PolicyFamily {
  return {
    name: 'automix-threshold',
    description: 'AutoMix threshold: smallest tier, self-verify, escalate to the largest when confidence < t',
    signals: 'verifier',
    candidates: (fit) =>
      thresholdSweep(fit.train, [lo]).map((t) => ({ knob: t === Infinity ? 't=inf' : `t=${fmtKnob(t)}`, policy: automixThresholdPolicy(lo, hi, t) })),
  };
}

/** A query classifier's output for one row: P(tier i answers correctly), smallest first. */
export type TierScores = (row: EvalRow) => number[];

/** RouteLLM-style threshold on a classifier: the cheapest tier predicted correct with probability >= alpha, else the largest. */
export function classifierThresholdPolicy(scores: TierScores, alpha: number): RowPolicy {
  return (row) => {
    const s = scores(row);
    const last = row.tiers.length - 1;
    const tier = s.findIndex((p, i) => i < last && p >= alpha);
    return only(tier < 0 ? last : tier);
  };
}

export function classifierThresholdFamily(classifierName: string, scores: TierScores, steps = 20): PolicyFamily {
  // Scoring can be expensive (an ONNX model): once per row, shared by every alpha.
  const cache = new WeakMap<EvalRow, number[]>();
  const cached: TierScores = (row) => {
    let s = cache.get(row);
    if (!s) cache.set(row, (s = scores(row)));
    return s;
  };
  return {
    name: 'classifier-threshold',
    description: `RouteLLM-style: classifier ${classifierName}; cheapest tier with predicted P(correct) >= alpha`,
    signals: 'classifier',
    candidates: () =>
      Array.from({ length: steps + 2 }, (_, i) => {
        const alpha = i > steps ? Infinity : i / steps;
        return { knob: alpha === Infinity ? 'alpha=inf' : `alpha=${fmtKnob(alpha)}`, policy: classifierThresholdPolicy(cached, alpha) };
      }),
  };
}
