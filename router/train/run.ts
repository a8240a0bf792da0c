// The evaluation run: which policies apply to this data and verifier, each family's operating points
// (candidates -> TRAIN Pareto frontier -> TEST), and the metrics on TEST. Pure over the observed rows.
import { agreementFamily, alwaysFamily, automixThresholdFamily, classifierThresholdFamily, extractionFamily, randomMixFamily } from './baselines.js';
import { automixPomdpFamily, chainedAutomixFamily } from './automix.js';
import { evaluateCandidate, paretoFrontier, type EvalContext, type Evaluation } from './evaluate.js';
import { PENDING_REASONS, type Extensions } from './extensions.js';
import type { AbsentFamily, FitContext, PolicyFamily } from './family.js';
import { cascadeView, livePolicy, liveThresholdFamily } from './live-adapter.js';
import { apgr, costAtAccuracy, cpt, deltaIbcOfPoint, deltaIbcRegions, type Anchors, type CurvePoint } from './metrics.js';
import { hasObservations, type ObservedRow } from './observe.js';
import { DataError, type EvalRow } from './rows.js';

export interface FamilySet {
  families: PolicyFamily[];
  /** Not applicable to this run (too few tiers, no verifier observations). */
  unavailable: AbsentFamily[];
  /** Not built yet. */
  pending: AbsentFamily[];
}

const NO_VERIFIER = 'needs verifier observations: run with --verifier simulated, or data with conf__<model> on every row';

export function buildFamilies(ctx: EvalContext, rows: readonly ObservedRow[], ext: Extensions = {}): FamilySet {
  const n = ctx.tiers.length;
  const last = n - 1;
  const families: PolicyFamily[] = [alwaysFamily(0, 'always-smallest', `always ${ctx.tiers[0]!.name}`)];
  for (let i = 1; i < last; i++) families.push(alwaysFamily(i, `always-${ctx.tiers[i]!.name}`, `always ${ctx.tiers[i]!.name}`, false));
  families.push(alwaysFamily(last, 'always-largest', `always ${ctx.tiers[last]!.name}`));
  families.push(randomMixFamily(last), extractionFamily(last));
  const unavailable: AbsentFamily[] = [];
  if (n >= 3) families.push(agreementFamily(last));
  else unavailable.push({ name: 'agreement', reason: 'needs 3+ tiers (two cheap tiers to compare)' });

  const verifierFamilies: [PolicyFamily | null, number[], string][] = [
    [automixThresholdFamily(0, last), [0], 'automix-threshold'],
    [automixPomdpFamily(0, last), [0], 'automix-pomdp'],
    [n >= 3 ? chainedAutomixFamily(n) : null, ctx.tiers.slice(0, -1).map((_, i) => i), 'chained-automix'],
    [liveThresholdFamily(ctx.tiers), ctx.tiers.slice(0, -1).map((_, i) => i), 'live-threshold'],
  ];
  for (const [fam, needs, name] of verifierFamilies) {
    if (!fam) unavailable.push({ name, reason: 'needs 3+ tiers (with 2 it is automix-pomdp)' });
    else if (!hasObservations(rows, needs)) unavailable.push({ name, reason: NO_VERIFIER });
    else families.push(fam);
  }

  const pending: AbsentFamily[] = [];
  const classifier = ext.classifier;
  // Scored once per row, shared by every policy and knob that uses the classifier.
  const cache = new WeakMap<EvalRow, number[]>();
  const scores = classifier
    ? (r: EvalRow) => cache.get(r) ?? (cache.set(r, classifier.score(r)), cache.get(r)!)
    : undefined;
  if (classifier && scores) families.push(classifierThresholdFamily(classifier.name, scores));
  else pending.push({ name: 'classifier-threshold', reason: PENDING_REASONS['classifier-threshold'] });
  if (ext.tiermix) {
    const provider = ext.tiermix;
    const cascade = cascadeView(ctx.tiers);
    families.push({
      name: 'tiermix',
      description: `tiermix: ${provider.name}`,
      signals: 'mixed',
      candidates: (fit) => provider.fit(fit, ext.classifier).map((c) => ({ knob: c.knob, policy: livePolicy(c.policy, cascade, scores) })),
    });
  } else pending.push({ name: 'tiermix', reason: PENDING_REASONS.tiermix });
  return { families, unavailable, pending };
}

export interface CurveEntry extends CurvePoint {
  knob: string;
  evaluation: Evaluation;
}

export interface FamilyResult {
  family: PolicyFamily;
  /** Operating points on TEST (the train-frontier candidates), cheapest first by train cost. */
  curve: CurveEntry[];
  /** The one shown in the table. */
  operating: CurveEntry;
  deltaIbc: number | null;
  deltaIbcRegions: number[] | null;
  apgr: number | null;
  cpt50: number | null;
  cpt80: number | null;
  costAt98: number | null;
}

export interface RunResult {
  trainN: number;
  testN: number;
  /** always-smallest and always-largest on test: the axis of every metric. */
  anchors: Anchors;
  results: FamilyResult[];
}

const pointOf = (e: CurvePoint): CurvePoint => ({ cost: e.cost, accuracy: e.accuracy });

function anchorsOn(rows: readonly ObservedRow[], ctx: EvalContext): Anchors {
  const last = ctx.tiers.length - 1;
  const acc = (i: number) => (rows.length === 0 ? 0 : rows.filter((r) => r.tiers[i]!.correct).length / rows.length);
  return { smallest: { cost: ctx.costs[0]!.answer, accuracy: acc(0) }, largest: { cost: ctx.costs[last]!.answer, accuracy: acc(last) } };
}

export function runFamily(family: PolicyFamily, fit: FitContext, test: readonly ObservedRow[], trainAnchors: Anchors, testAnchors: Anchors): FamilyResult {
  const candidates = family.candidates(fit);
  if (candidates.length === 0) throw new Error(`${family.name}: no candidates`);
  const onTrain = candidates.map((c) => evaluateCandidate(c, fit.train, fit));
  // Operating points: the train Pareto frontier, also against the two reference tiers (a point that
  // always-smallest beats on train, e.g. verifying and never escalating, is not one); if every candidate is
  // beaten, keep the family's own frontier so that its metrics show it.
  const withRefs = paretoFrontier([...onTrain.map(pointOf), trainAnchors.smallest, trainAnchors.largest]).filter((i) => i < onTrain.length);
  const keep = withRefs.length > 0 ? withRefs : paretoFrontier(onTrain.map(pointOf));
  const curve = keep.map((i): CurveEntry => {
    const e = evaluateCandidate(candidates[i]!, test, fit);
    return { knob: candidates[i]!.knob, cost: e.cost, accuracy: e.accuracy, evaluation: e };
  });
  // AutoMix's rule for one operating point: the largest IBC lift on train.
  let pick = family.operatingKnob ? keep.findIndex((i) => candidates[i]!.knob === family.operatingKnob) : -1;
  if (pick < 0) {
    let best = -Infinity;
    keep.forEach((i, j) => {
      const lift = deltaIbcOfPoint(pointOf(onTrain[i]!), trainAnchors);
      if (lift !== null && lift > best) [best, pick] = [lift, j];
    });
  }
  const operating = curve[Math.max(0, pick)]!;
  const points = curve.map(pointOf);
  const ref = family.reference === true;
  const target = 0.98 * testAnchors.largest.accuracy;
  return {
    family,
    curve,
    operating,
    deltaIbc: ref ? null : mean(deltaIbcRegions(points, testAnchors)),
    deltaIbcRegions: ref ? null : deltaIbcRegions(points, testAnchors),
    apgr: ref ? null : apgr(points, testAnchors),
    cpt50: ref ? null : cpt(points, testAnchors, 0.5),
    cpt80: ref ? null : cpt(points, testAnchors, 0.8),
    costAt98: costAtAccuracy(points, target),
  };
}

const mean = (v: number[] | null) => (v ? v.reduce((s, x) => s + x, 0) / v.length : null);

export function runEvaluation(rows: readonly ObservedRow[], ctx: EvalContext, families: readonly PolicyFamily[]): RunResult {
  const train = rows.filter((r) => !r.test);
  const test = rows.filter((r) => r.test);
  if (train.length === 0 || test.length === 0) throw new DataError(`need rows in both splits (train ${train.length}, test ${test.length}; test = id ending in a multiple of 5)`);
  const fit: FitContext = { ...ctx, train };
  const trainAnchors = anchorsOn(train, ctx);
  const anchors = anchorsOn(test, ctx);
  return { trainN: train.length, testN: test.length, anchors, results: families.map((f) => runFamily(f, fit, test, trainAnchors, anchors)) };
}
