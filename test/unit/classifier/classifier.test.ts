// The query classifier end to end on a tiny synthetic dataset the test builds: featurize, train, export to
// ONNX, load with onnxruntime-node, and check ONNX Runtime against the TypeScript forward pass.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { FEATURE_VERSION, featureDim, featurize, rowText, toDense } from '../../../router/classifier/featurize.js';
import { auroc, ece, logLoss } from '../../../router/classifier/metrics.js';
import { marginals, newModel, outcomeIndex, outcomeLabels, predictJoint } from '../../../router/classifier/model.js';
import { decodeOnnx, encodeOnnx, modelFromOnnx } from '../../../router/classifier/onnx.js';
import { MANIFEST_FILE, trainClassifier, writeClassifier, type TrainedClassifier } from '../../../router/classifier/pipeline.js';
import { OnnxQueryClassifier } from '../../../router/classifier/runtime.js';
import { mulberry32 } from '../../../router/classifier/train.js';
import { loadClassifier } from '../../../router/train/extensions.js';
import type { EvalRow } from '../../../router/train/rows.js';
import { chatQuery } from '../../../router/cascade/query.js';
import type { ChatRequest } from '../../../router/api/requests.js';

const dir = mkdtempSync(join(tmpdir(), 'tiermix-classifier-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TIERS = ['small', 'medium', 'large'];
const SUBJECTS: [string, number][] = [
  // subject word, how many of the tiers (smallest first) usually answer it
  ['arithmetic', 3],
  ['geography', 2],
  ['chemistry', 1],
  ['topology', 0],
];

/** Rows whose subject word decides (up to 10% noise) which tiers answer correctly. */
function syntheticRows(n: number, seed = 3): EvalRow[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const [subject, solved] = SUBJECTS[Math.floor(rng() * SUBJECTS.length)]!;
    const filler = ['please', 'kindly', 'now', 'quickly'][Math.floor(rng() * 4)]!;
    return {
      key: String(i),
      test: i % 5 === 0,
      question: `Question ${i} about ${subject}: ${filler} answer item ${Math.floor(rng() * 100)}.`,
      options: ['alpha', 'beta', 'gamma', 'delta'],
      tiers: TIERS.map((_, t) => ({ pred: 'A', conf: null, correct: (t >= 3 - solved) !== rng() < 0.1 })),
    };
  });
}

const rows = syntheticRows(600);
let trained: TrainedClassifier;
const modelDir = join(dir, 'model');

before(() => {
  trained = trainClassifier(rows, TIERS, 'synthetic', { hashBits: 10, l2: [1e-4, 1e-3], maxEpochs: 15, learningRate: 0.01, batchSize: 32, seed: 1 }, 'synthetic');
  writeClassifier(modelDir, trained);
});

describe('featurizer', () => {
  it('is deterministic, sorted, in range, and puts the dense features after the hash space', () => {
    const spec = { hashBits: 10 };
    const text = 'Question: What is 2 + 2?\nOptions:\nA. 3\nB. 4\nAnswer:';
    const a = featurize(text, spec);
    const b = featurize(text, spec);
    assert.deepEqual([...a.indices], [...b.indices]);
    assert.deepEqual([...a.values], [...b.values]);
    for (let k = 1; k < a.indices.length; k++) assert.ok(a.indices[k]! > a.indices[k - 1]!);
    assert.ok(a.indices.every((i) => i >= 0 && i < featureDim(spec)));
    const hashedSq = [...a.values].filter((_, k) => a.indices[k]! < 1024).reduce((s, v) => s + v * v, 0);
    assert.ok(Math.abs(hashedSq - 1) < 1e-5, 'hashed block has unit norm');
    assert.equal(a.indices.filter((i) => i >= 1024).length, featureDim(spec) - 1024);
    assert.ok(featurize('', spec).indices.length > 0, 'empty text still has the dense slots');
    assert.equal(FEATURE_VERSION, trained.manifest.featureVersion);
  });

  it('gives the same features whatever was featurized before (its scratch buffers leave no trace)', () => {
    // Short texts touch more buckets per character than long ones (few repeated n-grams): the worst case for
    // the reused scratch; long and non-ASCII texts in between.
    const texts = ['Question: What is 2 + 2?', 'a', 'ab c', '', 'ünïcødé ÆØÅ 你好 🙂 $x^2$', 'z'.repeat(3000), rowText(rows[2]!), 'q7 www 55433', ...rows.slice(0, 30).map(rowText)];
    for (const hashBits of [10, 14]) {
      const forward = texts.map((t) => featurize(t, { hashBits }));
      const backward = [...texts].reverse().map((t) => featurize(t, { hashBits })).reverse();
      forward.forEach((f, k) => {
        assert.deepEqual([...f.indices], [...backward[k]!.indices], texts[k]);
        assert.deepEqual([...f.values], [...backward[k]!.values], texts[k]);
        assert.ok([...f.values].every(Number.isFinite));
      });
    }
  });

  it('featurizes a data row as the prompt a tier is sent', () => {
    const r = rows[1]!;
    assert.match(rowText(r), /^Question: Question 1 about .*\nOptions:\nA\. alpha\nB\. beta/);
    assert.throws(() => rowText({ key: '9', question: undefined }), /no question text/);
    // Logged chat traffic (no options): the text is the message itself, as the router featurizes a chat
    // request's last user message (router/cascade/query.ts).
    const message = 'Summarise the causes of the French Revolution in two sentences.';
    const served = chatQuery({ model: 'ladder', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: message }] } as ChatRequest).query;
    assert.equal(rowText({ key: '1', question: message, options: [] }), served);
    assert.deepEqual([...featurize(rowText({ key: '1', question: message }), { hashBits: 10 }).values], [...featurize(served, { hashBits: 10 }).values]);
  });
});

describe('model and metrics', () => {
  it('encodes outcomes with bit i = tier i, and the marginals sum the joint', () => {
    assert.equal(outcomeIndex([true, false, true]), 5);
    assert.deepEqual(outcomeLabels(2), ['0,0', '1,0', '0,1', '1,1']);
    assert.deepEqual(marginals([0.1, 0.2, 0.3, 0.4], 2).map((v) => Number(v.toFixed(10))), [0.6, 0.7]);
  });

  it('computes AUROC, ECE and log loss', () => {
    assert.equal(auroc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
    assert.equal(auroc([0.5, 0.5], [true, false]), 0.5);
    assert.ok(Number.isNaN(auroc([0.3], [true])));
    assert.ok(Math.abs(ece([0.05, 0.05, 0.95, 0.95], [false, false, true, true]) - 0.05) < 1e-12);
    assert.ok(Math.abs(ece([0.5, 0.5], [true, true]) - 0.5) < 1e-12);
    assert.ok(Math.abs(logLoss([Math.exp(-1), Math.exp(-3)]) - 2) < 1e-12);
  });
});

describe('training', () => {
  it('learns which tiers answer from the text, and reports test metrics in the manifest', () => {
    const m = trained.manifest;
    assert.equal(m.tiers.length, 3);
    assert.equal(m.outcomes.length, 8);
    assert.equal(m.training.trainRows + m.training.testRows, rows.length);
    assert.ok(m.metrics.test.jointLogLoss < m.metrics.test.priorJointLogLoss - 0.3, `log loss ${m.metrics.test.jointLogLoss} vs prior ${m.metrics.test.priorJointLogLoss}`);
    for (const t of m.metrics.test.tiers) {
      assert.ok(t.auroc > 0.75, `${t.tier} AUROC ${t.auroc}`);
      assert.ok(t.ece >= 0 && t.ece < 0.15, `${t.tier} ECE ${t.ece}`);
    }
  });
});

describe('ONNX export', () => {
  it('round-trips the weights through the hand-written protobuf', () => {
    const bytes = readFileSync(join(modelDir, 'model.onnx'));
    const { model, tiers, metadata } = modelFromOnnx(bytes);
    assert.equal(tiers, 3);
    assert.equal(metadata.featureVersion, FEATURE_VERSION);
    assert.deepEqual(model.W, trained.model.W);
    assert.deepEqual(model.b, trained.model.b);
    assert.equal(decodeOnnx(bytes).opsetVersion, 13);
    assert.throws(() => encodeOnnx(newModel(4, 8), { tiers: 2 }), /8 classes for 2 tiers/);
  });

  it('runs under onnxruntime-node and matches the TypeScript forward pass to 1e-5; outputs sum to 1', async () => {
    const session = await InferenceSession.create(readFileSync(join(modelDir, 'model.onnx')));
    assert.deepEqual(session.inputNames, ['features']);
    assert.deepEqual(session.outputNames, ['joint', 'tier_probs']);
    const F = trained.manifest.featureDim;
    const batch = rows.slice(0, 20);
    const input = new Float32Array(F * batch.length);
    const xs = batch.map((r) => featurize(rowText(r), trained.manifest));
    xs.forEach((x, r) => toDense(x, F, input.subarray(r * F, (r + 1) * F)));
    const out = await session.run({ features: new Tensor('float32', input, [batch.length, F]) });
    const joint = out.joint!.data as Float32Array;
    const tierProbs = out.tier_probs!.data as Float32Array;
    assert.deepEqual(out.joint!.dims, [batch.length, 8]);
    xs.forEach((x, r) => {
      const ts = predictJoint(trained.model, x);
      const tsMarg = marginals(ts, 3);
      let sum = 0;
      for (let k = 0; k < 8; k++) {
        assert.ok(Math.abs(joint[r * 8 + k]! - ts[k]!) < 1e-5, `row ${r} outcome ${k}: ${joint[r * 8 + k]} vs ${ts[k]}`);
        sum += joint[r * 8 + k]!;
      }
      assert.ok(Math.abs(sum - 1) < 1e-5, `joint sums to ${sum}`);
      for (let i = 0; i < 3; i++) assert.ok(Math.abs(tierProbs[r * 3 + i]! - tsMarg[i]!) < 1e-5);
    });
    await session.release();
  });
});

describe('serving', () => {
  it('loadClassifier returns a classifier whose async (ONNX) and sync (TS) paths agree', async () => {
    const clf = await loadClassifier(modelDir);
    assert.match(clf.name, /synthetic/);
    const onnx = clf as OnnxQueryClassifier;
    for (const r of rows.slice(0, 10)) {
      const sync = clf.score(r);
      const viaOnnx = await onnx.predict(rowText(r));
      assert.equal(sync.length, 3);
      sync.forEach((p, i) => assert.ok(Math.abs(p - viaOnnx.tiers[i]!) < 1e-5));
      assert.ok(Math.abs(viaOnnx.joint.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    }
    const easy = await onnx.predict(rowText({ key: 'x', question: 'Question 7 about arithmetic: please answer item 3.', options: ['alpha', 'beta', 'gamma', 'delta'] }));
    const hard = await onnx.predict(rowText({ key: 'y', question: 'Question 7 about topology: please answer item 3.', options: ['alpha', 'beta', 'gamma', 'delta'] }));
    assert.ok(easy.tiers[0]! > 0.6 && hard.tiers[2]! < 0.4, `easy ${easy.tiers} hard ${hard.tiers}`);
    assert.throws(() => clf.score({ ...rows[0]!, tiers: rows[0]!.tiers.slice(0, 2) }), /trained for 3 tiers/);
    await onnx.release();
  });

  it('concurrent predictions (as a router serves them) each get their own answer', async () => {
    const clf = await OnnxQueryClassifier.load(modelDir);
    const texts = rows.slice(0, 40).map(rowText);
    // All started before any runs: onnxruntime-node runs each in a later setImmediate, on its own input row.
    const together = await Promise.all(texts.map((t) => clf.predict(t)));
    texts.forEach((t, r) => {
      const sync = clf.predictSync(t);
      together[r]!.joint.forEach((p, k) => assert.ok(Math.abs(p - sync.joint[k]!) < 1e-5, `text ${r}, outcome ${k}`));
    });
    // And again, sequentially, after the pooled rows were handed back (they must come back zeroed).
    for (const [r, t] of texts.slice(0, 10).entries()) {
      const again = await clf.predict(t);
      again.joint.forEach((p, k) => assert.ok(Math.abs(p - together[r]!.joint[k]!) < 1e-6));
    }
    await clf.release();
  });

  it('refuses a model trained with another feature version', async () => {
    const other = join(dir, 'other');
    writeClassifier(other, trained);
    const manifest = JSON.parse(readFileSync(join(other, MANIFEST_FILE), 'utf8'));
    writeFileSync(join(other, MANIFEST_FILE), JSON.stringify({ ...manifest, featureVersion: 'hash-ngram-v0' }));
    await assert.rejects(OnnxQueryClassifier.load(other), /trained with features hash-ngram-v0/);
  });
});
