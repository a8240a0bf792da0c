// Fitting the POMDP's parameters for the live router (pomdp.json, written by `tiermix train` beside the
// classifier): the observation model and empirical joint from router/policy/pomdp fitModel on the TRAIN
// rows, with the verifier observations of the stated mode, and the modelled per-tier costs as occupancy
// seconds (GPU-seconds / GPUs per replica), the starting point of the router's live cost estimate.
import { fitModel, type LabelledOutcome } from '../policy/pomdp/model.js';
import { paramsFromModel, type PomdpParams } from '../policy/pomdp/params.js';
import type { TierCost, TierSpec } from './cost.js';
import { COST_NOTE } from './report.js';
import { observe, verifierLabel, type ObservedRow, type VerifierMode } from './observe.js';
import type { EvalRow } from './rows.js';

export function labelledOutcomes(rows: readonly ObservedRow[]): LabelledOutcome[] {
  return rows.map((r) => ({ correct: r.tiers.map((t) => t.correct), answers: r.tiers.map((t) => t.pred), confidence: r.confidence }));
}

export interface PomdpFitInput {
  /** Every row; only those with test === false are fitted. */
  rows: readonly EvalRow[];
  tiers: readonly TierSpec[];
  costs: readonly TierCost[];
  mode: VerifierMode;
  data: string;
  split: string;
}

export function fitPomdpParams(input: PomdpFitInput): PomdpParams {
  const names = input.tiers.map((t) => t.name);
  const train = observe(
    input.rows.filter((r) => !r.test),
    names,
    input.mode,
  );
  if (train.length === 0) throw new Error('no train rows to fit the POMDP on');
  const k = input.mode.kind === 'simulated' ? input.mode.samples : 8;
  const model = fitModel(labelledOutcomes(train), { verifierSamples: k });
  const real = train.some((r) => r.source.includes('real'));
  return paramsFromModel(model, {
    tiers: names,
    answerFormat: 'letter',
    verifier: real ? `real (conf__ columns)${input.mode.kind === 'simulated' ? `, else ${verifierLabel(input.mode)}` : ''}` : verifierLabel(input.mode),
    occupancySeconds: {
      answer: input.costs.map((c, i) => c.answer / input.tiers[i]!.gpusPerReplica),
      verify: input.costs.map((c, i) => c.verify / input.tiers[i]!.gpusPerReplica),
      note: COST_NOTE,
    },
    training: { data: input.data, split: input.split, rows: train.length, createdAt: new Date().toISOString() },
  });
}
