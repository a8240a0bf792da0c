// Training of the softmax regression in plain TypeScript: mini-batch Adam on sparse rows, cross-entropy
// over the joint outcome plus an L2 penalty on the weights (not the bias). Deterministic for a seed.
import type { SparseVector } from './featurize.js';
import { seededRng } from '../sim/rng.js';
import { logits, newModel, softmaxInPlace, type SoftmaxModel } from './model.js';

export interface TrainOptions {
  dim: number;
  classes: number;
  /** L2 penalty coefficient on W (per-example mean loss + l2/2 * ||W||^2). */
  l2: number;
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  /** Called after every epoch; return true to stop early. */
  onEpoch?: (epoch: number, model: SoftmaxModel) => boolean | void;
}

export const DEFAULT_TRAIN = { learningRate: 0.002, batchSize: 64 } as const;

/** The project's one seeded generator (mulberry32), shared with the simulator. */
export const mulberry32 = seededRng;

export function trainSoftmax(X: readonly SparseVector[], y: readonly number[], o: TrainOptions): SoftmaxModel {
  const K = o.classes;
  const m = newModel(o.dim, K);
  // Bias starts at the log class frequencies (smoothed): the model begins as the prior.
  const freq = new Float64Array(K).fill(1);
  for (const k of y) freq[k]!++;
  const total = freq.reduce((a, b) => a + b, 0);
  for (let c = 0; c < K; c++) m.b[c] = Math.log(freq[c]! / total);

  const nW = m.W.length;
  const gW = new Float32Array(nW);
  const mW = new Float32Array(nW);
  const vW = new Float32Array(nW);
  const gB = new Float64Array(K);
  const mB = new Float64Array(K);
  const vB = new Float64Array(K);
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-8;
  const rng = mulberry32(o.seed);
  const order = Array.from({ length: X.length }, (_, i) => i);
  const z = new Float64Array(K);
  let step = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let start = 0; start < order.length; start += o.batchSize) {
      const batch = order.slice(start, start + o.batchSize);
      gW.fill(0);
      gB.fill(0);
      const inv = 1 / batch.length;
      for (const r of batch) {
        const x = X[r]!;
        softmaxInPlace(logits(m, x, z));
        z[y[r]!]! -= 1;
        for (let c = 0; c < K; c++) gB[c]! += z[c]! * inv;
        for (let t = 0; t < x.indices.length; t++) {
          const v = x.values[t]! * inv;
          const base = x.indices[t]! * K;
          for (let c = 0; c < K; c++) gW[base + c]! += v * z[c]!;
        }
      }
      step++;
      const c1 = 1 / (1 - b1 ** step);
      const c2 = 1 / (1 - b2 ** step);
      const lr = o.learningRate;
      for (let p = 0; p < nW; p++) {
        const g = gW[p]! + o.l2 * m.W[p]!;
        const mp = (mW[p] = b1 * mW[p]! + (1 - b1) * g);
        const vp = (vW[p] = b2 * vW[p]! + (1 - b2) * g * g);
        m.W[p]! -= (lr * mp * c1) / (Math.sqrt(vp * c2) + eps);
      }
      for (let c = 0; c < K; c++) {
        const g = gB[c]!;
        mB[c] = b1 * mB[c]! + (1 - b1) * g;
        vB[c] = b2 * vB[c]! + (1 - b2) * g * g;
        m.b[c]! -= (lr * mB[c]! * c1) / (Math.sqrt(vB[c]! * c2) + eps);
      }
    }
    if (o.onEpoch?.(epoch, m)) break;
  }
  return m;
}

/** Mean cross-entropy of the model on rows. */
export function meanLogLoss(m: SoftmaxModel, X: readonly SparseVector[], y: readonly number[]): number {
  const z = new Float64Array(m.classes);
  let s = 0;
  X.forEach((x, r) => {
    softmaxInPlace(logits(m, x, z));
    s -= Math.log(Math.max(z[y[r]!]!, 1e-12));
  });
  return s / X.length;
}
