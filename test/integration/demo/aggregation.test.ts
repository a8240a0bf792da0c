// The demo's pure pieces: sampling, scoring, aggregation, percentiles, metrics parsing and the report.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultControllerConfig, validateControllerConfig } from '../../../controller/config/load.js';
import { buildRouterConfig, validateCascade } from '../../../controller/plan/index.js';
import { RouterConfigSchema } from '../../../router/config/schema.js';
import { controllerConfig, demoCascade, routerPolicy } from '../../../router/demo/cascade.js';
import { chooseDataDir, DataDirError } from '../../../router/demo/data-source.js';
import { formatReport } from '../../../router/demo/format.js';
import { resultFrom } from '../../../router/demo/load.js';
import { crossCheck, parsePrometheusText, sumMetric } from '../../../router/demo/metrics-check.js';
import { buildReport } from '../../../router/demo/report.js';
import { controllerArgs, modelledPrices, simulatorArgs } from '../../../router/demo/stack.js';
import { escalationsOf, percentile, pricedPerRequest, sharing, summarizePhase, tierRows } from '../../../router/demo/stats.js';
import { DEMO_TIERS, type RequestResult, type StepRecord } from '../../../router/demo/types.js';
import { chatBody, isCorrect, oracleAccuracy, recordedAccuracy, sampleQuestions, testSplit } from '../../../router/demo/workload.js';
import { generatedQuestions, type MmluQuestion } from '../../../router/sim/dataset.js';

const step = (tier: string, gpuSeconds = 1, seconds = 1): StepRecord => ({ tier, outcome: 'answered', gpuSeconds, seconds });
const ok = (tier: string, steps: StepRecord[], extra: Partial<RequestResult> = {}): RequestResult => ({
  questionId: 1, ok: true, status: 200, latencySeconds: 1, tier, gpuSeconds: steps.reduce((s, x) => s + x.gpuSeconds, 0), steps, correct: true, ...extra,
});
const failed = (error: string): RequestResult => ({
  questionId: 2, ok: false, status: 502, latencySeconds: 1, tier: null, gpuSeconds: 0, steps: [], correct: null, error,
});

describe('percentile (nearest rank)', () => {
  it('returns observed values and handles the edges', () => {
    const v = [5, 1, 4, 2, 3];
    assert.equal(percentile(v, 50), 3);
    assert.equal(percentile(v, 0), 1);
    assert.equal(percentile(v, 100), 5);
    assert.equal(percentile(v, 99), 5);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([], 50), null);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(hundred, 50), 50);
    assert.equal(percentile(hundred, 99), 99);
    assert.throws(() => percentile(v, 101), RangeError);
  });

  it('does not reorder its input', () => {
    const v = [3, 1, 2];
    percentile(v, 50);
    assert.deepEqual(v, [3, 1, 2]);
  });
});

describe('aggregation', () => {
  const [a, b, c] = DEMO_TIERS.map((t) => t.name);
  const results = [
    ok(a!, [step(a!, 0.5)]),
    ok(b!, [step(a!, 0.5), step(b!, 1)], { correct: false }),
    ok(c!, [step(a!, 0.5), step(b!, 1), step(c!, 4, 2)]),
    ok(c!, [step(a!, 0.5), step(c!, 4, 2)]), // a fallback past the middle tier
    failed('HTTP 502: upstream down'),
  ];

  it('lists the escalations of one request', () => {
    assert.deepEqual(escalationsOf([step(a!), step(b!), step(c!)]), [{ from: a, to: b }, { from: b, to: c }]);
    assert.deepEqual(escalationsOf([step(a!)]), []);
  });

  it('counts answered, asked and escalations per tier, scaled GPU-seconds', () => {
    const rows = tierRows(results, DEMO_TIERS, 0.5);
    const by = new Map(rows.map((r) => [r.tier, r]));
    assert.deepEqual([by.get(a!)!.answered, by.get(b!)!.answered, by.get(c!)!.answered], [1, 1, 2]);
    assert.deepEqual([by.get(a!)!.asked, by.get(b!)!.asked, by.get(c!)!.asked], [4, 2, 2]);
    assert.deepEqual([by.get(a!)!.escalationsOut, by.get(b!)!.escalationsOut, by.get(c!)!.escalationsOut], [3, 1, 0]);
    assert.equal(by.get(a!)!.gpuSeconds, 4); // 4 x 0.5 wall / time scale 0.5
    assert.equal(by.get(c!)!.gpuSeconds, 16);
    assert.equal(by.get(c!)!.sharing, 2); // 4 GPUs x 2 s per call / 4 GPU-s per call
    assert.equal(by.get(b!)!.correct, 0);
    // Every answered request is answered by exactly one tier.
    assert.equal(rows.reduce((s, r) => s + r.answered, 0), results.filter((r) => r.ok).length);
  });

  it('summarises a phase in modelled seconds', () => {
    const s = summarizePhase(results, 0.5, 12);
    assert.equal(s.requests, 5);
    assert.equal(s.answered, 4);
    assert.equal(s.errors, 1);
    assert.equal(s.correct, 3);
    assert.equal(s.accuracy, 0.75);
    assert.equal(s.escalatedRequests, 3);
    assert.equal(s.escalations, 4);
    assert.equal(s.gpuSecondsTotal, (0.5 + 1.5 + 5.5 + 4.5) / 0.5);
    assert.equal(s.gpuSecondsPerRequest, s.gpuSecondsTotal / 4);
    assert.equal(s.latencyP50, 2);
    assert.equal(s.wallSeconds, 12);
  });

  it('sharing is null without GPU time', () => {
    assert.equal(sharing(4, 10, 0), null);
    assert.equal(sharing(1, 10, 5), 2);
  });
});

describe('workload', () => {
  const pool = generatedQuestions(50, 1);

  it('samples deterministically, without repeats until the pool is used up', () => {
    const s1 = sampleQuestions(pool, 30, 7);
    assert.deepEqual(s1.map((q) => q.id), sampleQuestions(pool, 30, 7).map((q) => q.id));
    assert.notDeepEqual(s1.map((q) => q.id), sampleQuestions(pool, 30, 8).map((q) => q.id));
    assert.equal(new Set(s1.map((q) => q.id)).size, 30);
    const s2 = sampleQuestions(pool, 120, 7);
    assert.equal(s2.length, 120);
    assert.equal(new Set(s2.slice(0, 50).map((q) => q.id)).size, 50);
    assert.throws(() => sampleQuestions([], 1, 1));
  });

  it('keeps the test split only', () => {
    assert.ok(testSplit(pool).every((q) => q.id % 5 === 0));
    assert.equal(testSplit(pool).length, pool.filter((q) => q.id % 5 === 0).length);
  });

  it('scores answers with the strict rule and computes the recorded baselines', () => {
    const q = { answer: 'C' };
    assert.equal(isCorrect('so the answer is (C).', q), true);
    assert.equal(isCorrect('so the answer is (D).', q), false);
    assert.equal(isCorrect('C', q), false); // strict: only "answer is (X)" counts, as in the data
    const mk = (id: number, m: boolean, l: boolean): MmluQuestion => ({
      id, category: 'x', question: 'q', options: ['a', 'b'], answer: 'A',
      perModel: { small: { pred: m ? 'A' : 'B', correct: m }, large: { pred: l ? 'A' : 'B', correct: l } },
    });
    const sample = [mk(1, true, false), mk(2, false, true), mk(3, false, false), mk(4, true, true)];
    assert.equal(recordedAccuracy(sample, 'small'), 0.5);
    assert.equal(recordedAccuracy(sample, 'missing'), null);
    assert.equal(oracleAccuracy(sample, ['small', 'large']), 0.75);
    const body = chatBody('ladder', sample[0]!) as { model: string; messages: { content: string }[] };
    assert.equal(body.model, 'ladder');
    assert.match(body.messages[0]!.content, /^Question: q\nOptions:\nA\. a\nB\. b\nAnswer: Let's think step by step\.$/);
  });

  it('turns responses into results', () => {
    const q = generatedQuestions(1, 1)[0]!;
    const good = resultFrom(q, 200, {
      choices: [{ message: { content: `the answer is (${q.answer})` } }],
      tiermix: { tier: 'llama-2-13b', gpu_seconds: 2, steps: [{ tier: 'mistral-7b', outcome: 'answered', gpu_seconds: 0.5, answer_seconds: 1, verify_seconds: 0.25 }] },
    }, 1.5);
    assert.equal(good.ok, true);
    assert.equal(good.correct, true);
    assert.deepEqual(good.steps, [{ tier: 'mistral-7b', outcome: 'answered', gpuSeconds: 0.5, seconds: 1.25, verified: true }]);
    const bad = resultFrom(q, 502, { error: { message: 'all tiers failed' } }, 1);
    assert.equal(bad.ok, false);
    assert.equal(bad.error, 'HTTP 502: all tiers failed');
  });
});

describe('data folder choice', () => {
  const exists = (paths: string[]) => (p: string) => paths.includes(p);
  it('prefers --data, then TIERMIX_DATA, then ../shared/data beside the repo, else generated', () => {
    assert.equal(chooseDataDir('none', {}, '/r', exists([])).dir, null);
    assert.equal(chooseDataDir('/d', {}, '/r', exists(['/d/outcomes.jsonl.gz'])).dir, '/d');
    assert.equal(chooseDataDir('/shared/data', {}, '/r', exists(['/shared/data/mmlu-pro/outcomes.jsonl.gz'])).dir, '/shared/data/mmlu-pro');
    assert.throws(() => chooseDataDir('/nope', {}, '/r', exists([])), DataDirError);
    assert.equal(chooseDataDir(undefined, { TIERMIX_DATA: '/e' }, '/r', exists(['/e/outcomes.jsonl.gz'])).origin, 'env');
    const beside = chooseDataDir(undefined, { TIERMIX_DATA: '/gone' }, '/w/r', exists(['/w/shared/data/mmlu-pro/outcomes.jsonl.gz']));
    assert.equal(beside.dir, '/w/shared/data/mmlu-pro');
    assert.match(beside.note, /TIERMIX_DATA=\/gone has no outcomes/);
    const none = chooseDataDir(undefined, { TIERMIX_DATA: '/gone' }, '/w/r', exists([]));
    assert.equal(none.dir, null);
    assert.match(none.note, /generated questions/);
  });
});

describe('metrics cross-check', () => {
  const text = [
    '# HELP tiermix_requests_total Requests',
    '# TYPE tiermix_requests_total counter',
    'tiermix_requests_total{cascade="ladder",tier="mistral-7b",mode="routed",outcome="ok"} 1',
    'tiermix_requests_total{cascade="ladder",tier="llama-2-70b",mode="routed",outcome="ok"} 1',
    'tiermix_requests_total{cascade="ladder",tier="llama-2-70b",mode="pinned",outcome="ok"} 2',
    'tiermix_escalations_total{cascade="ladder",from_tier="mistral-7b",to_tier="llama-2-13b",reason="verify"} 1',
    'tiermix_escalations_total{cascade="ladder",from_tier="llama-2-13b",to_tier="llama-2-70b",reason="verify"} 1',
    'tiermix_gpu_seconds_total{cascade="ladder",tier="mistral-7b",purpose="answer"} 0.75',
    'tiermix_gpu_seconds_total{cascade="ladder",tier="mistral-7b",purpose="verify"} 0.25',
    'tiermix_gpu_seconds_total{cascade="ladder",tier="llama-2-13b",purpose="answer"} 1',
    'tiermix_gpu_seconds_total{cascade="ladder",tier="llama-2-70b",purpose="answer"} 4',
    'tiermix_gpu_seconds_total{cascade="ladder",tier="llama-2-70b",purpose="passthrough"} 6',
    'other_metric{label="with \\"quotes\\""} 3 1700000000',
  ].join('\n');
  const samples = parsePrometheusText(text);

  it('parses labels and values', () => {
    assert.equal(samples.length, 11);
    assert.equal(samples[10]!.labels.label, 'with "quotes"');
    assert.equal(sumMetric(samples, 'tiermix_gpu_seconds_total', { tier: 'mistral-7b', purpose: ['answer', 'verify'] }), 1);
  });

  it('agrees with matching responses and names what disagrees', () => {
    const routed = [ok('mistral-7b', [step('mistral-7b', 0.5)]), ok('llama-2-70b', [step('mistral-7b', 0.5), step('llama-2-13b', 1), step('llama-2-70b', 4)])];
    const pinned = { tier: 'llama-2-70b', results: [ok('llama-2-70b', [], { gpuSeconds: 3 }), ok('llama-2-70b', [], { gpuSeconds: 3 })] };
    const tiers = ['mistral-7b', 'llama-2-13b', 'llama-2-70b'];
    const good = crossCheck({ samples, cascade: 'ladder', tiers, routed, pinned });
    assert.equal(good.ok, true, JSON.stringify(good.checks.filter((c) => !c.ok)));
    const bad = crossCheck({ samples, cascade: 'ladder', tiers, routed: routed.slice(0, 1), pinned });
    assert.equal(bad.ok, false);
    assert.ok(bad.checks.some((c) => !c.ok && /llama-2-70b: routed requests answered/.test(c.what)));
  });
});

describe('what the demo hands the controller, and the report', () => {
  const pomdp = { type: 'pomdp' as const, model: 'builtin:default-ladder', classifier: true, objective: { lambda: 0.05 }, costs: 'configured' as const };

  it('a ModelCascade the controller accepts, and a configuration from which it writes a router configuration the router accepts', () => {
    const mc = demoCascade('ladder', DEMO_TIERS);
    const config = validateControllerConfig(controllerConfig({ samples: 8, policy: pomdp, timeScale: 0.1 }, { answer: [1, 2, 3], verify: [1, 2, 3] }));
    assert.deepEqual(validateCascade(mc, config), []);
    assert.deepEqual(mc.spec.tiers.map((t) => [t.name, t.servedModelName, t.gpusPerReplica, t.replicas.min, t.replicas.max, t.autoscaling?.scaleDownDelaySeconds]), [
      ['mistral-7b', 'Mistral-7B-v0.1', 1, 1, 4, 90], ['llama-2-13b', 'Llama-2-13b-hf', 1, 1, 2, 90], ['llama-2-70b', 'Llama-2-70b-hf', 4, 1, 3, 90],
    ]);
    assert.equal(config.autoscalerIntervalSeconds, 5);
    // What the controller writes from them (no ready replicas yet): the router's schema accepts it, with the demo's
    // policy inherited from router.base (lambda / time scale) and the tiers under the names the demo sends.
    const parsed = RouterConfigSchema.parse(buildRouterConfig([{ mc, observed: [] }], config));
    assert.deepEqual(parsed.cascades[0]!.tiers.map((t) => [t.name, t.model, t.gpusPerReplica]), DEMO_TIERS.map((t) => [t.name, t.model, t.gpusPerReplica]));
    assert.equal(parsed.cascades[0]!.policy, undefined);
    assert.deepEqual(parsed.policy.type === 'pomdp' && parsed.policy.objective, { lambda: 0.5 });
    assert.equal(parsed.verification.samples, 8);
    assert.ok(defaultControllerConfig().gpuProfiles['nvidia-a100-80gb'], 'the profile the demo names exists');
  });

  it('starts the controller with the local runtime, simulated replicas on its clock, and the router to scrape', () => {
    const o = { timeScale: 0.1, workDir: '/w', dataDir: null, generatedSeed: 1, verifier: 'simulated:pc=0.7,pw=0.4,kappa=2', coldStartSeconds: 10 };
    const args = controllerArgs(o, 4321);
    const flag = (name: string) => args[args.indexOf(name) + 1];
    assert.equal(flag('--runtime'), 'local');
    assert.equal(flag('--engine'), 'simulator');
    assert.equal(flag('--time-scale'), '0.1');
    assert.equal(flag('--router-metrics-url'), 'http://127.0.0.1:4321/metrics');
    assert.equal(flag('--router-config-out'), '/w/router.yaml');
    assert.equal(flag('--simulator-args'), '--data none --generated-seed 1 --verifier simulated:pc=0.7,pw=0.4,kappa=2 --startup-seconds 1');
    // A data folder with a space in its path cannot go into the space-separated flags: TIERMIX_DATA carries it.
    assert.deepEqual(simulatorArgs({ ...o, dataDir: '/my data' }).slice(0, 2), ['--generated-seed', '1']);
    assert.deepEqual(simulatorArgs({ ...o, dataDir: '/data' }).slice(0, 2), ['--data', '/data']);
  });

  it('hands the router lambda / s and a budget x s, so that the flags mean modelled GPU-seconds', () => {
    const measured = { type: 'pomdp' as const, model: 'builtin:default-ladder', classifier: true, costs: 'measured' as const };
    assert.deepEqual(routerPolicy({ ...measured, objective: { lambda: 0.05 } }, 0.1, { answer: [1, 2], verify: [3, 4] }), {
      ...measured,
      objective: { lambda: 0.5 },
      costs: { source: 'measured', publishSeconds: 1, answerSeconds: [0.1, 0.2], verifySeconds: [0.30000000000000004, 0.4] },
    });
    assert.deepEqual((routerPolicy({ ...measured, objective: { gpuSecondsPerRequest: 2 } }, 0.1) as { objective: unknown }).objective, { gpuSecondsPerRequest: 0.2 });
    assert.deepEqual(routerPolicy({ type: 'threshold', threshold: 0.4 }, 0.1), { type: 'threshold', threshold: 0.4 });
    const prices = modelledPrices({ ...measured, objective: { lambda: 0.05 } }, DEMO_TIERS)!;
    assert.ok(prices['ladder/llama-2-70b']!.answer > 10 * prices['ladder/mistral-7b']!.answer, JSON.stringify(prices));
  });

  it('prices the calls of a phase at fixed per-call costs', () => {
    const prices = { a: { answer: 1, verify: 2 }, b: { answer: 10, verify: 20 } };
    const routed = [ok('a', [{ ...step('a'), verified: true }]), ok('b', [{ ...step('a'), verified: true }, step('b')]), { ...ok('a', []), ok: false }];
    assert.equal(pricedPerRequest(routed, prices), (3 + 13) / 2);
    assert.equal(pricedPerRequest(routed, prices, 'b'), 10);
    assert.equal(pricedPerRequest([ok('c', [step('c')])], prices), null);
  });

  it('builds and formats a report that says it is simulated', () => {
    const sample = generatedQuestions(3, 1);
    const small = DEMO_TIERS[0]!.name;
    const routed = sample.map((q) => ok(small, [step(small, 0.1, 0.2)], { questionId: q.id }));
    const report = buildReport({
      tiers: DEMO_TIERS, cascade: 'ladder', sample, concurrency: 2, seed: 1, timeScale: 0.1,
      data: { source: 'generated', dir: null, note: '--data none', realTexts: false },
      verifier: { spec: 'simulated:pc=0.7,pw=0.4,kappa=2', samples: 8 },
      policy: { type: 'threshold', threshold: 0.5, description: 'threshold 0.5' },
      routed: { results: routed, wallSeconds: 1 }, compare: null, metricsCheck: { ok: true, checks: [] }, startupWallSeconds: 1,
    });
    assert.equal(report.routed.answered, 3);
    assert.equal(report.alwaysLargest, null);
    assert.ok(report.baselines.alwaysSmallest !== null);
    const text = formatReport(report);
    assert.match(text, /SIMULATION/);
    assert.match(text, /modelled seconds/);
    assert.match(text, /ladder\/mistral-7b\s+3\s+3\s+0\s+3\/3/);
    assert.match(text, /always-largest not measured/);
  });
});
