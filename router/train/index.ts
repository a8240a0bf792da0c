// The offline evaluation harness in one call (what `tiermix eval` runs), and the API the classifier and
// the POMDP plug into. See docs/evaluation.md.
import { DEFAULT_COST_SETTINGS, type CostSettings } from './cost.js';
import { TIERMIX_POLICY, type Extensions } from './extensions.js';
import { loadSetup } from './load.js';
import { observe, type VerifierMode } from './observe.js';
import { DataError } from './rows.js';
import { buildReport, type EvalReport } from './report.js';
import { buildFamilies, runEvaluation } from './run.js';
import { describeSplit, ID_SPLIT, type SplitSpec } from './split.js';
import { trainQueryClassifier } from './query-classifier.js';

export interface OfflineEvalOptions {
  data: string;
  tiers: string[];
  gpus?: number[];
  answerTokens?: number[];
  settings?: CostSettings;
  mode: VerifierMode;
  /** Defaults to the built-in ones (tiermix's POMDP; see extensions.ts). */
  extensions?: Extensions;
  /** Train and test rows (default: the id rule; or whole categories held out for the out-of-domain check). */
  split?: SplitSpec;
  /** Train a query classifier on this run's train rows and use it (classifier-threshold, and tiermix's prior). */
  trainClassifier?: boolean;
  log?: (line: string) => void;
}

export async function runOfflineEvaluation(opts: OfflineEvalOptions): Promise<EvalReport> {
  if (opts.tiers.length < 2) throw new DataError('--tiers needs at least two tiers, smallest first');
  const settings = { ...(opts.settings ?? DEFAULT_COST_SETTINGS) };
  // One k for the verifier draws and for the cost of a verification.
  if (opts.mode.kind === 'simulated') settings.verifySamples = opts.mode.samples;
  const split = opts.split ?? ID_SPLIT;
  const setup = await loadSetup({ ...opts, settings, split });
  const rows = observe(
    setup.rows,
    setup.tiers.map((t) => t.name),
    opts.mode,
  );
  const ctx = { tiers: setup.tiers, costs: setup.costs };
  let ext: Extensions = opts.extensions ?? (TIERMIX_POLICY ? { tiermix: TIERMIX_POLICY } : {});
  if (opts.trainClassifier) {
    if (ext.classifier) throw new DataError('a classifier was given and one is to be trained: choose one');
    opts.log?.(`training a query classifier on the ${setup.rows.filter((r) => !r.test).length} train rows (${describeSplit(split)})`);
    ext = { ...ext, classifier: trainQueryClassifier(setup.rows, setup.tiers.map((t) => t.name), 'eval-train-split', opts.log) };
  }
  const set = buildFamilies(ctx, rows, ext);
  const run = runEvaluation(rows, ctx, set.families);
  return buildReport({ ...setup, run, set, rows, mode: opts.mode, splitRule: describeSplit(split), classifier: ext.classifier?.name ?? null });
}

export { buildFamilies, runEvaluation, runFamily } from './run.js';
export type { FamilyResult, FamilySet, RunResult } from './run.js';
export type { Candidate, EvalContext, Evaluation, RowPolicy, Trace } from './evaluate.js';
export type { FitContext, PolicyFamily } from './family.js';
export type { Extensions, QueryClassifier, TiermixProvider } from './extensions.js';
export type { EvalReport, PolicyJson } from './report.js';
export { livePolicy, cascadeView } from './live-adapter.js';
export { observe, parseVerifierMode, verifierLabel } from './observe.js';
export { applySplit, describeSplit, parseCategoryList, ID_SPLIT, type SplitSpec } from './split.js';
export { trainQueryClassifier, type TrainedQueryClassifier } from './query-classifier.js';
