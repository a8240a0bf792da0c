import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateDemand } from '../../../../controller/autoscale/demand.js';

/** Samples at 0, 10, 20, 30 s. */
const at = (values: number[]) => values.map((value, i) => ({ atMs: i * 10_000, value }));
const base = { ready: 2, previousServiceS: null, drainSeconds: 120 };

test('no queue: the demand is the average in-flight (Little), nothing to drain', () => {
  // 10 in flight, 150 calls done in 30 s (5/s): each runs 10 x 30 / 150 = 2 s; 5/s x 2 s = 10.
  const e = estimateDemand({ ...base, inFlight: at([10, 10, 10, 10]), waiting: at([0, 0, 0, 0]), callsAtStart: 1000, callsNow: 1150 });
  assert.deepEqual(e, { rate: 5, serviceS: 2, demand: 10, backlog: 0, load: 10 });
});

test('a growing queue: sized for the arrival rate plus the backlog drained over 120 s, not for the queue', () => {
  // 10 running throughout, 30 more waiting every 10 s; 150 done in 30 s. Arrivals: (150 + 100 - 10) / 30 = 8/s.
  // Service 2 s: demand 16; backlog 90 x 2 / 120 = 1.5 more. The plain average would say 55, the last reading 100.
  const e = estimateDemand({ ...base, inFlight: at([10, 40, 70, 100]), waiting: at([0, 30, 60, 90]), callsAtStart: 0, callsNow: 150 });
  assert.deepEqual(e, { rate: 8, serviceS: 2, demand: 16, backlog: 90, load: 17.5 });
});

test('no ready replica: everything is held; the last service time measured prices the arrivals', () => {
  const e = estimateDemand({ ...base, ready: 0, previousServiceS: 4, inFlight: at([0, 5, 10, 15]), waiting: [], callsAtStart: 7, callsNow: 7 });
  // 15 arrived in 30 s (0.5/s) x 4 s = 2, and the 15 held drain over 120 s: 15 x 4 / 120 = 0.5.
  assert.deepEqual(e, { rate: 0.5, serviceS: 4, demand: 2, backlog: 15, load: 2.5 });
});

test('nothing to go on: no counters, or no completions and no service time yet', () => {
  assert.equal(estimateDemand({ ...base, inFlight: at([1, 2]), waiting: [], callsAtStart: null, callsNow: 5 }), null);
  assert.equal(estimateDemand({ ...base, ready: 0, inFlight: at([0, 5, 10]), waiting: [], callsAtStart: 0, callsNow: 0 }), null);
  assert.equal(estimateDemand({ ...base, inFlight: at([3]), waiting: [], callsAtStart: 0, callsNow: 9 }), null);
});
