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

/** Load a trained query classifier from a directory. Not built yet: always refuses, saying so. */
export async function loadClassifier(dir: string): Promise<QueryClassifier> {
  throw new ExtensionPendingError(`--classifier ${dir}: the ONNX query classifier is not built yet; run without --classifier`);
}

/** tiermix's own policy, once it exists. */
export const TIERMIX_POLICY: TiermixProvider | undefined = undefined;
