// A query classifier trained in the evaluation run itself, on the run's own train rows (for the
// out-of-domain check, where the shipped classifier has seen every category): the same trainer, features
// and model as `tiermix train` (router/classifier), scored with the TypeScript forward pass (the same weights
// the ONNX export would hold; runtime.ts checks the two agree to 1e-5).
import { featurize, rowText } from '../classifier/featurize.js';
import { marginals, predictJoint } from '../classifier/model.js';
import { DEFAULT_CLASSIFIER_OPTIONS, trainClassifier, type Manifest } from '../classifier/pipeline.js';
import type { QueryClassifier } from './extensions.js';
import { DataError, type EvalRow } from './rows.js';

export interface TrainedQueryClassifier extends QueryClassifier {
  manifest: Manifest;
}

/** Train on the rows with test === false (trainClassifier's rule) and score any row by its question text. */
export function trainQueryClassifier(rows: readonly EvalRow[], models: readonly string[], name: string, log?: (line: string) => void): TrainedQueryClassifier {
  const missing = rows.find((r) => typeof r.question !== 'string');
  if (missing) throw new DataError(`row ${missing.key} has no question text; training a classifier needs question (and options) on every row`);
  const { model, manifest } = trainClassifier(rows, [...models], name, { ...DEFAULT_CLASSIFIER_OPTIONS, ...(log ? { log } : {}) }, name);
  const n = models.length;
  return {
    name: `trained in this run: ${name} (${manifest.training.trainRows} train rows)`,
    manifest,
    score: (row) => marginals(predictJoint(model, featurize(rowText(row), manifest)), n),
  };
}
