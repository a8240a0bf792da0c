// tiermix's POMDP, part 1: the model. Hidden state s = which tiers would answer correctly, as a bit mask
// (bit i set = tier i correct; 2^N joint outcomes). Observations, each fitted from labelled data by counting
// with additive smoothing:
//   - the ANSWER PATTERN of the tiers asked so far: per asked tier, "no answer extracted" (-1) or the class
//     of its extracted answer, classes numbered in order of first appearance (so agreement between tiers is
//     part of the pattern). Asking tier j extends the pattern by one symbol e; the model is the full
//     conditional P(e | tiers asked, their pattern, j, s restricted to those tiers and j), so agreement is
//     modelled jointly, with no pairwise independence assumption.
//   - the SELF-VERIFICATION bin of a verified tier: P(bin | s_j), bins 0..K for K verifier samples
//     (bin = round(confidence x K), AutoMix's binning). A verification that yields no confidence is
//     "unknown": its probability is fitted per tier but assumed independent of s (the live RoutingState cannot
//     tell a failed verification from none asked, so it carries no evidence either way).
// Prior: the empirical joint distribution of s on the training rows, or a caller's own joint, or a
// per-tier prior (a classifier's P(correct)) fitted onto the empirical joint by iterative proportional
// fitting (keeps the correlation between tiers) or taken as independent.

/** One labelled training example, smallest tier first. */
export interface LabelledOutcome {
  correct: readonly boolean[];
  /** The tier's normalised final answer (see answerKey), null when none could be extracted. */
  answers: readonly (string | null)[];
  /** The tier's self-verification confidence in [0,1], null when there is none. */
  confidence: readonly (number | null)[];
}

export interface FitOptions {
  /** Verifier samples K: confidences fall in K+1 bins. Default 8. */
  verifierSamples?: number;
  /** Additive smoothing of every count table. Default 1. */
  alpha?: number;
}

export interface PomdpModel {
  tiers: number;
  /** K: verifier samples; bins 0..K. */
  bins: number;
  alpha: number;
  /** Empirical P(s) on the fitted rows (smoothed), indexed by the bit mask s. */
  jointPrior: Float64Array;
  /** verify[i][c][b] = P(bin b | tier i correct = c), among verifications that yielded a confidence. */
  verify: Float64Array[][];
  /** Per tier: share of fitted rows with no confidence (verifying yields "unknown"). */
  pUnknown: number[];
  /** Answer-pattern counts: key patternKey(askedMask, pattern, j) -> counts[(s & mask(asked + j)) * E + e]. */
  answers: Map<string, Float64Array>;
  /** Rows fitted. */
  n: number;
}

export const NO_ANSWER = -1;

/** Number of symbols an extension of a pattern with `classes` classes can take: no answer, each class, a new one. */
export const extensionCount = (classes: number): number => classes + 2;
/** Symbol e (-1 = no answer, 0..classes) as an index 0..classes+1. */
export const extIndex = (e: number): number => e + 1;

export const classesOf = (pattern: readonly number[]): number => pattern.reduce((m, e) => Math.max(m, e + 1), 0);

export function patternKey(askedMask: number, pattern: readonly number[], next: number): string {
  return `${askedMask}|${pattern.join('.')}|${next}`;
}

/** The symbol answer `a` adds to a pattern whose classes hold `classAnswers` (first-appearance order). */
export function extend(classAnswers: readonly string[], a: string | null): number {
  if (a === null) return NO_ANSWER;
  const i = classAnswers.indexOf(a);
  return i >= 0 ? i : classAnswers.length;
}

/** Confidence bin for K samples. */
export const binOf = (confidence: number, k: number): number => Math.min(k, Math.max(0, Math.round(confidence * k)));

export function fitModel(rows: readonly LabelledOutcome[], opts: FitOptions = {}): PomdpModel {
  const k = opts.verifierSamples ?? 8;
  const alpha = opts.alpha ?? 1;
  if (rows.length === 0) throw new RangeError('fitModel: no rows');
  const n = rows[0]!.correct.length;
  if (n < 1 || n > 8) throw new RangeError(`fitModel: ${n} tiers; supported 1..8`);
  const S = 1 << n;
  const joint = new Float64Array(S).fill(alpha);
  const verifyCounts = Array.from({ length: n }, () => [new Float64Array(k + 1).fill(alpha), new Float64Array(k + 1).fill(alpha)]);
  const unknown = new Array<number>(n).fill(0);
  const answers = new Map<string, Float64Array>();
  for (const row of rows) {
    if (row.correct.length !== n || row.answers.length !== n || row.confidence.length !== n) throw new RangeError('fitModel: rows differ in tier count');
    let s = 0;
    row.correct.forEach((c, i) => (s |= c ? 1 << i : 0));
    joint[s]!++;
    row.confidence.forEach((c, i) => {
      if (c === null) unknown[i]!++;
      else verifyCounts[i]![row.correct[i] ? 1 : 0]![binOf(c, k)]!++;
    });
    // Every set of asked tiers (bit mask) and every larger tier j that could be asked next.
    for (let asked = 0; asked < S; asked++) {
      const top = 31 - Math.clz32(asked); // -1 for the empty set
      const pattern: number[] = [];
      const classAnswers: string[] = [];
      for (let i = 0; i < n; i++) {
        if (!(asked & (1 << i))) continue;
        const a = row.answers[i] ?? null;
        const e = extend(classAnswers, a);
        if (e === classAnswers.length && a !== null) classAnswers.push(a);
        pattern.push(e);
      }
      const E = extensionCount(classAnswers.length);
      for (let j = top + 1; j < n; j++) {
        const key = patternKey(asked, pattern, j);
        let t = answers.get(key);
        if (!t) answers.set(key, (t = new Float64Array(S * E)));
        const restricted = s & (asked | (1 << j));
        t[restricted * E + extIndex(extend(classAnswers, row.answers[j] ?? null))]!++;
      }
    }
  }
  const total = joint.reduce((a, b) => a + b, 0);
  const verify = verifyCounts.map((byC) =>
    byC.map((c) => {
      const sum = c.reduce((a, b) => a + b, 0);
      return c.map((v) => v / sum);
    }),
  );
  return {
    tiers: n,
    bins: k,
    alpha,
    jointPrior: joint.map((v) => v / total),
    verify,
    pUnknown: unknown.map((u) => u / rows.length),
    answers,
    n: rows.length,
  };
}

/**
 * P(next symbol = e | asked tiers, their pattern, j, s) for every s: row s x E + e, from smoothed counts of rows
 * with the same restricted state; uniform over the possible symbols in a situation never seen. Cached on the model.
 */
export function extensionTable(model: PomdpModel, asked: number, pattern: readonly number[], j: number): Float64Array {
  const key = patternKey(asked, pattern, j);
  const cache = (model as PomdpModel & { normalised?: Map<string, Float64Array> }).normalised ?? new Map<string, Float64Array>();
  (model as PomdpModel & { normalised?: Map<string, Float64Array> }).normalised = cache;
  const hit = cache.get(key);
  if (hit) return hit;
  const E = extensionCount(classesOf(pattern));
  const S = 1 << model.tiers;
  const out = new Float64Array(S * E);
  const t = model.answers.get(key);
  const mask = asked | (1 << j);
  for (let s = 0; s < S; s++) {
    const r = (s & mask) * E;
    let sum = 0;
    for (let e = 0; e < E; e++) sum += out[s * E + e] = (t ? t[r + e]! : 0) + model.alpha;
    for (let e = 0; e < E; e++) out[s * E + e]! /= sum;
  }
  if (cache.size < 100_000) cache.set(key, out);
  return out;
}

/** P(next symbol = e | asked tiers, their pattern, j, s), indexed by extIndex(e). */
export function extensionProbs(model: PomdpModel, asked: number, pattern: readonly number[], j: number, s: number): Float64Array {
  const E = extensionCount(classesOf(pattern));
  return extensionTable(model, asked, pattern, j).slice(s * E, (s + 1) * E);
}

/** Joint prior over 2^N states from per-tier P(correct), assuming the tiers independent. */
export function independentJoint(perTier: readonly number[]): Float64Array {
  const S = 1 << perTier.length;
  const out = new Float64Array(S);
  for (let s = 0; s < S; s++) out[s] = perTier.reduce((p, q, i) => p * (s & (1 << i) ? q : 1 - q), 1);
  return out;
}

/**
 * The joint closest (in KL) to `base` whose per-tier marginals are `perTier`: iterative proportional fitting.
 * Keeps the base's dependence between tiers (e.g. questions every tier gets right) while taking the
 * classifier's per-query marginals. Marginals are clamped to [eps, 1-eps].
 */
export function tiltJoint(base: Float64Array, perTier: readonly number[], iterations = 30, eps = 1e-4): Float64Array {
  const S = base.length;
  const n = perTier.length;
  if (S !== 1 << n) throw new RangeError(`tiltJoint: joint over ${Math.log2(S)} tiers, prior over ${n}`);
  const q = perTier.map((p) => Math.min(1 - eps, Math.max(eps, Number.isFinite(p) ? p : 0.5)));
  const out = Float64Array.from(base, (v) => Math.max(v, 1e-12));
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) {
      let m1 = 0;
      let tot = 0;
      for (let s = 0; s < S; s++) {
        tot += out[s]!;
        if (s & (1 << i)) m1 += out[s]!;
      }
      const up = (q[i]! * tot) / m1;
      const down = ((1 - q[i]!) * tot) / (tot - m1);
      for (let s = 0; s < S; s++) out[s]! *= s & (1 << i) ? up : down;
    }
  }
  const tot = out.reduce((a, b) => a + b, 0);
  return out.map((v) => v / tot);
}

/** P(tier i correct) under a joint. */
export function marginal(joint: Float64Array, i: number): number {
  let m = 0;
  for (let s = 0; s < joint.length; s++) if (s & (1 << i)) m += joint[s]!;
  return m;
}
