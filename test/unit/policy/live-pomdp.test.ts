// The pieces that put the POMDP into the live router: its parameters on disk (pomdp.json), the per-tier cost
// estimate, the policy with live costs and a classifier joint, and prepareRouting's checks of a configuration.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateConfig, ConfigError } from '../../../router/config/load.js';
import { fitModel, PomdpPolicy, TierCostEstimator, type LabelledOutcome } from '../../../router/policy/pomdp/index.js';
import { modelFromParams, paramsFromModel, readPomdpParams, writePomdpParams, type PomdpParams } from '../../../router/policy/pomdp/params.js';
import type { CascadeView, RoutingState } from '../../../router/policy/types.js';
import { prepareRouting, PomdpRouting, quantiseLambda } from '../../../router/server/routing.js';
import { RoutingModelLoader } from '../../../router/server/routing-models.js';
import { seededRng } from '../../../router/sim/rng.js';

function rows(n: number, verifier = true, seed = 4): LabelledOutcome[] {
  const rng = seededRng(seed);
  return Array.from({ length: n }, () => {
    const d = rng();
    const correct = [d > 0.6, d > 0.8, d > 0.35];
    const answers = correct.map((c) => (c ? 'A' : rng() < 0.15 ? null : 'BCD'[Math.floor(rng() * 3)]!));
    const confidence = correct.map((c) => (verifier ? Math.round(Math.min(1, Math.max(0, (c ? 0.7 : 0.35) + 0.5 * (rng() - 0.5))) * 8) / 8 : null));
    return { correct, answers, confidence };
  });
}

const META = {
  tiers: ['s', 'm', 'l'],
  answerFormat: 'letter' as const,
  verifier: 'simulated:pc=0.7,pw=0.4,kappa=2',
  occupancySeconds: { answer: [0.13, 0.24, 0.5], verify: [0.35, 0.58, 1.25], note: 'test' },
  training: { data: 'generated', split: 'id', rows: 3000, createdAt: '2026-11-22T00:00:00Z' },
};

const dir = mkdtempSync(join(tmpdir(), 'tiermix-live-pomdp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('pomdp.json', () => {
  it('round-trips the fitted model: the same decisions after writing and reading', () => {
    const model = fitModel(rows(3000));
    writePomdpParams(dir, paramsFromModel(model, META));
    const back = readPomdpParams(dir);
    assert.deepEqual(back.params.tiers, ['s', 'm', 'l']);
    assert.equal(back.model.bins, 8);
    assert.deepEqual([...back.model.jointPrior], [...model.jointPrior]);
    const cascade: CascadeView = { name: 'c', tiers: ['s', 'm', 'l'].map((name, index) => ({ index, name, gpusPerReplica: 1 })) };
    const costs = { answer: [0.13, 0.24, 2], verify: [0.35, 0.58, 5] };
    const a = new PomdpPolicy({ model, costs, lambda: 0.03 });
    const b = new PomdpPolicy({ model: back.model, costs, lambda: 0.03 });
    const rng = seededRng(9);
    for (let i = 0; i < 50; i++) {
      const st: RoutingState = { cascade, query: '', prior: { perTier: [rng(), rng(), rng()] }, observations: [{ tier: 0, answer: 'The answer is (B).', confidence: Math.round(rng() * 8) / 8, verifierSamples: 8 }] };
      assert.deepEqual(b.decide(st), a.decide(st));
    }
  });

  it('names the bad field of a damaged file', () => {
    const good = paramsFromModel(fitModel(rows(200)), META);
    const broken = (f: (p: PomdpParams) => void) => {
      const p = structuredClone(good);
      f(p);
      return () => modelFromParams(p, 'x/pomdp.json');
    };
    assert.throws(broken((p) => (p.model.jointPrior = [1, 2])), /x\/pomdp.json: model.jointPrior must hold 8/);
    assert.throws(broken((p) => ((p as { format: string }).format = 'v0')), /format/);
    assert.throws(broken((p) => (p.occupancySeconds.verify = [1])), /occupancySeconds.verify/);
    assert.throws(() => readPomdpParams(join(dir, 'nowhere')), /no pomdp.json; expected a folder written by tiermix train/);
  });
});

describe('TierCostEstimator', () => {
  it('prices a call at GPUs x occupancy, starts at the given values and follows measurements (measured)', () => {
    const e = new TierCostEstimator({ source: 'measured', gpus: [1, 4], initial: { answer: [0.1, 0.5], verify: [0.3, 1] }, window: 10 });
    assert.deepEqual(e.costs(), { answer: [0.1, 2], verify: [0.3, 4] });
    e.record(1, 'answer', 4); // metered 4 GPU-s on a 4-GPU replica: 1 s of occupancy
    assert.equal(e.costs().answer[1], 4 * (0.5 + 0.5 * (1 - 0.5)), 'the starting value counts as one call');
    for (let i = 0; i < 200; i++) e.record(1, 'answer', 8);
    assert.ok(Math.abs(e.costs().answer[1]! - 8) < 1e-6, 'converges to the measured cost');
    e.record(0, 'verify', Number.NaN);
    e.record(5, 'verify', 1);
    assert.deepEqual(e.snapshot().measuredCalls, { answer: [0, 201], verify: [0, 0] }, 'broken readings and unknown tiers are ignored');
  });

  it('stays fixed when configured', () => {
    const e = new TierCostEstimator({ source: 'configured', gpus: [2], initial: { answer: [0.2], verify: [0.4] } });
    e.record(0, 'answer', 100);
    assert.deepEqual(e.costs(), { answer: [0.4], verify: [0.8] });
    assert.throws(() => new TierCostEstimator({ source: 'measured', gpus: [1, 1], initial: { answer: [1], verify: [1, 1] } }), RangeError);
  });
});

describe('PomdpPolicy with live inputs', () => {
  const model = fitModel(rows(3000));
  const cascade: CascadeView = { name: 'c', tiers: ['s', 'm', 'l'].map((name, index) => ({ index, name, gpusPerReplica: 1 })) };

  it('reads the costs at every decision: a dear largest tier is asked less', () => {
    let big = 0.5;
    const p = new PomdpPolicy({ model, costs: () => ({ answer: [0.1, 0.2, big], verify: [0.3, 0.5, 1] }), lambda: 0.05 });
    const hopeless: RoutingState = { cascade, query: '', prior: { perTier: [0.05, 0.05, 0.6] }, observations: [] };
    const cheap = p.decide(hopeless);
    assert.deepEqual(cheap.action === 'ask' && cheap.tier, 2, 'a cheap largest tier is asked first');
    big = 50;
    const dear = p.decide(hopeless);
    assert.deepEqual(dear.action === 'ask' && dear.tier, 0, 'at 50 GPU-s it is not worth it');
    assert.deepEqual(p.describe().answerCost, [0.1, 0.2, 50]);
  });

  it("explain() gives the prior (classifier joint or tilted marginals) and the posterior after observations", () => {
    const joint = [0.1, 0.1, 0.05, 0.05, 0.2, 0.2, 0.1, 0.2];
    const p = new PomdpPolicy({ model, costs: { answer: [0.1, 0.2, 2], verify: [0.3, 0.5, 5] }, lambda: 0.05, perTierPrior: 'joint' });
    const st: RoutingState = { cascade, query: '', prior: { perTier: [0.55, 0.35, 0.7], joint }, observations: [] };
    const e0 = p.explain(st);
    assert.equal(e0.prior.source, 'classifier joint');
    assert.ok(e0.prior.joint.every((v, s) => Math.abs(v - joint[s]!) < 1e-9));
    assert.ok(Math.abs(e0.prior.perTier[2]! - 0.7) < 1e-9);
    assert.deepEqual(e0.posterior, { perTier: e0.prior.perTier, joint: e0.prior.joint }, 'no observation: posterior = prior');
    const e1 = p.explain({ ...st, observations: [{ tier: 0, answer: 'no letter here', confidence: 0, verifierSamples: 8 }] });
    assert.ok(e1.posterior.perTier[0]! < e0.prior.perTier[0]! / 2, `no answer + confidence 0 makes the smallest tier unlikely: ${e1.posterior.perTier[0]}`);
    assert.equal(e1.lambda, 0.05);
    assert.deepEqual(e1.decision, p.decide({ ...st, observations: [{ tier: 0, answer: 'no letter here', confidence: 0, verifierSamples: 8 }] }));
  });

  it('keeps first decisions per (prior, lambda, costs): a prior seen before is a lookup', () => {
    const p = new PomdpPolicy({ model, costs: { answer: [0.1, 0.2, 2], verify: [0.3, 0.5, 5] }, lambda: 0.05, maxRootPlans: 2 });
    const at = (perTier: number[]): RoutingState => ({ cascade, query: '', prior: { perTier }, observations: [] });
    const first = p.decide(at([0.3, 0.2, 0.4]));
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) assert.deepEqual(p.decide(at([0.3, 0.2, 0.4])), first);
    const perLookup = (performance.now() - t0) / 200;
    assert.ok(perLookup < 0.2, `a repeated prior costs ${perLookup.toFixed(4)} ms`);
    // Bounded: older priors are dropped, and decide the same when solved again.
    p.decide(at([0.5, 0.2, 0.4]));
    p.decide(at([0.6, 0.2, 0.4]));
    assert.deepEqual(p.decide(at([0.3, 0.2, 0.4])), first);
  });

  it('a quantised prior shares solvers between nearly equal priors, with the same decisions on the grid', () => {
    const q = new PomdpPolicy({ model, costs: { answer: [0.1, 0.2, 2], verify: [0.3, 0.5, 5] }, lambda: 0.05, priorQuantum: 0.02 });
    const exact = new PomdpPolicy({ model, costs: { answer: [0.1, 0.2, 2], verify: [0.3, 0.5, 5] }, lambda: 0.05 });
    const at = (perTier: number[]): RoutingState => ({ cascade, query: '', prior: { perTier }, observations: [] });
    assert.deepEqual(q.decide(at([0.301, 0.199, 0.405])), exact.decide(at([0.3, 0.2, 0.4])));
    assert.equal(q.node(at([0.301, 0.199, 0.405])).priorKey, q.node(at([0.299, 0.2, 0.399])).priorKey);
  });
});

/** A finished request as the cascade executor reports it (only what PomdpRouting.finished reads matters). */
const outcomeOf = (tierIndex: number, gpuSeconds: number, steps: object[]) =>
  ({ body: {}, tierIndex, tier: `t${tierIndex}`, confidence: null, reason: '', gpuSeconds, steps, policySeconds: 0, holds: [], coldTiers: [] }) as unknown as Parameters<PomdpRouting['finished']>[0];

describe('prepareRouting', () => {
  const loader = new RoutingModelLoader();
  const base = (extra: Record<string, unknown> = {}, tiers = 3) =>
    validateConfig({
      policy: { type: 'pomdp', model: dir, classifier: false, objective: { lambda: 0.05 } },
      cascades: [{ name: 'ladder', tiers: Array.from({ length: tiers }, (_, i) => ({ name: `t${i}`, model: `m${i}`, gpusPerReplica: i === tiers - 1 ? 4 : 1 })) }],
      ...extra,
    });

  it('builds a POMDP cascade from pomdp.json, with costs = GPUs x the fitted occupancy seconds', async () => {
    const routing = await prepareRouting(base(), loader);
    const r = routing.get('ladder');
    assert.ok(r instanceof PomdpRouting);
    assert.deepEqual(r.costs.costs(), { answer: [0.13, 0.24, 2], verify: [0.35, 0.58, 5] });
    assert.equal(r.describe().lambda, 0.05);
    // Unchanged on reload: the same runtime (cost estimates and budget kept).
    const again = await prepareRouting(base(), loader, routing);
    assert.equal(again.get('ladder'), r);
  });

  it('refuses a cascade with another number of tiers, naming the path; per-cascade policies decide per cascade', async () => {
    await assert.rejects(prepareRouting(base({}, 2), loader), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems[0]!.path, 'cascades.0.tiers');
      assert.match(err.message, /cascade "ladder" has 2 tiers, but the POMDP model at policy.model .* was fitted for 3 \(s, m, l\)/);
      return true;
    });
    const mixed = validateConfig({
      policy: { type: 'pomdp', model: dir, classifier: false },
      cascades: [
        { name: 'three', tiers: [0, 1, 2].map((i) => ({ name: `a${i}`, model: `m${i}` })) },
        { name: 'two', tiers: [0, 1].map((i) => ({ name: `b${i}`, model: `m${i}` })), policy: { type: 'threshold', threshold: 0.6 } },
      ],
    });
    const routing = await prepareRouting(mixed, loader);
    assert.equal(routing.get('three')!.policy.name, 'pomdp');
    assert.deepEqual(routing.get('two')!.describe(), { policy: 'threshold', threshold: 0.6 });
  });

  it('names a missing model folder, a verifier k the model was not fitted for, and wrong cost lists', async () => {
    await assert.rejects(prepareRouting(base({ policy: { type: 'pomdp', model: join(dir, 'absent') } }), loader), /policy\.model: cannot load .* is not a folder/);
    await assert.rejects(prepareRouting(base({ verification: { samples: 4 } }), loader), /verification\.samples: is 4, but the POMDP model at policy\.model was fitted for k=8/);
    await assert.rejects(
      prepareRouting(base({ policy: { type: 'pomdp', model: dir, classifier: false, costs: { answerSeconds: [1, 2] } } }), loader),
      /policy\.costs\.answerSeconds: lists 2 values for the 3 tiers/,
    );
    writeFileSync(join(dir, 'manifest.json'), '{}');
    await assert.rejects(prepareRouting(base({ policy: { type: 'pomdp', model: dir, classifier: true } }), loader), /policy\.model: cannot load .*manifest format/);
    rmSync(join(dir, 'manifest.json'));
  });

  it('publishes its cost estimate to the policy every costs.publishSeconds, and a budget lambda in 2% steps', async () => {
    let now = 0;
    const cfg = base({ policy: { type: 'pomdp', model: dir, classifier: false, costs: { publishSeconds: 10 } } });
    const r = (await prepareRouting(cfg, loader, undefined, 'test', () => now)).get('ladder') as PomdpRouting;
    const call = (gpuSeconds: number) => ({ tier: 't2', index: 2, outcome: 'answered' as const, confidence: null, verifierSamples: 0, answerSeconds: 1, verifySeconds: 0, gpuSeconds, answerGpuSeconds: gpuSeconds, verifyGpuSeconds: 0, reason: '', heldSeconds: 0 });
    const finish = (gpuSeconds: number) => r.finished(outcomeOf(2, gpuSeconds, [call(gpuSeconds)]));
    for (let i = 0; i < 5; i++) finish(40);
    const describe = () => r.describe() as { costs: { answer_gpu_seconds: number[]; estimate_answer_gpu_seconds: number[] } };
    assert.equal(describe().costs.answer_gpu_seconds[2], 2, 'not yet published: the policy still prices the fitted value');
    assert.ok(describe().costs.estimate_answer_gpu_seconds[2]! > 20);
    now = 10_000;
    finish(40);
    assert.equal(describe().costs.answer_gpu_seconds[2], describe().costs.estimate_answer_gpu_seconds[2]);
    assert.equal((r.policy.describe().answerCost as number[])[2], Number(describe().costs.answer_gpu_seconds[2]!.toPrecision(3)));
    assert.equal(quantiseLambda(0.05), quantiseLambda(0.0502));
    assert.ok(Math.abs(quantiseLambda(0.05) / 0.05 - 1) <= 0.01 && quantiseLambda(0) === 0);
  });

  it('holds a GPU-seconds budget: lambda rises while requests cost more than the target', async () => {
    let now = 0;
    const cfg = base({ policy: { type: 'pomdp', model: dir, classifier: false, objective: { gpuSecondsPerRequest: 0.5, initialLambda: 0.02 } } });
    const r = (await prepareRouting(cfg, loader, undefined, 'test', () => now)).get('ladder') as PomdpRouting;
    const step = (gpuSeconds: number) => ({ tier: 't0', index: 0, outcome: 'answered' as const, confidence: null, verifierSamples: 0, answerSeconds: 1, verifySeconds: 0, gpuSeconds, answerGpuSeconds: gpuSeconds, verifyGpuSeconds: 0, reason: '', heldSeconds: 0 });
    for (let i = 0; i < 20; i++) {
      now += 100;
      r.finished(outcomeOf(0, 2, [step(2)]));
    }
    const d = r.describe() as { lambda: number; objective: { running_average: number; gpu_seconds_per_request: number } };
    assert.ok(d.lambda > 0.02, `lambda ${d.lambda}`);
    assert.equal(d.objective.gpu_seconds_per_request, 0.5);
    assert.ok(Math.abs(d.objective.running_average - 2) < 1e-9);
    assert.ok(r.costs.snapshot().measuredCalls.answer[0] === 20, 'every answered call fed the cost estimate');
  });
});
