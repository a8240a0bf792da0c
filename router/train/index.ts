// The offline evaluation harness in one call (what `tiermix eval` runs), and the API the classifier and
// the POMDP plug into. See docs/evaluation.md.
import { DEFAULT_COST_SETTINGS, type CostSettings } from './cost.js';
import { TIERMIX_POLICY, type Extensions } from './extensions.js';
import { loadSetup } from './load.js';
import { observe, type VerifierMode } from './observe.js';
import { DataError } from './rows.js';
import { buildReport, type EvalReport } from './report.js';
import { buildFamilies, runEvaluation } from './run.js';

export interface OfflineEvalOptions {
  data: string;
  tiers: string[];
  gpus?: number[];
  answerTokens?: number[];
  settings?: CostSettings;
  mode: VerifierMode;
  /** Defaults to the built-in ones (today: none; see extensions.ts). */
  extensions?: Extensions;
}

export async function runOfflineEvaluation(opts: OfflineEvalOptions): Promise<EvalReport> {
  if (opts.tiers.length < 2) throw new DataError('--tiers needs at least two tiers, smallest first');
  const settings = { ...(opts.settings ?? DEFAULT_COST_SETTINGS) };
  // One k for the verifier draws and for the cost of a verification.
  if (opts.mode.kind === 'simulated') settings.verifySamples = opts.mode.samples;
  const setup = await loadSetup({ ...opts, settings });
  const rows = observe(
    setup.rows,
    setup.tiers.map((t) => t.name),
    opts.mode,
  );
  const ctx = { tiers: setup.tiers, costs: setup.costs };
  const ext: Extensions = opts.extensions ?? (TIERMIX_POLICY ? { tiermix: TIERMIX_POLICY } : {});
  const set = buildFamilies(ctx, rows, ext);
  const run = runEvaluation(rows, ctx, set.families);
  return buildReport({ ...setup, run, set, rows, mode: opts.mode });
}

export { buildFamilies, runEvaluation, runFamily } from './run.js';
export type { FamilyResult, FamilySet, RunResult } from './run.js';
export type { Candidate, EvalContext, Evaluation, RowPolicy, Trace } from './evaluate.js';
export type { FitContext, PolicyFamily } from './family.js';
export type { Extensions, QueryClassifier, TiermixProvider } from './extensions.js';
export type { EvalReport, PolicyJson } from './report.js';
export { livePolicy, cascadeView } from './live-adapter.js';
export { observe, parseVerifierMode, verifierLabel } from './observe.js';
