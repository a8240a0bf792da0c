// Extension points for the two policies that do not exist yet: the ONNX query classifier (RouteLLM-style
// classifier threshold, and the prior tiermix's policy may use) and tiermix's N-tier POMDP. Until they are
// built, the harness lists them as pending and never stands anything in for them.
//
// To plug in:
//   - classifier: implement QueryClassifier and make loadClassifier(dir) return it (`--classifier <dir>`);
//     the "classifier-threshold" family then runs, and tiermix receives it as its prior.
//   - tiermix: make TIERMIX_POLICY a TiermixProvider; each knob value (e.g. lambda) gives a live
//     RoutingPolicy, measured through its decide() loop (live-adapter.ts).
import type { RoutingPolicy } from '../policy/types.js';
import { fitModel, PomdpPolicy, type LabelledOutcome } from '../policy/pomdp/index.js';
import { DEFAULT_VERIFY_SAMPLES } from './observe.js';
import type { FitContext } from './family.js';
import type { EvalRow } from './rows.js';

export interface QueryClassifier {
  readonly name: string;
  /** P(tier i answers this row correctly), smallest tier first; from the query text only (row.question, row.options). */
  score(row: EvalRow): number[];
}

export interface TiermixProvider {
  readonly name: string;
  /** Fit on fit.train only; one live policy per operating point (knob). */
  fit(fit: FitContext, classifier?: QueryClassifier): { knob: string; policy: RoutingPolicy }[];
}

export interface Extensions {
  classifier?: QueryClassifier;
  tiermix?: TiermixProvider;
}

export const PENDING_REASONS = {
  'classifier-threshold': 'pending: the ONNX query classifier is not built yet (pass --classifier <dir> once it is)',
  tiermix: "pending: tiermix's N-tier POMDP policy is not built yet",
} as const;

export class ExtensionPendingError extends Error {}

/** Load a trained query classifier from a directory (model.onnx + manifest.json from `tiermix train`; docs/classifier.md). */
export async function loadClassifier(dir: string): Promise<QueryClassifier> {
  // Imported here so that onnxruntime-node loads only when a classifier is asked for.
  const { OnnxQueryClassifier } = await import('../classifier/runtime.js');
  return OnnxQueryClassifier.load(dir);
}

/** The lambda values swept (price of a GPU-second in accuracy): 0 and a log grid of 81 values from 1e-3 to 3. */
export const LAMBDA_GRID: readonly number[] = [0, ...Array.from({ length: 81 }, (_, i) => Number((1e-3 * Math.pow(3000, i / 80)).toPrecision(3)))];

/**
 * tiermix's N-tier POMDP (router/policy/pomdp): observation model and empirical joint prior fitted on
 * fit.train (answers, extraction, agreement, verifier bins), costs from the harness's cost model, one live
 * PomdpPolicy per lambda. With a classifier, its scores reach the policy as RoutingState.prior.perTier.
 */
export function pomdpProvider(lambdas: readonly number[] = LAMBDA_GRID, verifierSamples = DEFAULT_VERIFY_SAMPLES, priorQuantum = 0): TiermixProvider {
  return {
    name: `N-tier POMDP (expectimax; prior: empirical train joint, or the classifier tilted onto it${priorQuantum > 0 ? `, classifier probabilities rounded to ${priorQuantum}` : ''})`,
    fit(fit) {
      const rows: LabelledOutcome[] = fit.train.map((r) => ({
        correct: r.tiers.map((t) => t.correct),
        answers: r.tiers.map((t) => t.pred),
        confidence: r.confidence,
      }));
      const model = fitModel(rows, { verifierSamples });
      const costs = { answer: fit.costs.map((c) => c.answer), verify: fit.costs.map((c) => c.verify) };
      return lambdas.map((lambda) => ({ knob: `lambda=${lambda}`, policy: new PomdpPolicy({ model, costs, lambda, priorQuantum }) }));
    },
  };
}

/** tiermix's own policy. */
export const TIERMIX_POLICY: TiermixProvider | undefined = pomdpProvider();
