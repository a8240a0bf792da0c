import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocateUnderCap, nextCostMultiplier } from '../../../../controller/autoscale/index.js';
import { tier } from './drive.js';

const ladder = [tier('7b', { min: 1 }), tier('13b', { min: 0 }), tier('70b', { min: 0, gpusPerReplica: 4 })];

test('cap table: floors, one replica per loaded tier, then smallest first', () => {
  const cases: { desired: number[]; load: number[]; cap: number | undefined; want: number[]; binding: boolean }[] = [
    { desired: [4, 2, 3], load: [40, 20, 30], cap: undefined, want: [4, 2, 3], binding: false },
    { desired: [4, 2, 3], load: [40, 20, 30], cap: 18, want: [4, 2, 3], binding: false },
    // 18 wanted, 12 allowed: floors 7b 1; one each for 13b and 70b (1 + 1 + 4 = 6); 7b up to 4 (9); 13b up to 2 (10); 2 left < 4.
    { desired: [4, 2, 3], load: [40, 20, 30], cap: 12, want: [4, 2, 1], binding: true },
    // So tight that the 70b's one replica does not fit after the 7b's floor and the 13b's one: the rest goes to the 7b.
    { desired: [4, 2, 3], load: [40, 20, 30], cap: 5, want: [4, 1, 0], binding: true },
    // A tier without load gets nothing beyond its floor: 7b floor 1, 70b one (5 GPUs), 7b up to 4 (8); 1 left.
    { desired: [4, 0, 3], load: [40, 0, 30], cap: 9, want: [4, 0, 1], binding: true },
  ];
  for (const c of cases) {
    const a = allocateUnderCap(ladder, c.desired, c.load, c.cap);
    assert.deepEqual(a.replicas, c.want, JSON.stringify(c));
    assert.equal(a.binding, c.binding, JSON.stringify(c));
    if (c.cap !== undefined) assert.ok(a.allocatedGpus <= c.cap || a.floorsExceedCap);
  }
});

test('cost multiplier: grows while binding, holds in the slack band, relaxes below it, never under 1 or over the max', () => {
  assert.equal(nextCostMultiplier(1, 40, undefined), 1);
  assert.equal(nextCostMultiplier(1, 40, 10), 2);
  assert.equal(nextCostMultiplier(2, 40, 10), 4);
  assert.equal(nextCostMultiplier(4, 9.5, 10), 4);
  assert.equal(nextCostMultiplier(4, 4, 16), 2);
  assert.equal(nextCostMultiplier(1.1, 1, 16), 1);
  assert.equal(nextCostMultiplier(15, 1000, 10), 16);
});
