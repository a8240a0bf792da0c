// The tiermix strategy with engine readings: tiers sized by what their replicas can run (capacity.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CAPACITY_SETTINGS, DEFAULT_TIERMIX_SETTINGS, tiermixStrategy, type CapacitySettings, type TiermixSettings } from '../../../../controller/autoscale/index.js';
import { drive, hold, series, tier, type Tick } from './drive.js';

/**
 * Numbers checkable by hand: a flat latency line (prior slowdown 1), no headroom, replicas planned to half their
 * capacity (max-num-seqs 40 -> 20 usable), the average over the current tick only, no burst path.
 */
const ours = (over: Partial<TiermixSettings> = {}, cap: Partial<CapacitySettings> = {}) =>
  tiermixStrategy({
    ...DEFAULT_TIERMIX_SETTINGS,
    averageWindowSeconds: 0,
    burstThreshold: Infinity,
    ...over,
    capacity: { ...DEFAULT_CAPACITY_SETTINGS, priorSlowdownAtCapacity: 1, headroomZ: 0, hysteresisZ: 0, maxUtilisation: 0.5, ...cap },
  });
const t = (over = {}) => tier('s', { maxNumSeqs: 40, targetInFlightPerReplica: 8, max: 10, scaleDownDelaySeconds: 20, ...over });
const changes = (xs: number[]) => xs.filter((x, i) => i > 0 && x !== xs[i - 1]).length;

test('sized by what the replicas run: 30 calls of 2 sequences each need 3 replicas at 20, not 4 at 8 calls', () => {
  const run = drive(ours(), [t({ current: 2 })], [{ inFlight: [30], running: [60] }]);
  assert.deepEqual(series(run), [3]);
  assert.match(run.reasons[0]![0]!, /^running 30 calls \(0s avg of 60 sequences in vLLM batches, 2 per call\); 60 sequences in flight \(30 calls x 2\) at 30\/replica; capacity 40 \(max-num-seqs\)/);
  // Without engine readings the fixed target applies; so it does when the spec sets the target itself.
  assert.deepEqual(series(drive(ours(), [t({ current: 2 })], [{ inFlight: [30] }])), [4]);
  assert.deepEqual(series(drive(ours(), [t({ current: 2, targetExplicit: true })], [{ inFlight: [30], running: [60] }])), [4]);
});

test('bursts: up at once; queued calls are a backlog, not load, so the tier does not stay large once it drains', () => {
  // One call per sequence (learnt at tick 0). Ticks 1-2: 200 calls in flight on the one Ready replica, 40 running
  // (full) and 160 queued, while a second replica loads (Ready 3 ticks after it is asked for); then drained.
  const ticks: Tick[] = [{ inFlight: [10], running: [10] }, ...hold(2, [200], { running: [40], queued: [160] }), ...hold(6, [20], { running: [20] })];
  const run = drive(ours({ averageWindowSeconds: 30 }), [t()], ticks, {}, { coldStartTicks: 3 });
  // Averages of running over [t - 30 s, t]: 10 -> 1; (10, 40) 25 -> 2; (10, 40, 40) 30; (10, 40, 40, 20) 27.5;
  // (40, 40, 20, 20) 30; (40, 20, 20, 20) 25 -> 2; then 20 -> 1 from tick 6, held 20 s, down at tick 8.
  assert.deepEqual(series(run), [1, 2, 2, 2, 2, 2, 2, 2, 1]);
  // The fixed target on in-flight (no engine readings) sizes the tier for the queue once its replica is Ready:
  // (10 + 200 + 200 + 20) / 4 / 8 -> 14, max 10.
  const byInFlight = drive(ours({ averageWindowSeconds: 30 }), [t()], ticks.map((x) => ({ inFlight: x.inFlight })), {}, { coldStartTicks: 3 });
  assert.equal(series(byInFlight)[3], 10);
});

test('flapping: a load hovering at a boundary changes replicas once with the hysteresis band, every tick without', () => {
  const ticks = Array.from({ length: 12 }, (_, i) => ({ inFlight: [i % 2 === 0 ? 21 : 19], running: [i % 2 === 0 ? 21 : 19] }));
  const banded = drive(ours({}, { hysteresisZ: 1 }), [t({ scaleDownDelaySeconds: 0 })], ticks);
  assert.deepEqual(series(banded), [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
  assert.match(banded.reasons[1]![0]!, /1 would do, but down only where 1 sd fit/);
  const bare = drive(ours(), [t({ scaleDownDelaySeconds: 0 })], ticks);
  assert.equal(changes(series(bare)), 11);
});

test('min and max bound the plan; the reason says so', () => {
  const run = drive(ours(), [t({ max: 3 })], [{ inFlight: [500], running: [500] }]);
  assert.deepEqual(series(run), [3]);
  assert.match(run.reasons[0]![0]!, /3 replicas settle at 166.7\/replica, steps x1 \(prior latency line\); even 3 \(max\) run fuller than planned; scale up 1 -> 3$/);
  assert.deepEqual(series(drive(ours(), [t({ min: 2, current: 2 })], hold(3, [4], { running: [4] }))), [2, 2, 2]);
});

test('zero: a tier at zero has no engine readings: it starts one replica for held requests, and goes back to zero', () => {
  const ticks: Tick[] = [{ inFlight: [0] }, { inFlight: [3] }, ...hold(2, [3], { running: [3] }), ...hold(4, [0], { running: [0] })];
  const run = drive(ours(), [t({ min: 0, current: 0 })], ticks, {}, { coldStartTicks: 1 });
  assert.deepEqual(series(run), [0, 1, 1, 1, 1, 1, 0, 0]);
  assert.match(run.reasons[1]![0]!, /scale from zero: 3 requests held/);
  assert.match(run.reasons[6]![0]!, /0 sequences in flight.*scale down 1 -> 0: lower for 20s/);
});

test('saturation: without --max-num-seqs the tier keeps the fixed target until a replica queues, then runs to that batch', () => {
  const ticks: Tick[] = [...hold(2, [10], { running: [10] }), { inFlight: [45], running: [30], queued: [15] }, ...hold(2, [40], { running: [40] })];
  const run = drive(ours({}, { maxUtilisation: 1 }), [t({ maxNumSeqs: undefined, current: 2 })], ticks);
  assert.equal(run.reasons[0]![0]!, 'in-flight 10 (0s avg) / target 8 -> 2');
  // Queued at 30 running on one replica (of 2 ready: 15 each... the first holds the queue): capacity 15 each seen.
  assert.match(run.reasons[3]![0]!, /capacity 15 \(queueing seen\)/);
  assert.deepEqual(series(run).slice(3), [3, 3]);
});

test('cold start: a tier whose replicas take 60 s to load holds them 60 s before scaling down, not its 20 s delay', () => {
  // Load 30 -> 2 replicas (Ready 6 ticks later, 60 s); then 10 -> 1 recommended.
  const ticks: Tick[] = [...hold(8, [30], { running: [30] }), ...hold(10, [10], { running: [10] })];
  const aware = drive(ours(), [t()], ticks, {}, { coldStartTicks: 6 });
  const down = (xs: number[]) => xs.findIndex((x, i) => i > 8 && x < xs[i - 1]!);
  // Cold start measured 50 s (asked at tick 0's decision, first seen loading at tick 1, Ready at tick 6).
  assert.match(aware.reasons[9]![0]!, /holding 2: scale down after 50s \(the tier's measured cold start\)/);
  assert.equal(down(series(aware)), 13);
  const plain = drive(ours({ coldStartAwareHold: false }), [t()], ticks, {}, { coldStartTicks: 6 });
  assert.equal(down(series(plain)), 10);
});

test('a drop is followed at once (subject to the scale-down delay), not after the averaging window', () => {
  const ticks: Tick[] = [...hold(12, [60], { running: [60] }), ...hold(8, [10], { running: [10] })];
  const fast = drive(ours({ averageWindowSeconds: 120, burstWindowSeconds: 20, burstThreshold: 0.2 }), [t()], ticks);
  const slow = drive(ours({ averageWindowSeconds: 120, burstWindowSeconds: 20, burstThreshold: 0.2, fastDown: false }), [t()], ticks);
  assert.match(fast.reasons[14]![0]!, /^drop: in-flight 10 \(20s; avg/);
  const firstBelow = (xs: number[]) => xs.findIndex((x, i) => i >= 12 && x < 3);
  const f = firstBelow(series(fast));
  const w = firstBelow(series(slow));
  // The fast run must scale down, and before the slow one (if that does at all within the run).
  assert.ok(f !== -1 && (w === -1 || f < w), `${series(fast)} / ${series(slow)}`);
});
