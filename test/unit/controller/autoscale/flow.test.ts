import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateFlow, expectedLoad, pushCounters, type CascadeCounters } from '../../../../controller/autoscale/index.js';

const c = (arrivals: number[], esc01: number, seconds: number[]): CascadeCounters => ({ arrivals, escalations: [[0, esc01], [0, 0]], upstreamSeconds: seconds });
const settings = { windowSeconds: 60, minArrivals: 20 };

test('rates come from the oldest and newest snapshot in the window', () => {
  let h = pushCounters([], c([0, 0], 0, [0, 0]), 0, settings);
  h = pushCounters(h, c([100, 30], 30, [150, 90]), 30_000, settings);
  h = pushCounters(h, c([200, 50], 50, [300, 150]), 60_000, settings);
  assert.equal(h.length, 3);
  const f = estimateFlow(h, null, settings)!;
  assert.deepEqual(f.share, [[0, 0.25], [0, 0]]);
  assert.deepEqual(f.secondsPerArrival, [1.5, 3]);
  // 90 s: the snapshot at 30 s is the one at or before the window start; the one at 0 s is dropped.
  h = pushCounters(h, c([300, 90], 90, [450, 270]), 90_000, settings);
  assert.deepEqual(h.map((x) => x.atMs), [30_000, 60_000, 90_000]);
  assert.deepEqual(estimateFlow(h, null, settings)!.share[0], [0, 0.3]);
});

test('too little traffic keeps the previous estimate; a counter reset restarts the history', () => {
  const prev = { share: [[0, 0.4], [0, 0]], secondsPerArrival: [2, 4] as (number | null)[], arrivals: [500, 200] };
  const h = pushCounters(pushCounters([], c([1000, 400], 400, [2000, 1600]), 0, settings), c([1010, 402], 402, [2020, 1608]), 10_000, settings);
  const f = estimateFlow(h, prev, settings)!;
  assert.deepEqual(f.share, prev.share);
  assert.deepEqual(f.secondsPerArrival, [2, 4]);
  const reset = pushCounters(h, c([5, 1], 1, [10, 4]), 20_000, settings);
  assert.equal(reset.length, 1);
  assert.equal(estimateFlow(reset, prev, settings), prev);
});

test('expected load: Little along the cascade, the max with the own load, and a time ratio of 1 when a time is unknown', () => {
  const flow = { share: [[0, 0.5, 0.1], [0, 0, 0.5], [0, 0, 0]], secondsPerArrival: [2, 4, null] as (number | null)[], arrivals: [100, 50, 30] };
  const { expected, inflow, parts } = expectedLoad([10, 30, 1], flow);
  // m: 10 x 0.5 x 4/2 = 10 < own 30 -> 30; l: 10 x 0.1 x 1 + 30 x 0.5 x 1 = 16.
  assert.deepEqual(inflow, [0, 10, 16]);
  assert.deepEqual(expected, [10, 30, 16]);
  assert.deepEqual(parts[2]!.map((p) => [p.from, p.timeRatio, p.expected]), [[0, 1, 1], [1, 1, 15]]);
  assert.deepEqual(expectedLoad([3, 4], null).expected, [3, 4]);
});

test('a tier that queued keeps its seconds per request from before the queue (the router counts queue time as upstream time)', () => {
  const prev = { share: [[0, 0.25], [0, 0]], secondsPerArrival: [1.5, 3] as (number | null)[], arrivals: [100, 25] };
  // Large queued: 30 requests took 600 s upstream (20 s each instead of 3).
  const h = pushCounters(pushCounters([], c([0, 0], 0, [0, 0]), 0, settings), c([120, 30], 30, [180, 600]), 60_000, settings);
  assert.deepEqual(estimateFlow(h, prev, settings, [false, true])!.secondsPerArrival, [1.5, 3]);
  assert.deepEqual(estimateFlow(h, prev, settings, [false, false])!.secondsPerArrival, [1.5, 20]);
  // The shares still move: they do not depend on queue time.
  assert.deepEqual(estimateFlow(h, prev, settings, [false, true])!.share[0], [0, 0.25]);
  // Nothing measured before: the queued figure is all there is.
  assert.deepEqual(estimateFlow(h, null, settings, [false, true])!.secondsPerArrival, [1.5, 20]);
});
