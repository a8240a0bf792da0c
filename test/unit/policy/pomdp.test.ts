// tiermix's N-tier POMDP: model fitting, priors, the expectimax solver and the live RoutingPolicy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRng } from '../../../router/sim/rng.js';
import type { CascadeView, RoutingState, TierObservation } from '../../../router/policy/types.js';
import {
  answerKey,
  extensionProbs,
  fitModel,
  independentJoint,
  marginal,
  PomdpPolicy,
  rootNode,
  Solver,
  tiltJoint,
  type LabelledOutcome,
} from '../../../router/policy/pomdp/index.js';

const LETTERS = 'ABCDEFGHIJ';

interface Synth {
  n: number;
  /** P(correct) of tier i given a difficulty d in [0,1): acc[i](d). */
  acc: ((d: number) => boolean)[];
  /** Verifier confidence of a tier: informative (correct -> high) when true, else absent. */
  verifier?: boolean;
  nullShare?: number;
  seed?: number;
}

/** Synthetic labelled outcomes: a shared difficulty per question makes the tiers' correctness correlated. */
function synth(o: Synth): LabelledOutcome[] {
  const rng = seededRng(o.seed ?? 3);
  return Array.from({ length: o.n }, () => {
    const d = rng();
    const gold = LETTERS[Math.floor(rng() * 10)]!;
    const correct = o.acc.map((f) => f(d + 0.3 * (rng() - 0.5)));
    const answers = correct.map((c) => {
      if (c) return gold;
      if (rng() < (o.nullShare ?? 0.1)) return null;
      // Wrong answers cluster on a "distractor" letter half the time (so wrong tiers sometimes agree).
      const g = LETTERS.indexOf(gold);
      return LETTERS[(g + (rng() < 0.5 ? 1 : 1 + Math.floor(rng() * 9))) % 10]!;
    });
    const confidence = correct.map((c) => (o.verifier ? Math.round(Math.min(1, Math.max(0, (c ? 0.7 : 0.35) + 0.5 * (rng() - 0.5))) * 8) / 8 : null));
    return { correct, answers, confidence };
  });
}

// Three tiers like the real data: the middle one is a distractor (cheaper than the largest, worse than the smallest).
const THREE = synth({
  n: 6000,
  acc: [(d) => d > 0.6, (d) => d > 0.8, (d) => d > 0.35],
  verifier: true,
});
const COSTS = { answer: [0.13, 0.24, 2.0], verify: [0.35, 0.58, 5.0] };
const cascade: CascadeView = { name: 'c', tiers: ['s', 'm', 'l'].map((name, index) => ({ index, name, gpusPerReplica: 1 })) };
const obs = (tier: number, letter: string | null, confidence: number | null = null): TierObservation => ({
  tier,
  answer: letter === null ? 'no idea, sorry' : `The answer is (${letter}).`,
  confidence,
  verifierSamples: confidence === null ? 0 : 8,
});
const state = (observations: TierObservation[], perTier?: number[]): RoutingState => ({
  cascade,
  query: 'q',
  observations,
  ...(perTier ? { prior: { perTier } } : {}),
});

/** Runs a policy over a labelled row the way the router (and router/train/live-adapter.ts) does. */
function run(policy: PomdpPolicy, row: LabelledOutcome): { asked: number[]; verified: number[]; returned: number; cost: number } {
  const observations: TierObservation[] = [];
  const asked: number[] = [];
  const verified: number[] = [];
  let cost = 0;
  for (let step = 0; step < 5; step++) {
    const d = policy.decide(state(observations));
    if (d.action === 'return') return { asked, verified, returned: observations[d.observation]!.tier, cost };
    assert.ok(d.tier > (asked.at(-1) ?? -1), 'asks a larger tier');
    asked.push(d.tier);
    cost += COSTS.answer[d.tier]! + (d.verify ? COSTS.verify[d.tier]! : 0);
    if (d.verify) verified.push(d.tier);
    observations.push(obs(d.tier, row.answers[d.tier] ?? null, d.verify ? (row.confidence[d.tier] ?? null) : null));
  }
  throw new Error('no return');
}

describe('answerKey', () => {
  it('extracts the letter, or null; text mode normalises the last line', () => {
    assert.equal(answerKey('so the answer is (C).'), 'C');
    assert.equal(answerKey('(no answer letter could be extracted)'), null);
    assert.equal(answerKey('Work...\nAnswer: 42.', 'text'), '42');
    assert.equal(answerKey('Work...\nThe answer is  Paris!', 'text'), 'paris');
    assert.equal(answerKey('the answer is (B)', 'text'), 'B');
    assert.equal(answerKey('  \n ', 'text'), null);
  });
});

describe('fitModel', () => {
  const model = fitModel(THREE);

  it('fits the empirical joint prior (smoothed) and per-tier verifier bins', () => {
    assert.equal(model.jointPrior.length, 8);
    assert.ok(Math.abs(model.jointPrior.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    const acc0 = THREE.filter((r) => r.correct[0]).length / THREE.length;
    assert.ok(Math.abs(marginal(model.jointPrior, 0) - acc0) < 1e-3);
    for (const t of model.verify) for (const c of t) assert.ok(Math.abs(c.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    // Correct answers get higher bins: P(bin 8 | correct) > P(bin 8 | wrong).
    assert.ok(model.verify[0]![1]![8]! > model.verify[0]![0]![8]!);
    assert.deepEqual(model.pUnknown, [0, 0, 0]);
  });

  it('answer-pattern conditionals are distributions, and two correct tiers agree', () => {
    for (let s = 0; s < 8; s++) {
      const p = extensionProbs(model, 0b001, [0], 2, s);
      assert.equal(p.length, 3); // no answer, same class as tier 0, a new class
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    }
    const both = extensionProbs(model, 0b001, [0], 2, 0b101);
    assert.ok(both[1]! > 0.99, `tiers 0 and 2 both correct agree: ${both[1]}`);
    const onlyLarge = extensionProbs(model, 0b001, [0], 2, 0b100);
    assert.ok(onlyLarge[2]! > 0.99, 'tier 2 correct, tier 0 wrong: a new class');
  });

  it('rejects empty data and ragged rows', () => {
    assert.throws(() => fitModel([]), RangeError);
    assert.throws(() => fitModel([{ correct: [true], answers: ['A', 'B'], confidence: [null] }]), RangeError);
  });
});

describe('priors', () => {
  it('independentJoint multiplies the marginals', () => {
    const j = independentJoint([0.5, 0.2]);
    assert.deepEqual([...j].map((v) => +v.toFixed(6)), [0.4, 0.4, 0.1, 0.1]);
  });

  it('tiltJoint takes the given marginals and keeps the dependence between tiers', () => {
    const base = fitModel(THREE).jointPrior;
    const t = tiltJoint(base, [0.8, 0.1, 0.9]);
    assert.ok(Math.abs(marginal(t, 0) - 0.8) < 1e-6);
    assert.ok(Math.abs(marginal(t, 1) - 0.1) < 1e-6);
    assert.ok(Math.abs(marginal(t, 2) - 0.9) < 1e-6);
    // Positive correlation survives: P(0 and 2 correct) > P(0) P(2).
    assert.ok(t[0b101]! + t[0b111]! > 0.8 * 0.9);
  });
});

describe('Solver', () => {
  it('matches a hand computation on two tiers without a verifier', () => {
    // Tier 0 right 50%, tier 1 right 80% (independent); answers always extracted; wrong answers never agree.
    const rows: LabelledOutcome[] = [];
    for (let i = 0; i < 1000; i++) {
      const c0 = i % 2 === 0;
      const c1 = i % 10 < 8;
      rows.push({ correct: [c0, c1], answers: [c0 ? 'A' : 'B', c1 ? 'A' : 'C'], confidence: [null, null] });
    }
    const model = fitModel(rows, { alpha: 1e-9 });
    const lambda = 0.1;
    const solver = new Solver(model, { lambda, costs: { answer: [1, 1], verify: [1, 1] } });
    const root = solver.plan(rootNode(model.jointPrior));
    // Ask 1 directly: 0.8 - 0.1. Ask 0 then stop: 0.5 - 0.1. Ask 0 then 1: both answers known; they agree iff both
    // right (0.4) -> right; else return tier 1 (higher posterior) -> right 0.4 of 0.6... = 0.8 overall, cost 0.2.
    assert.deepEqual(root.action, { kind: 'ask', tier: 1, verify: false });
    assert.ok(Math.abs(root.value - 0.7) < 1e-6, `value ${root.value}`);
    const cheap = new Solver(model, { lambda: 0.01, costs: { answer: [1, 1], verify: [1, 1] } }).plan(rootNode(model.jointPrior));
    assert.ok(Math.abs(cheap.value - (0.8 - 0.01)) < 1e-6);
  });

  it('never verifies when verification yields nothing', () => {
    const rows = synth({ n: 2000, acc: [(d) => d > 0.5, (d) => d > 0.3, (d) => d > 0.2] });
    const model = fitModel(rows);
    assert.deepEqual(model.pUnknown, [1, 1, 1]);
    const p = new PomdpPolicy({ model, costs: COSTS, lambda: 0.01 });
    for (const r of rows.slice(0, 200)) assert.deepEqual(run(p, r).verified, []);
  });

  it('lambda trades accuracy for cost monotonically, from always-smallest-like to asking the largest', () => {
    const model = fitModel(THREE);
    const test = synth({ n: 1500, acc: [(d) => d > 0.6, (d) => d > 0.8, (d) => d > 0.35], verifier: true, seed: 11 });
    const points = [10, 0.1, 0.05, 0.02, 0].map((lambda) => {
      const p = new PomdpPolicy({ model, costs: COSTS, lambda });
      const runs = test.map((r) => ({ r, t: run(p, r) }));
      return {
        lambda,
        cost: runs.reduce((s, x) => s + x.t.cost, 0) / runs.length,
        acc: runs.filter((x) => x.r.correct[x.t.returned]).length / runs.length,
        asked1: runs.filter((x) => x.t.asked.includes(1)).length / runs.length,
      };
    });
    assert.ok(Math.abs(points[0]!.cost - COSTS.answer[0]!) < 1e-9, 'a huge lambda asks the smallest tier only');
    for (let i = 1; i < points.length; i++) {
      assert.ok(points[i]!.cost >= points[i - 1]!.cost - 1e-9, `cost rises as lambda falls: ${JSON.stringify(points)}`);
      assert.ok(points[i]!.acc >= points[i - 1]!.acc - 0.01, `accuracy rises as lambda falls: ${JSON.stringify(points)}`);
    }
    const largest = test.filter((r) => r.correct[2]).length / test.length;
    assert.ok(points.at(-1)!.acc >= largest - 0.005, 'lambda 0 is at least as accurate as the largest tier');
    // The distractor: at moderate lambda the middle tier is (almost) never worth asking.
    assert.ok(points[2]!.asked1 < 0.05, `middle tier asked ${points[2]!.asked1}`);
  });
});

describe('PomdpPolicy', () => {
  const model = fitModel(THREE);

  it('returns the asked tier with the highest posterior: two agreeing tiers beat a larger dissenting one', () => {
    const p = new PomdpPolicy({ model, costs: COSTS, lambda: 0 });
    const d = p.decide(state([obs(0, 'A', 1), obs(1, 'A', 1), obs(2, 'B')]));
    assert.equal(d.action, 'return');
    assert.ok(d.action === 'return' && d.observation < 2, 'one of the two agreeing answers (A), not the largest tier (B)');
    assert.ok(d.action === 'return' && d.confidence !== null && d.confidence > 0.5);
    const alone = p.decide(state([obs(0, 'A', 0), obs(2, 'B')]));
    assert.equal(alone.action === 'return' && alone.observation, 1, 'the larger tier when only it and a low-confidence small tier answered');
  });

  it('a missing answer at the smallest tier escalates; a per-tier prior changes the decision', () => {
    const p = new PomdpPolicy({ model, costs: COSTS, lambda: 0.03 });
    const d = p.decide(state([obs(0, null, 1)]));
    assert.equal(d.action, 'ask');
    // A classifier sure that the smallest tier is right: return it at once without verifying, even at low lambda.
    const sure = p.decide(state([obs(0, 'C')], [0.999, 0.5, 0.999]));
    assert.equal(sure.action, 'return');
    const doubt = p.decide(state([], [0.01, 0.01, 0.95]));
    assert.deepEqual(doubt.action === 'ask' && doubt.tier, 2, 'a hopeless small tier is skipped');
    assert.throws(() => p.decide(state([], [0.5, 0.5])), RangeError);
  });

  it('takes a full joint prior, and lambda as a function', () => {
    let lambda = 100;
    const joint = new Array<number>(8).fill(0);
    joint[0b100] = 1; // only the largest tier is ever right
    const p = new PomdpPolicy({ model, costs: COSTS, lambda: () => lambda, jointPrior: joint });
    const first = p.decide(state([]));
    assert.deepEqual(first.action === 'ask' && first.tier, 0, 'expensive: ask the cheapest tier and return it');
    lambda = 0.01;
    const d = p.decide(state([]));
    assert.deepEqual(d.action === 'ask' && [d.tier, d.verify], [2, false]);
    assert.equal(p.describe().prior, 'joint (given)');
    assert.throws(() => new PomdpPolicy({ model, costs: COSTS, lambda: 0, jointPrior: [1, 2] }), RangeError);
    assert.throws(() => new PomdpPolicy({ model, costs: COSTS, lambda: -1 }), RangeError);
    assert.throws(() => new PomdpPolicy({ model, costs: { answer: [1], verify: [1] }, lambda: 0 }), RangeError);
  });

  it('refuses a cascade of another size', () => {
    const p = new PomdpPolicy({ model, costs: COSTS, lambda: 0.1 });
    assert.throws(() => p.decide({ cascade: { name: 'two', tiers: cascade.tiers.slice(0, 2) }, query: '', observations: [] }), RangeError);
  });

  it('decides far under a millisecond (measured)', () => {
    const p = new PomdpPolicy({ model, costs: COSTS, lambda: 0.03 });
    const rows = THREE.slice(0, 2000);
    for (const r of rows.slice(0, 100)) run(p, r); // warm-up (and the one-off solve of the fixed prior)
    let decisions = 0;
    const t0 = performance.now();
    for (const r of rows) decisions += run(p, r).asked.length + 1;
    const fixed = (performance.now() - t0) / decisions;
    // With a per-request prior (a classifier), the root is solved afresh for each request.
    const q = new PomdpPolicy({ model, costs: COSTS, lambda: 0.03, maxSolvers: 2 });
    const rng = seededRng(5);
    const priors = Array.from({ length: 300 }, () => [rng(), rng(), rng()]);
    for (const pr of priors.slice(0, 30)) q.decide(state([], pr));
    const t1 = performance.now();
    for (const pr of priors) q.decide(state([], pr));
    const perRequest = (performance.now() - t1) / priors.length;
    console.log(`# decision latency: fixed prior ${(fixed * 1000).toFixed(1)} µs/decision; per-request prior, root ${(perRequest * 1000).toFixed(0)} µs`);
    // Loose bounds (a regression guard on a loaded machine); the measured values are printed above and in docs/policy.md.
    assert.ok(fixed < 0.5, `fixed prior: ${fixed} ms per decision`);
    assert.ok(perRequest < 50, `per-request prior: ${perRequest} ms per root decision`);
  });
});
