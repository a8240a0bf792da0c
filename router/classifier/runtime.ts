// Serving a trained query classifier: the ONNX model run by onnxruntime-node (one InferenceSession per
// loaded model), and the same weights read back from the ONNX file for a synchronous TypeScript forward
// pass (the offline harness's QueryClassifier.score is synchronous; onnxruntime-node's run is not).
// Loading checks that both agree on probe prompts, so the two paths cannot drift apart.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { EvalRow } from '../train/rows.js';
import { FEATURE_VERSION, featureDim, featurize, rowText, toDense, type SparseVector } from './featurize.js';
import { marginals, predictJoint, type SoftmaxModel } from './model.js';
import { JOINT_OUTPUT, MARGINAL_OUTPUT, INPUT_NAME, modelFromOnnx } from './onnx.js';
import { MANIFEST_FILE, MANIFEST_FORMAT, type Manifest } from './pipeline.js';

export interface ClassifierOutput {
  /** P(joint outcome k), k's bit i = tier i correct. */
  joint: number[];
  /** P(tier i answers correctly), smallest tier first (marginals of the joint). */
  tiers: number[];
}

/** Largest allowed |ONNX Runtime - TypeScript| on a probability at load time. */
export const PARITY_TOLERANCE = 1e-5;

const PROBES = [
  'Question: What is 2 + 2?\nOptions:\nA. 3\nB. 4\nC. 5\nD. 22\nAnswer: Let\'s think step by step.',
  'Which amendment to the U.S. Constitution protects against unreasonable searches and seizures?',
  'Compute the integral of $x^2 e^{x}$ dx from 0 to 1, and give the answer to three decimals.',
  '',
];

export class OnnxQueryClassifier {
  readonly name: string;
  /** Zeroed input rows for single-query runs (see predictFeatures). */
  private readonly pool: Float32Array<ArrayBuffer>[] = [];

  private constructor(
    readonly manifest: Manifest,
    private readonly session: InferenceSession,
    private readonly model: SoftmaxModel,
  ) {
    this.name = `onnx:${manifest.name}`;
  }

  /** Load dir/manifest.json and its ONNX model; refuses a feature version or shape this code does not produce. */
  static async load(dir: string, sessionOptions: InferenceSession.SessionOptions = {}): Promise<OnnxQueryClassifier> {
    const manifestPath = join(dir, MANIFEST_FILE);
    if (!existsSync(manifestPath)) {
      // ENOENT: the caller's input is wrong (tiermix eval exits 2).
      throw Object.assign(new Error(`${dir}: no ${MANIFEST_FILE}; expected a classifier folder written by tiermix train`), { code: 'ENOENT' });
    }
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    if (manifest.format !== MANIFEST_FORMAT) throw new Error(`${dir}: manifest format ${JSON.stringify(manifest.format)}, expected ${MANIFEST_FORMAT}`);
    if (manifest.featureVersion !== FEATURE_VERSION) {
      throw new Error(`${dir}: trained with features ${manifest.featureVersion}, this build computes ${FEATURE_VERSION}; retrain (tiermix train)`);
    }
    if (manifest.featureDim !== featureDim(manifest)) throw new Error(`${dir}: featureDim ${manifest.featureDim} does not match hashBits ${manifest.hashBits}`);
    const bytes = readFileSync(join(dir, manifest.onnx.file));
    const { model, tiers } = modelFromOnnx(bytes);
    if (model.dim !== manifest.featureDim || tiers !== manifest.tiers.length) {
      throw new Error(`${dir}: the ONNX model takes ${model.dim} features for ${tiers} tiers; the manifest says ${manifest.featureDim} for ${manifest.tiers.length}`);
    }
    const session = await InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, ...sessionOptions });
    const c = new OnnxQueryClassifier(manifest, session, model);
    const diff = await c.parityCheck(PROBES);
    if (!(diff <= PARITY_TOLERANCE)) throw new Error(`${dir}: ONNX Runtime and the TypeScript forward pass differ by ${diff} on probe prompts`);
    return c;
  }

  get tiers(): string[] {
    return this.manifest.tiers;
  }

  featurize(text: string): SparseVector {
    return featurize(text, this.manifest);
  }

  /** onnxruntime-node on one prompt. */
  async predict(text: string): Promise<ClassifierOutput> {
    const [out] = await this.predictFeatures([this.featurize(text)]);
    return out!;
  }

  /** onnxruntime-node on a batch of prompts (one run). */
  async predictBatch(texts: readonly string[]): Promise<ClassifierOutput[]> {
    return this.predictFeatures(texts.map((t) => this.featurize(t)));
  }

  async predictFeatures(xs: readonly SparseVector[]): Promise<ClassifierOutput[]> {
    const F = this.manifest.featureDim;
    // onnxruntime-node runs the session in a later setImmediate on the tensor's own memory, so an input buffer
    // must not be shared by concurrent calls: one query takes a zeroed buffer from a pool and gives it back
    // zeroed (only its non-zero slots are reset), so the hot path allocates no 64 KiB array per request.
    const single = xs.length === 1;
    const input = single ? (this.pool.pop() ?? new Float32Array(F)) : new Float32Array(F * xs.length);
    if (single) for (let k = 0; k < xs[0]!.indices.length; k++) input[xs[0]!.indices[k]!] = xs[0]!.values[k]!;
    else xs.forEach((x, r) => toDense(x, F, input.subarray(r * F, (r + 1) * F)));
    let res: InferenceSession.OnnxValueMapType;
    try {
      res = await this.session.run({ [INPUT_NAME]: new Tensor('float32', input, [xs.length, F]) });
    } finally {
      if (single) {
        for (let k = 0; k < xs[0]!.indices.length; k++) input[xs[0]!.indices[k]!] = 0;
        if (this.pool.length < 64) this.pool.push(input);
      }
    }
    const joint = res[JOINT_OUTPUT]!.data as Float32Array;
    const tiers = res[MARGINAL_OUTPUT]!.data as Float32Array;
    const K = this.model.classes;
    const N = this.manifest.tiers.length;
    return xs.map((_, r) => ({ joint: Array.from(joint.subarray(r * K, (r + 1) * K)), tiers: Array.from(tiers.subarray(r * N, (r + 1) * N)) }));
  }

  /** The TypeScript forward pass (same weights, read from the ONNX file), synchronous. */
  predictSync(text: string): ClassifierOutput {
    const joint = Array.from(predictJoint(this.model, this.featurize(text)));
    return { joint, tiers: marginals(joint, this.manifest.tiers.length) };
  }

  /** QueryClassifier.score: P(tier i correct) for a data row, from its question and options only. */
  score(row: EvalRow): number[] {
    if (row.tiers.length !== this.manifest.tiers.length) {
      throw new Error(`classifier ${this.manifest.name} was trained for ${this.manifest.tiers.length} tiers (${this.manifest.tiers.join(', ')}), the row has ${row.tiers.length}`);
    }
    return this.predictSync(rowText(row)).tiers;
  }

  /** Largest |ONNX Runtime - TypeScript| over the joint and tier probabilities of these prompts. */
  async parityCheck(texts: readonly string[]): Promise<number> {
    const onnx = await this.predictBatch(texts);
    let max = 0;
    texts.forEach((t, r) => {
      const ts = this.predictSync(t);
      const o = onnx[r]!;
      ts.joint.forEach((p, k) => (max = Math.max(max, Math.abs(p - o.joint[k]!))));
      ts.tiers.forEach((p, i) => (max = Math.max(max, Math.abs(p - o.tiers[i]!))));
    });
    return max;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
