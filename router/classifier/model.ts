// The classifier model: multinomial logistic (softmax) regression from the features to the joint outcome of
// the N tiers (2^N classes), and its TypeScript forward pass. Outcome k encodes "tier i answered correctly"
// as bit i of k (tier 0 = the smallest is the lowest bit), so for three tiers k = c0 + 2*c1 + 4*c2.
import type { SparseVector } from './featurize.js';

export interface SoftmaxModel {
  /** Input features F. */
  dim: number;
  /** Classes K = 2^tiers. */
  classes: number;
  /** Weights, row-major [F, K] (the ONNX MatMul layout). */
  W: Float32Array;
  /** Bias [K]. */
  b: Float32Array;
}

export function newModel(dim: number, classes: number): SoftmaxModel {
  return { dim, classes, W: new Float32Array(dim * classes), b: new Float32Array(classes) };
}

export function outcomeIndex(correct: readonly boolean[]): number {
  return correct.reduce((k, c, i) => k | (c ? 1 << i : 0), 0);
}

/** Tier i's bit of outcome k. */
export function tierCorrectIn(k: number, i: number): boolean {
  return ((k >> i) & 1) === 1;
}

/** Class labels in outcome order, e.g. "0,1,1" = tier 0 wrong, tiers 1 and 2 right. */
export function outcomeLabels(tiers: number): string[] {
  return Array.from({ length: 2 ** tiers }, (_, k) => Array.from({ length: tiers }, (_, i) => (tierCorrectIn(k, i) ? '1' : '0')).join(','));
}

/** Logits of one sparse row into out (float64). */
export function logits(m: SoftmaxModel, x: SparseVector, out: Float64Array = new Float64Array(m.classes)): Float64Array {
  const K = m.classes;
  for (let c = 0; c < K; c++) out[c] = m.b[c]!;
  for (let t = 0; t < x.indices.length; t++) {
    const v = x.values[t]!;
    const base = x.indices[t]! * K;
    for (let c = 0; c < K; c++) out[c]! += v * m.W[base + c]!;
  }
  return out;
}

export function softmaxInPlace(z: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let c = 0; c < z.length; c++) sum += z[c] = Math.exp(z[c]! - max);
  for (let c = 0; c < z.length; c++) z[c]! /= sum;
  return z;
}

/** P(outcome k) for every k. */
export function predictJoint(m: SoftmaxModel, x: SparseVector): Float64Array {
  return softmaxInPlace(logits(m, x));
}

/** P(tier i answers correctly) = sum of the joint over outcomes with bit i set. */
export function marginals(joint: ArrayLike<number>, tiers: number): number[] {
  const out = new Array<number>(tiers).fill(0);
  for (let k = 0; k < joint.length; k++) for (let i = 0; i < tiers; i++) if (tierCorrectIn(k, i)) out[i]! += joint[k]!;
  return out;
}
