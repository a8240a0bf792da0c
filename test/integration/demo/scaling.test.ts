// The demo's autoscaling report, its pure pieces: the ramp, replicas over time from the controller's statuses, the
// meter's split per tier, GPU-seconds per request and per 1k tokens (router counters, or the responses), the text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText } from '../../../router/demo/metrics-check.js';
import { describeRamp, lowConcurrency, rampSchedule, stepOf } from '../../../router/demo/ramp.js';
import { buildScalingReport, formatScaling, wrap, type ScalingInputs } from '../../../router/demo/scaling-report.js';
import { meterDelta, meterSnapshot, tierCosts } from '../../../router/demo/tier-cost.js';
import { phaseStrip, replicaStrip, scalingEvents, scalingSummary, type TimelinePoint } from '../../../router/demo/timeline.js';
import { table } from '../../../router/demo/format.js';
import { DEMO_TIERS, type RequestResult } from '../../../router/demo/types.js';

describe('ramp', () => {
  it('sends a quarter at low concurrency, half at the peak, a quarter low again', () => {
    const s = rampSchedule(300, 16, true);
    assert.deepEqual(s, [
      { label: 'low', requests: 75, concurrency: 4 },
      { label: 'high', requests: 150, concurrency: 16 },
      { label: 'low', requests: 75, concurrency: 4 },
    ]);
    assert.equal(s.reduce((n, x) => n + x.requests, 0), 300);
    assert.deepEqual([0, 74, 75, 224, 225, 299, 400].map((i) => stepOf(s, i)), [0, 0, 1, 1, 2, 2, 2]);
    assert.equal(describeRamp(s), '75 requests at 4 in flight -> 150 at 16 -> 75 at 4');
  });

  it('rounds to the high step, drops empty steps, and is one flat step when off', () => {
    assert.equal(rampSchedule(7, 8, true).reduce((n, x) => n + x.requests, 0), 7);
    assert.deepEqual(rampSchedule(3, 8, true), [{ label: 'high', requests: 3, concurrency: 8 }]);
    assert.deepEqual(rampSchedule(10, 8, false), [{ label: 'flat', requests: 10, concurrency: 8 }]);
    assert.equal(lowConcurrency(1), 1);
    assert.equal(lowConcurrency(2), 1);
    assert.equal(lowConcurrency(24), 6);
  });
});

const [small, mid, large] = DEMO_TIERS;
const sample = (desired: number, replicas = desired, ready = replicas, reason = '') => ({ desired, replicas, ready, reason });
// A run of 100 wall ms: the smallest tier goes 1 -> 3 at 30 ms (two loading), is ready at 40, back to 1 at 80.
const points: TimelinePoint[] = [
  { atMs: 5, tiers: { [small!.tier]: sample(1), [large!.tier]: sample(1) } },
  { atMs: 30, tiers: { [small!.tier]: sample(3, 3, 1, 'burst: 9 in flight / target 4 -> 3; scale up 1 -> 3'), [large!.tier]: sample(1) } },
  { atMs: 40, tiers: { [small!.tier]: sample(3, 3, 3, 'burst: 9 in flight / target 4 -> 3; scale up 1 -> 3'), [large!.tier]: sample(1) } },
  { atMs: 80, tiers: { [small!.tier]: sample(1, 1, 1, 'scale down 3 -> 1: lower for 60s'), [large!.tier]: sample(1) } },
];

describe('replicas over time', () => {
  it('one digit per cell, the replicas held at its end; blank before the first sample', () => {
    assert.equal(replicaStrip(points, small!.tier, 100, 10), '1133333111'); // cell ends 10, 20, 30 (the change), ... 80 (back to 1)
    assert.equal(replicaStrip(points, large!.tier, 100, 10), '1111111111');
    assert.equal(replicaStrip([{ atMs: 30, tiers: { x: sample(12) } }], 'x', 100, 4), ' +++');
  });

  it('the load line marks each phase', () => {
    const marks = [{ atMs: 0, phase: 'start-up' as const }, { atMs: 20, phase: 'routed low' as const }, { atMs: 40, phase: 'routed high' as const }, { atMs: 70, phase: 'cool-down' as const }];
    assert.equal(phaseStrip(marks, 100, 10), '  rrRRR...');
  });

  it('lists the changes of desired replicas with the reason, and sums them up per tier', () => {
    assert.deepEqual(scalingEvents(points), [
      { atMs: 30, tier: small!.tier, from: 1, to: 3, reason: 'burst: 9 in flight / target 4 -> 3; scale up 1 -> 3' },
      { atMs: 80, tier: small!.tier, from: 3, to: 1, reason: 'scale down 3 -> 1: lower for 60s' },
    ]);
    assert.deepEqual(scalingSummary(points, [small!.tier, large!.tier]), {
      [small!.tier]: { peak: 3, ups: 1, downs: 1, final: 1 },
      [large!.tier]: { peak: 1, ups: 0, downs: 0, final: 1 },
    });
  });
});

const controllerMetrics = (serving: number, idle: number, loading: number) =>
  parsePrometheusText(
    ['serving', 'idle', 'loading']
      .map((state, i) => `tiermix_gpu_seconds_total{cascade="default/ladder",tier="${small!.tier}",state="${state}"} ${[serving, idle, loading][i]}`)
      .concat(`tiermix_gpu_seconds_total{cascade="default/other",tier="${small!.tier}",state="idle"} 1000`)
      .join('\n'),
  );

describe('GPU-seconds per tier', () => {
  it('the meter per tier and state for the demo cascade, and what it counted between two readings', () => {
    const a = meterSnapshot(controllerMetrics(1, 2, 3), 'default/ladder', [small!.tier, large!.tier]);
    assert.deepEqual(a[small!.tier], { serving: 1, idle: 2, loading: 3 });
    assert.deepEqual(a[large!.tier], { serving: 0, idle: 0, loading: 0 });
    const b = meterSnapshot(controllerMetrics(11, 7, 3), 'default/ladder', [small!.tier]);
    assert.deepEqual(meterDelta(a, b)[small!.tier], { serving: 10, idle: 5, loading: 0 });
  });

  const ok = (tier: string, steps: [string, number, boolean][], usage = { prompt: 100, completion: 150 }): RequestResult => ({
    questionId: 1, ok: true, status: 200, latencySeconds: 1, tier, gpuSeconds: 0, correct: true, usage,
    steps: steps.map(([t, g, verified]) => ({ tier: t, outcome: 'answered', gpuSeconds: g, seconds: 1, verified })),
  });
  const results = [ok(small!.name, [[small!.name, 0.1, true]]), ok(large!.name, [[small!.name, 0.1, true], [large!.name, 0.4, false]])];
  const metered = { [small!.tier]: { serving: 4, idle: 5, loading: 1 } };

  it('per request and per 1k tokens from the router counters when it counts calls per tier', () => {
    const router = parsePrometheusText([
      `tiermix_tier_requests_total{cascade="ladder",tier="${small!.name}",purpose="answer"} 4`,
      `tiermix_tier_requests_total{cascade="ladder",tier="${small!.name}",purpose="verify"} 3`,
      `tiermix_tier_tokens_total{cascade="ladder",tier="${small!.name}",purpose="answer",kind="prompt"} 1000`,
      `tiermix_tier_tokens_total{cascade="ladder",tier="${small!.name}",purpose="answer",kind="completion"} 500`,
      `tiermix_tier_tokens_total{cascade="ladder",tier="${small!.name}",purpose="verify",kind="prompt"} 500`,
      `tiermix_tier_tokens_total{cascade="ladder",tier="${small!.name}",purpose="passthrough",kind="prompt"} 9999`,
      `tiermix_gpu_seconds_total{cascade="ladder",tier="${small!.name}",purpose="answer"} 0.15`,
      `tiermix_gpu_seconds_total{cascade="ladder",tier="${small!.name}",purpose="verify"} 0.05`,
      `tiermix_gpu_seconds_total{cascade="ladder",tier="${small!.name}",purpose="passthrough"} 7`,
    ].join('\n'));
    const c = tierCosts({ tiers: DEMO_TIERS, cascade: 'ladder', routerSamples: router, results, timeScale: 0.1, metered });
    assert.equal(c.source, 'router metrics');
    const row = c.rows[0]!;
    assert.deepEqual([row.answerCalls, row.verifyCalls, row.tokens], [4, 3, 2000]);
    assert.ok(Math.abs(row.attributed - 2) < 1e-9); // 0.2 wall GPU-s at time scale 0.1
    assert.ok(Math.abs(row.attributedPerRequest! - 0.5) < 1e-9);
    assert.ok(Math.abs(row.attributedPer1kTokens! - 1) < 1e-9);
    assert.equal(row.meteredPerRequest, 10 / 4);
    assert.equal(c.rows[1]!.attributedPerRequest, null, 'no calls: no per-request cost');
    assert.equal(c.rows[1]!.metered, null);
  });

  it('from the responses when the router does not count calls per tier, and says so', () => {
    const c = tierCosts({ tiers: DEMO_TIERS, cascade: 'ladder', routerSamples: [], results, timeScale: 0.1, metered });
    assert.equal(c.source, 'demo records');
    assert.match(c.note, /returned answers only/);
    const [s, , l] = c.rows;
    assert.deepEqual([s!.answerCalls, s!.verifyCalls, s!.tokens], [2, 2, 250]);
    assert.ok(Math.abs(s!.attributed - 2) < 1e-9);
    assert.deepEqual([l!.answerCalls, l!.verifyCalls, l!.tokens], [1, 0, 250]);
    assert.ok(Math.abs(l!.attributedPer1kTokens! - 16) < 1e-9);
  });
});

describe('the autoscaling report', () => {
  const meter = (serving: number, idle: number, loading: number) => ({ [small!.tier]: { serving, idle, loading }, [mid!.tier]: { serving: 0, idle: 0, loading: 0 }, [large!.tier]: { serving: 0, idle: 0, loading: 0 } });
  const inputs: ScalingInputs = {
    schedule: rampSchedule(8, 4, true),
    settings: { scaleDownDelaySeconds: 60, intervalSeconds: 5 },
    coldStartSeconds: 10,
    points,
    marks: [{ atMs: 0, phase: 'start-up' }, { atMs: 20, phase: 'routed low' }, { atMs: 40, phase: 'routed high' }, { atMs: 70, phase: 'cool-down' }],
    endAtMs: 100,
    settled: true,
    coolDownWallSeconds: 0.003,
    meters: { routedStart: meter(0, 1, 1), routedEnd: meter(10, 4, 3), cooledDown: meter(10, 9, 3), pinnedStart: meter(10, 9, 3), pinnedEnd: meter(10, 9, 3) },
    routerAfterRouted: [],
  };

  it('puts the timeline in modelled seconds, the meter over the routed phase and its cool-down, and formats it', () => {
    const r = buildScalingReport(inputs, DEMO_TIERS, 'ladder', [], 0.001);
    assert.equal(r.timeline.secondsPerCell, 100 / 60); // 100 wall ms at time scale 0.001 = 100 modelled s, 60 columns
    assert.deepEqual(r.events.map((e) => [e.atSeconds, e.tier, e.from, e.to]), [[30, small!.name, 1, 3], [80, small!.name, 3, 1]]);
    assert.deepEqual(r.metered[0]!.split, { serving: 10, idle: 8, loading: 2 });
    assert.equal(r.metered[0]!.total, 20);
    assert.deepEqual(r.phases, { load: 15, coolDown: 5 });
    assert.equal(r.coolDown.modelledSeconds, 3);
    assert.deepEqual(r.pinned, { tier: large!.name, split: { serving: 0, idle: 0, loading: 0 }, total: 0 });
    const text = formatScaling(r, table, large!.name).join('\n');
    assert.match(text, /SIMULATION/);
    assert.match(text, new RegExp(`${small!.name}\\s+1{10,}3+1+\\n`));
    assert.match(text, /t=\s+30 s {2}ladder\/mistral-7b 1 -> 3: burst: 9 in flight \/ target 4 -> 3; scale up 1 -> 3/);
    assert.match(text, /ladder\/mistral-7b\s+1\s+10\.0\s+8\.0\s+2\.0\s+20\.0\s+100\.0%/);
    assert.match(text, /Every tier was back at its minimum 3 s after the routed load ended/);
    assert.match(text, /calls and tokens from the demo records/);
    assert.ok(text.split('\n').every((l) => l.length <= 130), 'lines fit a wide terminal');
  });

  it('wraps reasons at word boundaries', () => {
    assert.deepEqual(wrap('a bb ccc dddd', 6), ['a bb', 'ccc', 'dddd']);
    assert.deepEqual(wrap('averyveryverylongword x', 5), ['averyveryverylongword', 'x']);
  });
});
