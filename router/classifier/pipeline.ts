// Train a query classifier on labelled rows (the train split), measure it on the test split, and write the
// ONNX model with its manifest. Pure over rows except writeClassifier.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalRow } from '../train/rows.js';
import { DENSE_FEATURE_NAMES, FEATURE_VERSION, featureDim, featurize, rowText, type SparseVector } from './featurize.js';
import { auroc, brier, ece, logLoss } from './metrics.js';
import { marginals, outcomeIndex, outcomeLabels, predictJoint, tierCorrectIn, type SoftmaxModel } from './model.js';
import { encodeOnnx, INPUT_NAME, IR_VERSION, JOINT_OUTPUT, MARGINAL_OUTPUT, OPSET } from './onnx.js';
import { DEFAULT_TRAIN, meanLogLoss, trainSoftmax } from './train.js';

export const MANIFEST_FORMAT = 'tiermix-query-classifier/1';
export const MODEL_FILE = 'model.onnx';
export const MANIFEST_FILE = 'manifest.json';

export interface TierMetrics {
  tier: string;
  /** Share of rows this tier answered correctly. */
  baseRate: number;
  meanPredicted: number;
  auroc: number;
  /** 10 equal-width bins. */
  ece: number;
  brier: number;
}

export interface SplitMetrics {
  rows: number;
  /** Mean cross-entropy of the joint outcome (nats). */
  jointLogLoss: number;
  /** The same for the constant prior (train outcome frequencies): what the text adds. */
  priorJointLogLoss: number;
  /** Share of rows whose most probable outcome is the true one. */
  jointAccuracy: number;
  tiers: TierMetrics[];
}

export interface IndependentBaseline {
  description: string;
  /** Joint log loss of the product of the independent marginals (assumes the tiers independent given the text). */
  jointLogLoss: number;
  tiers: (Omit<TierMetrics, 'baseRate' | 'meanPredicted'> & { l2: number; epochs: number })[];
}

export interface SelectionEntry {
  l2: number;
  bestEpoch: number;
  validationLogLoss: number;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  name: string;
  featureVersion: string;
  hashBits: number;
  featureDim: number;
  denseFeatures: string[];
  /** Data models of the ladder, smallest first (the order of the outputs). */
  tiers: string[];
  /** Joint outcome k: bit i set iff tier i answers correctly; labels list c_0,...,c_{N-1} per k. */
  outcomes: string[];
  text: string;
  onnx: { file: string; input: string; outputs: { joint: string; tierProbs: string }; irVersion: number; opset: number; bytes: number; sha256: string };
  training: {
    data: string;
    split: string;
    trainRows: number;
    testRows: number;
    validation: string;
    selection: SelectionEntry[];
    l2: number;
    epochs: number;
    learningRate: number;
    batchSize: number;
    seed: number;
    seconds: number;
  };
  metrics: {
    test: SplitMetrics;
    train: SplitMetrics;
    /** With --compare-independent: N separate per-tier logistic models on the same features, on the test split. */
    independentBaseline?: IndependentBaseline;
  };
  /** Largest |ONNX Runtime - TypeScript forward pass| over the checked test rows, filled in by the writer's caller. */
  parity?: { rows: number; maxAbsDiff: number };
  /** The routing POMDP's parameters fitted on the same train split (router/policy/pomdp/params.ts), by tiermix train. */
  pomdp?: { file: string; verifier: string; verifierSamples: number };
  createdAt: string;
}

export interface ClassifierTrainOptions {
  hashBits: number;
  /** Candidate L2 coefficients; chosen with the epoch count on the validation part of train. */
  l2: number[];
  maxEpochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  /** Also train one binary model per tier and report it (metrics.independentBaseline); about doubles the time. */
  compareIndependent?: boolean;
  log?: (line: string) => void;
}

export const DEFAULT_CLASSIFIER_OPTIONS: ClassifierTrainOptions = {
  hashBits: 14,
  l2: [1e-4, 3e-4],
  maxEpochs: 20,
  learningRate: DEFAULT_TRAIN.learningRate,
  batchSize: DEFAULT_TRAIN.batchSize,
  seed: 1,
};

/** Validation rows within train: the id's last digit is 1 or 6 (a fifth of all ids, a quarter of train). */
export function isValidationRow(row: Pick<EvalRow, 'key' | 'test'>): boolean {
  const m = /(\d)\s*$/.exec(row.key);
  return !row.test && m !== null && (m[1] === '1' || m[1] === '6');
}

export function evaluateSplit(m: SoftmaxModel, X: readonly SparseVector[], rows: readonly EvalRow[], tiers: string[], prior: Float64Array): SplitMetrics {
  const N = tiers.length;
  const pTrue: number[] = [];
  const pPrior: number[] = [];
  const perTier = tiers.map(() => ({ p: [] as number[], y: [] as boolean[] }));
  let hits = 0;
  X.forEach((x, r) => {
    const joint = predictJoint(m, x);
    const y = outcomeIndex(rows[r]!.tiers.map((t) => t.correct));
    pTrue.push(joint[y]!);
    pPrior.push(prior[y]!);
    let arg = 0;
    for (let k = 1; k < joint.length; k++) if (joint[k]! > joint[arg]!) arg = k;
    if (arg === y) hits++;
    const marg = marginals(joint, N);
    for (let i = 0; i < N; i++) {
      perTier[i]!.p.push(marg[i]!);
      perTier[i]!.y.push(tierCorrectIn(y, i));
    }
  });
  return {
    rows: X.length,
    jointLogLoss: logLoss(pTrue),
    priorJointLogLoss: logLoss(pPrior),
    jointAccuracy: hits / X.length,
    tiers: tiers.map((tier, i) => {
      const { p, y } = perTier[i]!;
      return {
        tier,
        baseRate: y.filter(Boolean).length / y.length,
        meanPredicted: p.reduce((a, b) => a + b, 0) / p.length,
        auroc: auroc(p, y),
        ece: ece(p, y),
        brier: brier(p, y),
      };
    }),
  };
}

export interface TrainedClassifier {
  model: SoftmaxModel;
  manifest: Manifest;
}

/** Fit on the rows' train split (choosing L2 and epochs on its validation part), report on the test split. */
export function trainClassifier(rows: readonly EvalRow[], tiers: string[], dataName: string, opts: ClassifierTrainOptions, name: string): TrainedClassifier {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const N = tiers.length;
  const K = 2 ** N;
  const dim = featureDim(opts);
  const train = rows.filter((r) => !r.test);
  const test = rows.filter((r) => r.test);
  if (train.length === 0 || test.length === 0) throw new Error(`need rows in both splits (train ${train.length}, test ${test.length}); test = id % 5 == 0`);
  const feats = new Map<EvalRow, SparseVector>();
  for (const r of rows) feats.set(r, featurize(rowText(r), opts));
  const X = (rs: readonly EvalRow[]) => rs.map((r) => feats.get(r)!);
  const Y = (rs: readonly EvalRow[]) => rs.map((r) => outcomeIndex(r.tiers.map((t) => t.correct)));
  log(`featurized ${rows.length} rows (${dim} features) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const fitRows = train.filter((r) => !isValidationRow(r));
  const valRows = train.filter(isValidationRow);
  const base = { dim, classes: K, learningRate: opts.learningRate, batchSize: opts.batchSize, seed: opts.seed };
  const selection = selectL2AndEpochs(X(fitRows), Y(fitRows), X(valRows), Y(valRows), base, opts);
  for (const e of selection) log(`  l2=${e.l2}: best validation log loss ${e.validationLogLoss.toFixed(4)} at epoch ${e.bestEpoch}`);
  const chosen = selection.reduce((a, b) => (b.validationLogLoss < a.validationLogLoss ? b : a));
  // Refit on all of train; a quarter more data per epoch, so keep the chosen number of epochs.
  const model = trainSoftmax(X(train), Y(train), { ...base, l2: chosen.l2, epochs: Math.max(1, chosen.bestEpoch) });

  const prior = new Float64Array(K).fill(1);
  for (const y of Y(train)) prior[y]!++;
  const tot = prior.reduce((a, b) => a + b, 0);
  for (let k = 0; k < K; k++) prior[k]! /= tot;
  const metrics: Manifest['metrics'] = { test: evaluateSplit(model, X(test), test, tiers, prior), train: evaluateSplit(model, X(train), train, tiers, prior) };
  if (opts.compareIndependent) {
    const tierModels = tiers.map((tier, i) => {
      const bit = (rs: readonly EvalRow[]) => rs.map((r) => (r.tiers[i]!.correct ? 1 : 0));
      const b2 = { ...base, classes: 2 };
      const sel = selectL2AndEpochs(X(fitRows), bit(fitRows), X(valRows), bit(valRows), b2, opts);
      const c = sel.reduce((a, b) => (b.validationLogLoss < a.validationLogLoss ? b : a));
      const epochs = Math.max(1, c.bestEpoch);
      log(`  independent ${tier}: l2=${c.l2}, ${epochs} epochs`);
      return { m: trainSoftmax(X(train), bit(train), { ...b2, l2: c.l2, epochs }), l2: c.l2, epochs };
    });
    const p = tierModels.map(({ m }) => X(test).map((x) => predictJoint(m, x)[1]!));
    const pTrue = test.map((r, j) => r.tiers.reduce((acc, t, i) => acc * (t.correct ? p[i]![j]! : 1 - p[i]![j]!), 1));
    metrics.independentBaseline = {
      description: 'one binary softmax (logistic) model per tier, same features, trainer and selection; test split',
      jointLogLoss: logLoss(pTrue),
      tiers: tiers.map((tier, i) => {
        const y = test.map((r) => r.tiers[i]!.correct);
        return { tier, auroc: auroc(p[i]!, y), ece: ece(p[i]!, y), brier: brier(p[i]!, y), l2: tierModels[i]!.l2, epochs: tierModels[i]!.epochs };
      }),
    };
  }
  const seconds = (performance.now() - started) / 1000;
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    name,
    featureVersion: FEATURE_VERSION,
    hashBits: opts.hashBits,
    featureDim: dim,
    denseFeatures: [...DENSE_FEATURE_NAMES],
    tiers,
    outcomes: outcomeLabels(N),
    text: 'rowText: formatMmluPrompt(question, options) for rows with options, else the question as is; at serving time the router featurizes the last user message of a chat request, or the completion prompt',
    onnx: { file: MODEL_FILE, input: INPUT_NAME, outputs: { joint: JOINT_OUTPUT, tierProbs: MARGINAL_OUTPUT }, irVersion: IR_VERSION, opset: OPSET, bytes: 0, sha256: '' },
    training: {
      data: dataName,
      split: 'train: id % 5 != 0; test: id % 5 == 0',
      trainRows: train.length,
      testRows: test.length,
      validation: 'train rows with id % 5 == 1 (last digit 1 or 6) choose l2 and epochs; the final model is refit on all train rows',
      selection,
      l2: chosen.l2,
      epochs: Math.max(1, chosen.bestEpoch),
      learningRate: opts.learningRate,
      batchSize: opts.batchSize,
      seed: opts.seed,
      seconds: Math.round(seconds * 10) / 10,
    },
    metrics,
    createdAt: new Date().toISOString(),
  };
  return { model, manifest };
}

/** L2 and epoch count by validation log loss: for each L2, train with early stopping (4 epochs of patience). */
function selectL2AndEpochs(
  Xf: readonly SparseVector[],
  yf: readonly number[],
  Xv: readonly SparseVector[],
  yv: readonly number[],
  base: { dim: number; classes: number; learningRate: number; batchSize: number; seed: number },
  opts: ClassifierTrainOptions,
): SelectionEntry[] {
  if (Xv.length === 0 || Xf.length === 0) return [{ l2: opts.l2[0]!, bestEpoch: opts.maxEpochs, validationLogLoss: Number.NaN }];
  return opts.l2.map((l2) => {
    let best = { epoch: 0, loss: Infinity };
    let sinceBest = 0;
    trainSoftmax(Xf, yf, {
      ...base,
      l2,
      epochs: opts.maxEpochs,
      onEpoch: (epoch, m) => {
        const loss = meanLogLoss(m, Xv, yv);
        if (loss < best.loss) [best, sinceBest] = [{ epoch, loss }, 0];
        else sinceBest++;
        return sinceBest >= 4;
      },
    });
    return { l2, bestEpoch: best.epoch, validationLogLoss: best.loss };
  });
}

/** Write model.onnx and manifest.json into dir (created if missing); returns the ONNX bytes. */
export function writeClassifier(dir: string, t: TrainedClassifier): Uint8Array {
  mkdirSync(dir, { recursive: true });
  const bytes = encodeOnnx(t.model, {
    tiers: t.manifest.tiers.length,
    graphName: t.manifest.name,
    metadata: { featureVersion: t.manifest.featureVersion, hashBits: String(t.manifest.hashBits), tiers: t.manifest.tiers.join(',') },
  });
  t.manifest.onnx.bytes = bytes.length;
  t.manifest.onnx.sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(dir, MODEL_FILE), bytes);
  writeManifest(dir, t.manifest);
  return bytes;
}

export function writeManifest(dir: string, manifest: Manifest): void {
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}
