// A stated model of a self-verifier, for simulation and offline evaluation (labelled "simulated"
// wherever it is used): the data has no verifier verdicts, so they are drawn from this model.
//
// Per verification (one query, one answer): a latent judging probability
//   p ~ Beta(mean * kappa, (1 - mean) * kappa),  mean = pCorrect if the answer is correct, else pWrong,
// then k verdicts, each "Correct" with probability p. kappa is the concentration: small kappa makes p
// vary a lot between queries (some wrong answers convince the verifier every time), large kappa makes
// every query look alike. Pure: the caller injects the random source.

export type Rng = () => number;

export interface SimulatedVerifierModel {
  /** Mean P(judged correct | answer correct). */
  pCorrect: number;
  /** Mean P(judged correct | answer wrong). */
  pWrong: number;
  /** Beta concentration of the per-query judging probability (> 0). */
  kappa: number;
}

/**
 * Defaults chosen so that the k=8 confidence separates correct from wrong answers with an AUROC of about
 * 0.75 (0.753 exactly by the Beta-binomial formula below), the informativeness AutoMix reports for
 * few-shot self-verification.
 */
export const DEFAULT_SIMULATED_VERIFIER: Readonly<SimulatedVerifierModel> = { pCorrect: 0.7, pWrong: 0.4, kappa: 2 };

const SPEC_HELP = 'expected "simulated" or "simulated:pc=<0..1>,pw=<0..1>,kappa=<number > 0>", e.g. simulated:pc=0.7,pw=0.4,kappa=2';

/** Parse `simulated` or `simulated:pc=0.7,pw=0.4,kappa=3` (missing keys keep their defaults). */
export function parseVerifierSpec(spec: string): SimulatedVerifierModel {
  const text = spec.trim();
  const fail = (why: string): never => {
    throw new Error(`invalid verifier spec "${spec}": ${why}; ${SPEC_HELP}`);
  };
  const [kind, params, ...rest] = text.split(':');
  if (kind !== 'simulated' || rest.length > 0) fail(`unknown kind "${kind ?? ''}"`);
  const model: SimulatedVerifierModel = { ...DEFAULT_SIMULATED_VERIFIER };
  if (params === undefined || params.trim() === '') return model;
  const seen = new Set<string>();
  for (const pair of params.split(',')) {
    const [key, value, ...extra] = pair.split('=').map((s) => s.trim());
    if (!key || value === undefined || value === '' || extra.length > 0) fail(`"${pair}" is not key=value`);
    const name = { pc: 'pCorrect', pw: 'pWrong', kappa: 'kappa' }[key!] as keyof SimulatedVerifierModel | undefined;
    if (!name) fail(`unknown parameter "${key}" (use pc, pw, kappa)`);
    if (seen.has(key!)) fail(`"${key}" given twice`);
    seen.add(key!);
    const n = Number(value);
    if (!Number.isFinite(n)) fail(`${key}=${value} is not a number`);
    if (name !== 'kappa' && (n < 0 || n > 1)) fail(`${key}=${value} must be between 0 and 1`);
    if (name === 'kappa' && n <= 0) fail(`kappa=${value} must be greater than 0`);
    model[name!] = n;
  }
  return model;
}

export function formatVerifierSpec(m: SimulatedVerifierModel): string {
  return `simulated:pc=${m.pCorrect},pw=${m.pWrong},kappa=${m.kappa}`;
}

function standardNormal(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Gamma(shape, 1) by Marsaglia and Tsang's method (with the u^(1/shape) boost for shape < 1). */
export function sampleGamma(shape: number, rng: Rng): number {
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = rng();
    return sampleGamma(shape + 1, rng) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function sampleBeta(a: number, b: number, rng: Rng): number {
  const x = sampleGamma(a, rng);
  const y = sampleGamma(b, rng);
  return x + y === 0 ? 0.5 : x / (x + y);
}

/** The latent probability that this query's verifier samples say "Correct". */
export function sampleJudgingProbability(model: SimulatedVerifierModel, answerCorrect: boolean, rng: Rng): number {
  const mean = answerCorrect ? model.pCorrect : model.pWrong;
  if (mean <= 0) return 0;
  if (mean >= 1) return 1;
  return sampleBeta(mean * model.kappa, (1 - mean) * model.kappa, rng);
}

/** k verdicts for one verification: true = "Correct". */
export function simulateVerdicts(model: SimulatedVerifierModel, answerCorrect: boolean, k: number, rng: Rng): boolean[] {
  const p = sampleJudgingProbability(model, answerCorrect, rng);
  return Array.from({ length: k }, () => rng() < p);
}

/** Area under the ROC curve of scores (higher = more likely positive); ties count one half. */
export function auroc(positives: readonly number[], negatives: readonly number[]): number {
  if (positives.length === 0 || negatives.length === 0) return Number.NaN;
  const all = [...positives.map((s) => ({ s, pos: true })), ...negatives.map((s) => ({ s, pos: false }))].sort(
    (a, b) => a.s - b.s,
  );
  // Mann-Whitney U with mid-ranks for ties.
  let rankSumPos = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]!.s === all[i]!.s) j++;
    const midRank = (i + 1 + j) / 2;
    for (let t = i; t < j; t++) if (all[t]!.pos) rankSumPos += midRank;
    i = j;
  }
  const nPos = positives.length;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * negatives.length);
}

function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** Lanczos approximation of ln Gamma(x), x > 0. */
function logGamma(x: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

function betaBinomial(k: number, mean: number, kappa: number): number[] {
  const a = mean * kappa;
  const b = (1 - mean) * kappa;
  const out: number[] = [];
  let logChoose = 0;
  for (let x = 0; x <= k; x++) {
    if (x > 0) logChoose += Math.log((k - x + 1) / x);
    out.push(Math.exp(logChoose + logBeta(x + a, k - x + b) - logBeta(a, b)));
  }
  return out;
}

/** Exact AUROC of the k-sample confidence under the model (for docs and for checking the simulation). */
export function expectedAuroc(model: SimulatedVerifierModel, k: number): number {
  const clamp = (m: number) => Math.min(1 - 1e-9, Math.max(1e-9, m));
  const pos = betaBinomial(k, clamp(model.pCorrect), model.kappa);
  const neg = betaBinomial(k, clamp(model.pWrong), model.kappa);
  let area = 0;
  for (let i = 0; i <= k; i++) {
    for (let j = 0; j <= k; j++) {
      if (i > j) area += pos[i]! * neg[j]!;
      else if (i === j) area += 0.5 * pos[i]! * neg[j]!;
    }
  }
  return area;
}
