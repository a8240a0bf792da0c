import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubeaiStrategy, KUBEAI_DEFAULTS } from '../../../../controller/autoscale/index.js';
import { drive, hold, series, tier } from './drive.js';

// A 30 s window at 10 s ticks: three samples, zero-seeded; scale-down delay 20 s: two consecutive lower decisions.
const small = kubeaiStrategy({ intervalSeconds: 10, timeWindowSeconds: 30, scaleDownDelaySeconds: 20 });

test('KubeAI: ceil(moving average / target); down on the third lower decision in a row (count not reset by it)', () => {
  const run = drive(small, [tier('s')], [...hold(3, [5]), ...hold(3, [50]), ...hold(5, [5])]);
  // history [5,0,0] 1.7 -> 1 ... [50,5,5] 20 -> 2, [50,50,5] 35 -> 4, [50,50,50] -> 5; then 4 (1st lower, held),
  // 2 (2nd lower, held), 1 (count 2 = required: applied), 1, 1.
  assert.deepEqual(series(run), [1, 1, 1, 2, 4, 5, 5, 5, 1, 1, 1]);
  assert.match(run.reasons[6]![0]!, /ceil\(35 \/ 10\) = 4; 0 consecutive scale downs \(< 2\), not scaling down yet/);
});

test('KubeAI: an up-or-equal decision resets the scale-down count', () => {
  const run = drive(kubeaiStrategy({ intervalSeconds: 10, timeWindowSeconds: 10, scaleDownDelaySeconds: 20 }), [tier('s', { current: 5 })], [
    ...hold(1, [50]),
    ...hold(2, [10]),
    ...hold(1, [50]),
    ...hold(3, [10]),
  ]);
  assert.deepEqual(series(run), [5, 5, 5, 5, 5, 5, 1]);
});

test('KubeAI: the zero-seeded ten-minute average rises slowly (a burst of 5x reaches 2x after 2.5 min)', () => {
  const run = drive(kubeaiStrategy(KUBEAI_DEFAULTS), [tier('s', { max: 100 })], [...hold(60, [10]), ...hold(15, [50])]);
  assert.equal(series(run)[59], 1);
  // After 15 ticks of 50 the 60-sample window holds 45 x 10 + 15 x 50: avg 20 -> 2 replicas for 5x the load.
  assert.equal(series(run)[74], 2);
});

test('KubeAI: skips a tier without ready replicas; scales from zero when requests are held', () => {
  const strategy = small;
  const out = strategy.decide({ key: 'k', tiers: [tier('s', { current: 2, ready: 0, inFlight: 40 })], counters: null }, strategy.initialState(), 0);
  assert.deepEqual(out.decisions.s, { desired: 2, reason: 'no endpoints: skipped' });
  const zero = drive(strategy, [tier('s', { min: 0, current: 0 })], [...hold(1, [0]), ...hold(1, [2])]);
  assert.deepEqual(series(zero), [0, 1]);
});

test('KubeAI: min and max clamp', () => {
  assert.deepEqual(series(drive(small, [tier('s', { max: 3 })], hold(3, [300]))), [3, 3, 3]);
  assert.deepEqual(series(drive(small, [tier('s', { min: 2, current: 2 })], hold(5, [0]))), [2, 2, 2, 2, 2]);
});
