// Baseline policies, AutoMix's candidate tables, the live-policy adapter, and the evaluation pipeline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ThresholdPolicy } from '../../../router/policy/threshold.js';
import type { Decision, RoutingPolicy, RoutingState } from '../../../router/policy/types.js';
import { agreementPolicy, automixThresholdPolicy, classifierThresholdFamily, extractionPolicy } from '../../../router/train/baselines.js';
import { automixTables, binOf, chainedPolicy, gaussianSmooth, tablePolicy } from '../../../router/train/automix.js';
import { tierSpec } from '../../../router/train/cost.js';
import { evaluate, mixEvaluations, only, paretoFrontier, type EvalContext } from '../../../router/train/evaluate.js';
import { cascadeView, livePolicy } from '../../../router/train/live-adapter.js';
import { observe, parseVerifierMode, type ObservedRow } from '../../../router/train/observe.js';
import { parseRow } from '../../../router/train/rows.js';
import { buildFamilies, runEvaluation } from '../../../router/train/run.js';
import { fixtureRows, orow } from './fixtures.js';

const ctx3: EvalContext = {
  tiers: ['s-7b', 'm-13b', 'l-70b'].map((n) => tierSpec(n)),
  costs: [{ answer: 1, verify: 0.5 }, { answer: 2, verify: 1 }, { answer: 10, verify: 5 }],
};
const ctx2: EvalContext = { tiers: [ctx3.tiers[0]!, ctx3.tiers[2]!], costs: [ctx3.costs[0]!, ctx3.costs[2]!] };

describe('evaluation of a row policy', () => {
  const rows = [orow('1', [['A', true, 0.9], [null, false, 0.1], ['B', false, null]]), orow('2', [['C', false, 0.2], ['C', false, 0.3], ['D', true, null]])];

  it('scores the returned tier and charges every asked answer plus every verification', () => {
    const e = evaluate(() => ({ asked: [0, 2], verified: [0], returned: 2 }), rows, ctx3);
    assert.deepEqual(e, { n: 2, accuracy: 0.5, cost: 11.5, asked: [1, 0, 1], verified: [1, 0, 0], returned: [0, 0, 1], escalated: 1 });
    assert.throws(() => evaluate(() => ({ asked: [2, 0], verified: [], returned: 0 }), rows, ctx3), /invalid trace/);
    assert.throws(() => evaluate(() => ({ asked: [0], verified: [1], returned: 0 }), rows, ctx3), /invalid trace/);
  });

  it('random mixing is the exact expectation; the train Pareto frontier drops dominated points', () => {
    const a = evaluate(() => only(0), rows, ctx3);
    const b = evaluate(() => only(2), rows, ctx3);
    const m = mixEvaluations(a, b, 0.25);
    assert.equal(m.cost, 0.75 * 1 + 0.25 * 10);
    assert.equal(m.accuracy, 0.75 * 0.5 + 0.25 * 0.5);
    assert.deepEqual(paretoFrontier([{ cost: 3, accuracy: 0.5 }, { cost: 1, accuracy: 0.4 }, { cost: 2, accuracy: 0.3 }, { cost: 3, accuracy: 0.6 }]), [1, 3]);
  });

  it('real-signal baselines: extraction escalates a missing letter, agreement escalates a disagreement', () => {
    const x = extractionPolicy(2);
    assert.deepEqual(x(orow('1', [[null, false, null], ['A', true, null], ['A', true, null]])), { asked: [0, 2], verified: [], returned: 2 });
    assert.deepEqual(x(orow('1', [['B', false, null], ['A', true, null], ['A', true, null]])), only(0));
    const g = agreementPolicy(2);
    assert.deepEqual(g(orow('1', [['A', true, null], ['A', true, null], ['B', false, null]])), { asked: [0, 1], verified: [], returned: 1 });
    assert.deepEqual(g(orow('1', [['A', true, null], ['B', false, null], ['B', false, null]])), { asked: [0, 1, 2], verified: [], returned: 2 });
    assert.deepEqual(g(orow('1', [[null, false, null], [null, false, null], ['B', true, null]])), { asked: [0, 2], verified: [], returned: 2 }, 'two missing letters do not agree');
  });

  it('AutoMix threshold verifies the smallest tier and escalates below t; unknown counts as 0', () => {
    const p = automixThresholdPolicy(0, 1, 0.5);
    assert.deepEqual(p(orow('1', [['A', true, 0.5], ['A', true, null]])), { asked: [0], verified: [0], returned: 0 });
    assert.deepEqual(p(orow('1', [['A', true, 0.375], ['A', true, null]])), { asked: [0, 1], verified: [0], returned: 1 });
    assert.deepEqual(p(orow('1', [['A', true, null], ['A', true, null]])).returned, 1);
  });
});

describe("AutoMix's POMDP as released (9-bin tables)", () => {
  it('bins confidences to the nearest eighth and smooths like scipy gaussian_filter (reflect)', () => {
    assert.deepEqual([0, 0.06, 0.07, 0.5, 1, null].map(binOf), [0, 0, 1, 4, 8, 0]);
    // scipy.ndimage.gaussian_filter([0,0,0,1,0,0,0,0,2], sigma=2)
    const want = [0.0918897, 0.1307583, 0.1835563, 0.2218715, 0.2476232, 0.3044993, 0.4363217, 0.6214788, 0.7620011];
    gaussianSmooth([0, 0, 0, 1, 0, 0, 0, 0, 2], 2).forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6));
  });

  it('proposes thresholds, double thresholds, POMDPSimple and GreedyPOMDP tables without duplicates', () => {
    // Low confidence: the small tier is wrong and the large one right (NEEDY); high: both right (GOOD).
    const train = Array.from({ length: 90 }, (_, i) => {
      const bin = i % 9;
      return orow(String(i), bin < 3 ? [['A', false, bin / 8], ['B', true, null]] : [['B', true, bin / 8], ['B', true, null]]);
    });
    const tables = automixTables(train, 0, 1);
    const keys = tables.map((t) => t.route.map(Number).join(''));
    assert.equal(new Set(keys).size, keys.length);
    for (let b = 0; b < 9; b++) assert.ok(keys.includes('1'.repeat(b + 1) + '0'.repeat(8 - b)), `threshold through bin ${b}`);
    assert.ok(keys.includes('000011100'), 'a double threshold');
    const pomdp = tables.filter((t) => t.knob.includes('pomdp-simple'));
    assert.ok(pomdp.some((t) => t.route.join() === [true, true, true, false, false, false, false, false, false].join()), 'routes exactly the NEEDY bins');
    assert.ok(tables.some((t) => t.knob.includes('greedy-pomdp')));
    assert.match(tables[0]!.knob, /^route bins \{0\}\/8 \(threshold\b/);
    const e = evaluate(tablePolicy(0, 1, [true, true, true, false, false, false, false, false, false]), train, ctx2);
    assert.equal(e.accuracy, 1);
  });

  it('chained AutoMix runs its stages in series and verifies every tier but the last', () => {
    const route = (bins: number[]) => Array.from({ length: 9 }, (_, b) => bins.includes(b));
    const p = chainedPolicy([route([0, 1]), route([0])]);
    assert.deepEqual(p(orow('1', [['A', true, 0.75], ['A', true, 0], ['A', true, null]])), { asked: [0], verified: [0], returned: 0 });
    assert.deepEqual(p(orow('1', [['A', true, 0.125], ['A', true, 0.5], ['A', true, null]])), { asked: [0, 1], verified: [0, 1], returned: 1 });
    assert.deepEqual(p(orow('1', [['A', true, 0], ['A', true, 0], ['A', true, null]])), { asked: [0, 1, 2], verified: [0, 1], returned: 2 });
  });
});

describe('live policies offline', () => {
  const rows = observe(
    fixtureRows({ models: ['s', 'l'], accuracy: [0.4, 0.6], n: 500 }).map((r) => parseRow(r, ['s', 'l'])),
    ['s', 'l'],
    parseVerifierMode('simulated'),
  );

  it("the router's ThresholdPolicy through decide() equals AutoMix's threshold on 2 tiers", () => {
    const live = livePolicy(new ThresholdPolicy(0.5), cascadeView(ctx2.tiers));
    const direct = automixThresholdPolicy(0, 1, 0.5);
    for (const r of rows) assert.deepEqual(live(r), direct(r));
  });

  it('hands the classifier prior to the policy and refuses invalid decisions', () => {
    let seen: number[] | undefined;
    const spy: RoutingPolicy = {
      name: 'spy',
      describe: () => ({}),
      decide(s: RoutingState): Decision {
        seen = s.prior?.perTier;
        return s.observations.length === 0 ? { action: 'ask', tier: 1, verify: false, reason: '' } : { action: 'return', observation: 0, confidence: null, reason: '' };
      },
    };
    assert.deepEqual(livePolicy(spy, cascadeView(ctx2.tiers), () => [0.2, 0.9])(rows[0]!), { asked: [1], verified: [], returned: 1 });
    assert.deepEqual(seen, [0.2, 0.9]);
    const bad: RoutingPolicy = { ...spy, decide: () => ({ action: 'ask', tier: 0, verify: false, reason: '' }) };
    assert.throws(() => livePolicy(bad, cascadeView(ctx2.tiers))(rows[0]!), /asked tier 0 after \[0\]/);
  });
});

describe('families and the run', () => {
  const raw = fixtureRows({ models: ['s-7b', 'm-13b', 'l-70b'], accuracy: [0.35, 0.3, 0.5], n: 600 });
  const base = raw.map((r) => parseRow(r, ['s-7b', 'm-13b', 'l-70b']));

  it('without a verifier only real-signal policies run; pending ones are listed, never faked', () => {
    const set = buildFamilies(ctx3, observe(base, ['s-7b', 'm-13b', 'l-70b'], parseVerifierMode('none')));
    assert.deepEqual(set.families.map((f) => f.name), ['always-smallest', 'always-m-13b', 'always-largest', 'random-mix', 'extraction', 'agreement']);
    assert.deepEqual(set.unavailable.map((u) => u.name), ['automix-threshold', 'automix-pomdp', 'chained-automix', 'live-threshold']);
    assert.deepEqual(set.pending.map((p) => p.name), ['classifier-threshold', 'tiermix']);
  });

  it('with 2 tiers agreement and chained AutoMix do not apply', () => {
    const two = observe(base.map((r) => ({ ...r, tiers: [r.tiers[0]!, r.tiers[2]!] })), ['s-7b', 'l-70b'], parseVerifierMode('simulated'));
    const set = buildFamilies(ctx2, two);
    assert.deepEqual(set.unavailable.map((u) => u.name), ['agreement', 'chained-automix']);
    assert.ok(set.families.some((f) => f.name === 'automix-pomdp'));
  });

  it('extension points: a classifier and a tiermix provider appear as policies when supplied', () => {
    const rows = observe(base, ['s-7b', 'm-13b', 'l-70b'], parseVerifierMode('simulated'));
    const set = buildFamilies(ctx3, rows, {
      classifier: { name: 'oracle-ish', score: (r) => r.tiers.map((t) => (t.correct ? 0.8 : 0.2)) },
      tiermix: { name: 'stand-in for tests', fit: () => [0.25, 0.5].map((t) => ({ knob: `t=${t}`, policy: new ThresholdPolicy(t) })) },
    });
    assert.deepEqual(set.pending, []);
    const run = runEvaluation(rows, ctx3, set.families.filter((f) => ['classifier-threshold', 'tiermix', 'always-largest'].includes(f.name)));
    const cls = run.results.find((r) => r.family.name === 'classifier-threshold')!;
    assert.ok(cls.curve.at(-1)!.accuracy > run.results.find((r) => r.family.name === 'always-largest')!.operating.accuracy, 'a clairvoyant classifier beats the largest tier');
    assert.equal(run.results.find((r) => r.family.name === 'tiermix')!.curve.length > 0, true);
  });

  it('fits on train only, reports on test, and random mixing is the chord', () => {
    const rows = observe(base, ['s-7b', 'm-13b', 'l-70b'], parseVerifierMode('simulated'));
    const seen: ObservedRow[][] = [];
    const spyFamily = { name: 'spy', description: '', signals: 'none' as const, candidates: (fit: { train: readonly ObservedRow[] }) => (seen.push([...fit.train]), [{ knob: 'k', policy: () => only(0) }]) };
    const run = runEvaluation(rows, ctx3, [spyFamily, ...buildFamilies(ctx3, rows).families.filter((f) => f.name === 'random-mix')]);
    assert.ok(seen[0]!.length > 0 && seen[0]!.every((r) => !r.test));
    assert.equal(run.testN, rows.filter((r) => r.test).length);
    const mix = run.results[1]!;
    assert.ok(Math.abs(mix.deltaIbc!) < 1e-9 && Math.abs(mix.apgr! - 0.5) < 1e-9 && Math.abs(mix.cpt50! - 50) < 1e-9);
    assert.equal(mix.operating.knob, 'w=0.5');
  });

  it('classifier threshold: the cheapest tier predicted correct with P >= alpha', () => {
    const fam = classifierThresholdFamily('c', () => [0.6, 0.7, 0.9]);
    const cands = fam.candidates({ ...ctx3, train: [] });
    const row = orow('1', [['A', true, null], ['A', true, null], ['A', true, null]]);
    const pick = (knob: string) => {
      const c = cands.find((x) => x.knob === knob)!;
      return 'policy' in c ? c.policy(row).returned : -1;
    };
    assert.deepEqual([pick('alpha=0.5'), pick('alpha=0.65'), pick('alpha=0.8'), pick('alpha=inf')], [0, 1, 2, 2]);
  });
});
