// Quality of probabilistic predictions: AUROC, expected calibration error, log loss.

/** Area under the ROC curve (Mann-Whitney U, mid-ranks for ties); NaN without both classes. */
export function auroc(scores: readonly number[], labels: readonly boolean[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let nPos = 0;
  for (const l of labels) if (l) nPos++;
  const nNeg = labels.length - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  let rankSumPos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j < idx.length && scores[idx[j]!] === scores[idx[i]!]) j++;
    const mid = (i + 1 + j) / 2;
    for (let t = i; t < j; t++) if (labels[idx[t]!]) rankSumPos += mid;
    i = j;
  }
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Expected calibration error over equal-width bins: sum over bins of (n_bin / n) * |mean p - accuracy|. */
export function ece(probs: readonly number[], labels: readonly boolean[], bins = 10): number {
  const n = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  probs.forEach((p, i) => {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    n[b]!++;
    sumP[b]! += p;
    if (labels[i]) sumY[b]!++;
  });
  let total = 0;
  for (let b = 0; b < bins; b++) if (n[b]! > 0) total += Math.abs(sumP[b]! - sumY[b]!);
  return probs.length === 0 ? Number.NaN : total / probs.length;
}

/** Mean negative log likelihood of the true classes. */
export function logLoss(probOfTrue: readonly number[]): number {
  let s = 0;
  for (const p of probOfTrue) s -= Math.log(Math.max(p, 1e-12));
  return s / probOfTrue.length;
}

/** Brier score of a binary prediction. */
export function brier(probs: readonly number[], labels: readonly boolean[]): number {
  let s = 0;
  probs.forEach((p, i) => (s += (p - (labels[i] ? 1 : 0)) ** 2));
  return s / probs.length;
}
