import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addPoint, decaySums, emptySums, fitLatency, itlAt, settledBatch } from '../../../../controller/autoscale/latency-model.js';

const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('no readings: the prior alone, scaled so that one sequence costs 1', () => {
  // 2x slower at a full batch of 33: slope (2 - 1) / 32 per sequence.
  const line = fitLatency(emptySums(), { slowdownAtCapacity: 2, capacity: 33, weight: 10 });
  close(itlAt(line, 1), 1);
  close(itlAt(line, 33), 2);
  assert.equal(line.readings, 0);
});

test('readings with spread recover their line; the prior barely moves it', () => {
  // itl = 0.02 + 0.0005 r, read at batches 4..60: a full batch of 64 runs 0.052 / 0.0205 = 2.54x slower.
  let sums = emptySums();
  for (let r = 4; r <= 60; r += 4) for (let k = 0; k < 10; k++) sums = addPoint(sums, r, 0.02 + 0.0005 * r);
  const line = fitLatency(sums, { slowdownAtCapacity: 1.5, capacity: 64, weight: 2 });
  close(line.a, 0.02, 2e-4);
  close(line.c, 0.0005, 1e-5);
  assert.equal(line.readings, 150);
});

test('readings all at one batch size: the slope comes from the prior, the level from the readings', () => {
  let sums = emptySums();
  for (let k = 0; k < 50; k++) sums = addPoint(sums, 20, 0.03);
  const line = fitLatency(sums, { slowdownAtCapacity: 2, capacity: 41, weight: 10 });
  close(itlAt(line, 20), 0.03, 1e-9);
  // Prior slope relative to one sequence: (2 - 1) / 40 -> itl(41) / itl(1) = 2.
  close(itlAt(line, 41) / itlAt(line, 1), 2, 1e-9);
});

test('a line that would say an empty batch costs nothing keeps 10% of the mean level; slopes never go negative', () => {
  let steep = emptySums();
  for (const r of [10, 20, 30]) steep = addPoint(steep, r, r * 0.001 - 0.009);
  const a = fitLatency(steep, { slowdownAtCapacity: 1, capacity: 32, weight: 0 });
  close(a.a, 0.1 * ((0.001 + 0.011 + 0.021) / 3));
  let falling = emptySums();
  for (const r of [10, 20, 30]) falling = addPoint(falling, r, 0.05 - r * 0.001);
  assert.equal(fitLatency(falling, { slowdownAtCapacity: 1, capacity: 32, weight: 0 }).c, 0);
});

test('forgetting: decayed sums weigh old readings less', () => {
  const old = decaySums(addPoint(emptySums(), 10, 1), 0.5);
  const now = addPoint(old, 10, 2);
  close(now.y / now.w, (0.5 * 1 + 2) / 1.5);
});

test('settled batch: the load spread over more replicas, each request staying as long as the fuller batch makes it', () => {
  const flat = { a: 1, c: 0, readings: 0 };
  close(settledBatch(flat, 60, 30, 3), 20);
  // itl(r) = 1 + 0.05 r; 60 sequences measured at 30 per replica (itl 2.5): work 24 per itl unit. On 2 replicas
  // r = 12 (1 + 0.05 r) -> r = 12 / 0.4 = 30; on 4: r = 6 (1 + 0.05 r) -> 6 / 0.7.
  const line = { a: 1, c: 0.05, readings: 0 };
  close(settledBatch(line, 60, 30, 2), 30);
  close(settledBatch(line, 60, 30, 4), 6 / 0.7);
  // On one replica r = 24 (1 + 0.05 r) has no solution: it cannot keep up at any batch size.
  assert.equal(settledBatch(line, 60, 30, 1), Infinity);
  assert.equal(settledBatch(line, 0, 30, 0), 0);
});
