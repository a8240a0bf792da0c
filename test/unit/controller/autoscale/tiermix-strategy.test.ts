import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TIERMIX_SETTINGS, tiermixStrategy, type CascadeCounters, type TiermixSettings } from '../../../../controller/autoscale/index.js';
import { drive, hold, series, tier } from './drive.js';

const settings = (over: Partial<TiermixSettings> = {}): TiermixSettings => ({ ...DEFAULT_TIERMIX_SETTINGS, ...over });
/** Average over the last 20 s (three samples at 10 s ticks); the burst path off unless a test turns it on. */
const ours = (over: Partial<TiermixSettings> = {}) => tiermixStrategy(settings({ averageWindowSeconds: 20, burstThreshold: Infinity, ...over }));
const changes = (xs: number[]) => xs.filter((x, i) => i > 0 && x !== xs[i - 1]).length;

test('burst: up within the tick the average rises, down only after the stabilisation window, in steps the window needed', () => {
  const ticks = [...hold(3, [5]), ...hold(3, [50]), ...hold(10, [5])];
  const run = drive(ours(), [tier('s', { scaleDownDelaySeconds: 60 })], ticks);
  // avg 5 -> 1; [5,5,50] avg 20 -> 2; [5,50,50] 35 -> 4; [50,50,50] -> 5; then recommendations 4,2,1,1,... are held
  // until the window [t-60s, t] holds none >= 5 (t12: max 4), then 2 (t13), then 1 (t14).
  assert.deepEqual(series(run), [1, 1, 1, 2, 4, 5, 5, 5, 5, 5, 5, 5, 4, 2, 1, 1]);
  assert.match(run.reasons[3]![0]!, /in-flight 20 \(20s avg\) \/ target 10 -> 2; scale up 1 -> 2/);
  assert.match(run.reasons[8]![0]!, /holding 5: scale down after 60s of lower recommendations \(60s so far, up to 5 in the window\)/);
  assert.match(run.reasons[12]![0]!, /scale down 5 -> 4: lower for 60s/);
});

test('flapping load: one step up, then held; never flaps', () => {
  const ticks = Array.from({ length: 12 }, (_, i) => ({ inFlight: [i % 2 === 0 ? 19 : 21] }));
  const run = drive(ours({ averageWindowSeconds: 0 }), [tier('s')], ticks);
  // Recommendations alternate 2, 3, 2, 3...: up to 2, up to 3, then every window holds a 3.
  assert.deepEqual(series(run), [2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
  assert.equal(changes(series(run)), 1);
});

test('min and max bound the decision, and the reason says so', () => {
  const big = drive(ours({ averageWindowSeconds: 0 }), [tier('s', { max: 4 })], hold(1, [500]));
  assert.deepEqual(series(big), [4]);
  assert.match(big.reasons[0]![0]!, /-> 50; clamped to \[1, 4\]: 4/);
  const floor = drive(ours({ averageWindowSeconds: 0 }), [tier('s', { min: 2, current: 2, scaleDownDelaySeconds: 0 })], hold(3, [0]));
  assert.deepEqual(series(floor), [2, 2, 2]);
});

test('zero: scale from zero at once when requests are held, back to zero after the window', () => {
  const t = tier('s', { min: 0, current: 0, scaleDownDelaySeconds: 30 });
  const run = drive(ours({ averageWindowSeconds: 0 }), [t], [...hold(2, [0]), ...hold(2, [3]), ...hold(6, [0])]);
  assert.deepEqual(series(run), [0, 0, 1, 1, 1, 1, 1, 0, 0, 0]);
  assert.match(run.reasons[2]![0]!, /scale from zero: 3 requests held/);
  assert.match(run.reasons[7]![0]!, /scale down 1 -> 0: lower for 30s/);
});

test('stabilisation: a dip shorter than the window changes nothing; a zero-second window follows the load', () => {
  const ticks = [...hold(2, [40]), ...hold(3, [10]), ...hold(2, [40])];
  const held = drive(ours({ averageWindowSeconds: 0 }), [tier('s', { scaleDownDelaySeconds: 60 })], ticks);
  assert.deepEqual(series(held), [4, 4, 4, 4, 4, 4, 4]);
  const eager = drive(ours({ averageWindowSeconds: 0 }), [tier('s', { scaleDownDelaySeconds: 0 })], ticks);
  assert.deepEqual(series(eager), [4, 4, 1, 1, 1, 4, 4]);
});

test('a missing reading keeps the average of the samples held; none at all keeps the current replicas', () => {
  const run = drive(ours(), [tier('s', { current: 3 })], [{ inFlight: [null] }, { inFlight: [40] }, { inFlight: [null] }]);
  assert.deepEqual(series(run), [3, 4, 4]);
  assert.match(run.reasons[0]![0]!, /no in-flight reading yet: keeping 3/);
  assert.match(run.reasons[2]![0]!, /no new reading/);
});

test('stale routers are named in every reason', () => {
  const run = drive(ours(), [tier('s'), tier('m')], hold(1, [5, 5]), { staleNote: 'router http://r1/metrics down since 12:00:00 (last value kept)' });
  for (const r of run.reasons[0]!) assert.match(r, /router http:\/\/r1\/metrics down/);
});

test('saturation guard: vLLM waiting queues size the tier by what a replica really runs', () => {
  const tiers = [tier('s', { targetInFlightPerReplica: 20, current: 1 })];
  const guarded = drive(ours({ averageWindowSeconds: 0 }), tiers, [{ inFlight: [40], waiting: [30] }]);
  // target says ceil(40/20) = 2, but the one replica runs only 40 - 30 = 10: ceil(40/10) = 4.
  assert.deepEqual(series(guarded), [4]);
  assert.equal(guarded.reasons[0]![0]!, 'in-flight 40 (0s avg) / 10 (replicas saturate there: 30 waiting in vLLM) -> 4; scale up 1 -> 4');
  const off = drive(ours({ averageWindowSeconds: 0, saturationGuard: false }), tiers, [{ inFlight: [40], waiting: [30] }]);
  assert.deepEqual(series(off), [2]);
});

/** Counters after `n` arrivals at tier 0 with the given shares to the tiers above and seconds per arrival. */
function counters(arrivals: number[], escalations: number[][], seconds: number[]): CascadeCounters {
  return { arrivals, escalations, upstreamSeconds: seconds };
}

test('pre-scaling: the large tier is sized from the load at the small one before its own queue grows', () => {
  const tiers = [tier('small', { targetInFlightPerReplica: 10 }), tier('large', { targetInFlightPerReplica: 5, gpusPerReplica: 4 })];
  const c0 = counters([0, 0], [[0, 0], [0, 0]], [0, 0]);
  // 100 requests reached small, 40 were escalated to large: share 0.4; 2 s per request at small, 4 s at large.
  const c1 = counters([100, 40], [[0, 40], [0, 0]], [200, 160]);
  const ticks = [{ inFlight: [50, 0], counters: c0 }, { inFlight: [50, 0], counters: c1 }];
  const run = drive(ours({ averageWindowSeconds: 0 }), tiers, ticks);
  // expected at large = 50 x 0.4 x (4 / 2) = 40 -> ceil(40 / 5) = 8, while its own in-flight is still 0.
  assert.deepEqual(run.desired, [[5, 1], [5, 8]]);
  assert.match(run.reasons[1]![1]!, /in-flight 0 \(0s avg\), pre-scaled to 40 expected from small 50 x 40% x 2 \/ target 5 -> 8; scale up 1 -> 8/);
  const independent = drive(ours({ averageWindowSeconds: 0, prescale: false }), tiers, ticks);
  assert.deepEqual(independent.desired, [[5, 1], [5, 1]]);
});

test('pre-scaling carries a wave through three tiers, including escalations that skip a tier', () => {
  const tiers = [tier('s', { max: 100 }), tier('m', { max: 100 }), tier('l', { max: 100 })];
  const c0 = counters([0, 0, 0], [[0, 0, 0], [0, 0, 0], [0, 0, 0]], [0, 0, 0]);
  // s -> m 50%, s -> l 20%, m -> l 50%; one second per request everywhere.
  const c1 = counters([1000, 500, 450], [[0, 500, 200], [0, 0, 250], [0, 0, 0]], [1000, 500, 450]);
  const run = drive(ours({ averageWindowSeconds: 0 }), tiers, [{ inFlight: [100, 0, 0], counters: c0 }, { inFlight: [100, 0, 0], counters: c1 }]);
  // m: 100 x 0.5 = 50 -> 5; l: 100 x 0.2 + 50 x 0.5 = 45 -> 5.
  assert.deepEqual(run.desired[1], [10, 5, 5]);
  assert.match(run.reasons[1]![2]!, /pre-scaled to 45 expected from s 100 x 20% x 1 \+ m 50 x 50% x 1/);
});

test('pre-scaling never lowers a tier below its own load', () => {
  const tiers = [tier('small'), tier('large')];
  const c0 = counters([0, 0], [[0, 0], [0, 0]], [0, 0]);
  const c1 = counters([100, 10], [[0, 10], [0, 0]], [100, 10]);
  const run = drive(ours({ averageWindowSeconds: 0 }), tiers, [{ inFlight: [10, 60], counters: c0 }, { inFlight: [10, 60], counters: c1 }]);
  assert.deepEqual(run.desired[1], [1, 6]);
});

test('GPU cap: smaller tiers first, the large tier keeps one replica, the cost multiplier grows then relaxes', () => {
  const tiers = [tier('small', { targetInFlightPerReplica: 10 }), tier('large', { gpusPerReplica: 4, targetInFlightPerReplica: 5 })];
  const strategy = ours({ averageWindowSeconds: 0 });
  const run = drive(strategy, tiers, [...hold(2, [50, 30]), ...hold(2, [50, 5])], { maxGpus: 12 });
  // Wanted: 5 x 1 + 6 x 4 = 29 GPUs > 12. Floors (1 + 4 GPUs), then small up to 5 (9 GPUs); 3 left < 4.
  assert.deepEqual(run.desired[0], [5, 1]);
  assert.match(run.reasons[0]![1]!, /maxGpus 12 binds \(29 GPUs wanted\): 1 of 6 replicas, smaller tiers first; router asked to weigh GPU cost x1.6/);
  const m1 = Math.sqrt(29 / 12);
  assert.ok(Math.abs(run.costMultipliers[0]! - m1) < 1e-9);
  assert.ok(Math.abs(run.costMultipliers[1]! - m1 * m1) < 1e-9);
  // The router sends fewer requests up (5 in flight at large): 9 GPUs < 12 x 0.9, the multiplier relaxes by sqrt(9/12).
  assert.ok(Math.abs(run.costMultipliers[2]! - m1 * m1 * Math.sqrt(9 / 12)) < 1e-9);
  assert.ok(run.costMultipliers[3]! < run.costMultipliers[2]!);
});

test('GPU cap: the cost signal names the capacity share of each tier and both multipliers', () => {
  const strategy = ours({ averageWindowSeconds: 0 });
  const tiers = [tier('small', { targetInFlightPerReplica: 10 }), tier('large', { gpusPerReplica: 4, targetInFlightPerReplica: 5 })];
  const out = strategy.decide({ key: 'ns/c', tiers: tiers.map((t, i) => ({ ...t, inFlight: [50, 30][i]! })), counters: null, maxGpus: 12 }, strategy.initialState(), 0);
  const sig = out.costSignal!;
  assert.equal(sig.binding, true);
  assert.equal(sig.desiredGpus, 29);
  assert.equal(sig.maxGpus, 12);
  assert.deepEqual(sig.capacityShare, { small: 1, large: 5 / 30 });
  assert.ok(Math.abs(sig.lambdaMultiplier * sig.budgetMultiplier - 1) < 1e-12);
  const free = strategy.decide({ key: 'ns/c', tiers: tiers.map((t) => ({ ...t, inFlight: 5 })), counters: null, maxGpus: 12 }, strategy.initialState(), 0);
  assert.equal(free.costSignal!.binding, false);
  assert.equal(free.costSignal!.lambdaMultiplier, 1);
  assert.match(free.costSignal!.reason, /maxGpus 12 not binding \(5 GPUs needed\)/);
});

test('GPU cap below the floors: the floors win and the reason says so', () => {
  const tiers = [tier('small', { min: 1 }), tier('large', { min: 1, gpusPerReplica: 4 })];
  const run = drive(ours({ averageWindowSeconds: 0 }), tiers, hold(1, [50, 50]), { maxGpus: 3 });
  assert.deepEqual(run.desired[0], [1, 1]);
  assert.match(run.reasons[0]![0]!, /min replicas alone exceed maxGpus 3/);
});

/** A burst on one tier whose 2 replicas stay busy (new ones load): 20 running, arrivals 2/s then 10/s. */
function burstRun(over: Partial<TiermixSettings>) {
  const strategy = tiermixStrategy(settings({ averageWindowSeconds: 300, burstWindowSeconds: 30, ...over }));
  let state = strategy.initialState();
  let current = 2;
  const out: { desired: number; reason: string }[] = [];
  let calls = 0;
  let inFlight = 20;
  for (let i = 0; i < 14; i++) {
    const burst = i >= 10;
    calls += 20; // 20 running, 10 s each: 2 completions per second
    if (burst) inFlight += 80; // 10/s arrive, 2/s complete
    const t = tier('s', { targetInFlightPerReplica: 10, max: 100, current, ready: 2, inFlight, waiting: inFlight - 20 });
    const d = strategy.decide({ key: 'k', tiers: [t], counters: { arrivals: [0], escalations: [[0]], upstreamSeconds: [0], upstreamCalls: [calls] } }, state, i * 10_000);
    state = d.state;
    current = d.decisions.s!.desired;
    out.push(d.decisions.s!);
  }
  return out;
}

test('burst: sized for the new arrival rate, not for the backlog piling up while replicas load', () => {
  const aware = burstRun({});
  // Before the burst: 2/s x 10 s = 20 in flight -> 2 replicas.
  assert.equal(aware[9]!.desired, 2);
  // Tick 13, window 100-130 s: in flight 100 -> 340 with 20 running, 60 done: arrivals (60 + 240) / 30 = 10/s,
  // each runs 20 x 30 / 60 = 10 s: 100 in flight; the 320 waiting drain over 120 s: 320 x 10 / 120 = 26.7 -> 13.
  assert.equal(aware[13]!.desired, 13);
  assert.match(aware[13]!.reason, /burst: 10 calls\/s x 10s = 100 in flight \+ backlog 320 over 120s \(30s; avg/);
  // Without the estimate, the short average (mean 100..340 = 220) would ask for 22; while replicas load and no
  // rate is measured, the guard holds it at what was asked for (here the first burst tick's 4).
  const plain = burstRun({ backlogAware: false });
  assert.match(plain[13]!.reason, /still loading, no rate measured yet: held at 4/);
  // A short window's noise does not count as a burst: 2 standard deviations of sqrt(avg) are required.
  const noisy = drive(tiermixStrategy(settings({ averageWindowSeconds: 300, burstWindowSeconds: 10, backlogAware: false })), [tier('s', { scaleDownDelaySeconds: 0 })], [...hold(10, [16]), ...hold(1, [22])]);
  assert.deepEqual(series(noisy).slice(-2), [2, 2]);
});

test('replicas loading and no rate measured: the held backlog does not ask for more of them', () => {
  const strategy = tiermixStrategy(settings({ averageWindowSeconds: 0, burstThreshold: Infinity }));
  const d = strategy.decide({ key: 'k', tiers: [tier('s', { min: 0, current: 1, ready: 0, inFlight: 90, targetInFlightPerReplica: 10 })], counters: null }, strategy.initialState(), 0);
  assert.equal(d.decisions.s!.desired, 1);
  assert.match(d.decisions.s!.reason, /1 replicas still loading, no rate measured yet: held at 1/);
});
