import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  capacityOf,
  DEFAULT_CAPACITY_SETTINGS,
  dispersionIndex,
  latencyLine,
  observeEngines,
  planByCapacity,
  seqsPerCall,
  type CapacitySettings,
  type CapacityState,
  type EngineReading,
  type TierInput,
} from '../../../../controller/autoscale/index.js';
import { tier } from './drive.js';

export const eng = (id: string, running: number, waiting = 0, more: Partial<EngineReading> = {}): EngineReading => ({ id, running, waiting, kvCacheUsage: null, itlSeconds: null, itlCount: null, ...more });
const KEEP = 300_000;
const s = (over: Partial<CapacitySettings> = {}): CapacitySettings => ({ ...DEFAULT_CAPACITY_SETTINGS, ...over });

/** Feed ticks (10 s apart) of engine readings to one tier; returns the state after the last. */
function feed(t: TierInput, ticks: { engines: EngineReading[]; inFlight: number }[], settings = s()): CapacityState {
  let state: CapacityState | undefined;
  ticks.forEach((x, i) => (state = observeEngines(state, { ...t, engines: x.engines, inFlight: x.inFlight, ready: x.engines.length }, i * 10_000, KEEP, settings)));
  return state!;
}

test('sequences per call come from ticks without queues only (queued calls run nothing yet)', () => {
  const st = feed(tier('s'), [
    { engines: [eng('a', 24), eng('b', 16)], inFlight: 10 }, // 40 sequences for 10 calls: verifications with n = 8 among them
    { engines: [eng('a', 64, 30), eng('b', 64)], inFlight: 60 }, // queued: not counted
    { engines: [eng('a', 20), eng('b', 20)], inFlight: 10 },
  ]);
  assert.ok(Math.abs(seqsPerCall(st)! - 80 / 20) < 0.01);
  assert.equal(st.lastQueueAtMs, 10_000);
});

test('capacity: the lowest of --max-num-seqs, the batch where replicas queued below it, and what the KV cache holds', () => {
  assert.equal(capacityOf(feed(tier('s'), [{ engines: [eng('a', 10)], inFlight: 10 }]), undefined), null);
  assert.deepEqual(capacityOf(feed(tier('s'), [{ engines: [eng('a', 10)], inFlight: 10 }]), 64), { seqs: 64, source: 'max-num-seqs' });
  // Queueing at 40 and 44 running with max-num-seqs 64: something else (the KV cache) binds at ~42.
  const kvBound = feed(tier('s', { maxNumSeqs: 64 }), [{ engines: [eng('a', 40, 3)], inFlight: 43 }, { engines: [eng('a', 44, 1)], inFlight: 45 }]);
  const c = capacityOf(kvBound, 64)!;
  assert.equal(c.source, 'queueing seen');
  assert.ok(Math.abs(c.seqs - 42) < 0.1, String(c.seqs));
  // Queueing at max-num-seqs itself teaches nothing new.
  assert.deepEqual(capacityOf(feed(tier('s', { maxNumSeqs: 64 }), [{ engines: [eng('a', 64, 9)], inFlight: 73 }]), 64), { seqs: 64, source: 'max-num-seqs' });
  // KV use 0.45 at 20 sequences: 0.9 (kvLimit) of the cache holds 40.
  const kv = feed(tier('s'), [{ engines: [eng('a', 20, 0, { kvCacheUsage: 0.45 })], inFlight: 20 }]);
  assert.deepEqual(capacityOf(kv, 64), { seqs: 40, source: 'KV cache' });
});

test('latency readings: each replica differenced against its own last counters; too few tokens give none', () => {
  const t = tier('s');
  const st = feed(t, [
    { engines: [eng('a', 10, 0, { itlSeconds: 0, itlCount: 0 }), eng('b', 30, 0, { itlSeconds: 5, itlCount: 100 })], inFlight: 40 },
    // a: 200 tokens at 20 ms between batches 10 and 10; b: 5 tokens (under minTokens 10): no reading.
    { engines: [eng('a', 10, 0, { itlSeconds: 4, itlCount: 200 }), eng('b', 30, 0, { itlSeconds: 5.2, itlCount: 105 })], inFlight: 40 },
    // a restarted (counters went down): no reading, its new counters kept for the next tick.
    { engines: [eng('a', 50, 0, { itlSeconds: 1, itlCount: 10 }), eng('b', 30, 0, { itlSeconds: 6.2, itlCount: 135 })], inFlight: 80 },
  ]);
  // Readings: (10, 0.02) and b's (30, 1 / 30).
  assert.ok(Math.abs(st.latency.w - (0.5 ** (10 / 1800) + 1)) < 1e-9);
  assert.deepEqual(st.last.a, { itlSeconds: 1, itlCount: 10, running: 50 });
});

test('dispersion: one replica full of n = 8 verifications while another runs little is a wide spread', () => {
  const even = feed(tier('s'), Array.from({ length: 30 }, () => ({ engines: [eng('a', 20), eng('b', 20)], inFlight: 40 })));
  const uneven = feed(tier('s'), Array.from({ length: 30 }, () => ({ engines: [eng('a', 36), eng('b', 4)], inFlight: 40 })));
  assert.ok(dispersionIndex(even) < 0.2, String(dispersionIndex(even)));
  // Each reading strays 16 from the mean 20: variance 256 / mean 20 = 12.8, pulled a little towards the prior 1.
  assert.ok(dispersionIndex(uneven) > 10, String(dispersionIndex(uneven)));
});

// Plans with a flat latency line (prior slowdown 1) and no headroom are checkable by hand: replicas = ceil(D / usable).
const flat = s({ priorSlowdownAtCapacity: 1, headroomZ: 0, hysteresisZ: 0, maxUtilisation: 0.5 });
/** `ticks` ticks of the replicas running `running` (one call per sequence), then the plan for `demandCalls`. */
function plan(current: number, running: number[], demandCalls: number, settings = flat, over: Partial<TierInput> = {}, ticks = 1) {
  const t = tier('s', { maxNumSeqs: 40, current, ready: current, max: 10, ...over });
  const reading = { engines: running.map((r, i) => eng(`r${i}`, r)), inFlight: running.reduce((a, b) => a + b, 0) };
  const st = feed(t, Array.from({ length: ticks }, () => reading), settings);
  return planByCapacity({ demandCalls, state: st, tier: t, batchFromMs: 0, s: settings });
}

test('plan: the fewest replicas whose batch fits the usable share of capacity; min, max and zero', () => {
  // 2 replicas at 30 of 40 (usable 20): 60 sequences need 3.
  assert.equal(plan(2, [30, 30], 60)!.replicas, 3);
  // The same replicas at 10 each: 20 sequences fit on one.
  assert.equal(plan(2, [10, 10], 20)!.replicas, 1);
  assert.equal(plan(2, [10, 10], 20, flat, { min: 2 })!.replicas, 2);
  assert.equal(plan(2, [30, 30], 600, flat, { max: 5 })!.replicas, 5);
  // Nothing in flight: zero replicas (the caller clamps to min).
  assert.equal(plan(1, [10], 0)!.replicas, 0);
  // No capacity known (no --max-num-seqs, no queueing, no KV reading): no plan, the fixed target applies.
  assert.equal(plan(2, [10, 10], 20, flat, { maxNumSeqs: undefined }), null);
});

test('plan: headroom for one replica\'s fluctuation, z sqrt(I r); down only where z + hysteresis fit', () => {
  // 30 ticks of two replicas at 6 and 12: each strays 3 from the mean 9, variance 9 = mean: I = 1.
  const spread = (current: number, demand: number, settings: CapacitySettings) => plan(current, [6, 12], demand, settings, {}, 30)!;
  const z2 = s({ priorSlowdownAtCapacity: 1, headroomZ: 2, hysteresisZ: 0, maxUtilisation: 0.5 });
  // Usable 20 (half of 40): r + 2 sqrt(r) <= 20 up to r = 12.84.
  assert.equal(spread(2, 25, z2).replicas, 2); // 12.5 each
  assert.equal(spread(2, 26, z2).replicas, 3); // 13 each would not fit
  assert.match(spread(2, 26, z2).text, /variance 1 x mean/);
  // z 2 + 1 fits up to r = 10.35. At 3 replicas, 24 sequences would fit on 2 at z 2 (12 each) but not at z 3: kept.
  const band = { ...z2, hysteresisZ: 1 };
  const kept = spread(3, 24, band);
  assert.equal(kept.replicas, 3);
  assert.match(kept.text, /2 would do, but down only where 3 sd fit/);
  assert.equal(spread(3, 20, band).replicas, 2);
  // Going up is not held back by the band: 26 at 2 replicas -> 3.
  assert.equal(spread(2, 26, band).replicas, 3);
});

test('plan: packing onto fewer replicas slows every step, so each carries less than its share', () => {
  // Prior: a full batch of 40 runs steps 2x slower. 2 replicas at 10 each (60 sequences' worth... 20 in all):
  const slow = s({ priorSlowdownAtCapacity: 2, headroomZ: 0, hysteresisZ: 0, maxUtilisation: 0.5 });
  const p = plan(2, [10, 10], 20, slow)!;
  // On one replica the 20 sequences would run at a batch r with r = 20 x itl(r) / itl(10) > 20: more than usable.
  assert.equal(p.replicas, 2);
  assert.match(p.text, /prior latency line/);
  assert.equal(plan(2, [10, 10], 20, flat)!.replicas, 1);
});

test('plan: an optional latency bound caps the batch (steps at most maxSlowdown x slower than one sequence)', () => {
  const bounded = s({ priorSlowdownAtCapacity: 2, headroomZ: 0, hysteresisZ: 0, maxUtilisation: 1, maxSlowdown: 1.25 });
  // itl(r) / itl(1) = 1 + (r - 1) / 39 <= 1.25 -> r <= 10.75; 30 sequences (at 30 / 3 = 10 per replica now) need 3.
  // On 3 replicas the batch settles at 10.0 (within the bound); on 2 at 17.3 (within capacity, not the bound).
  const p = plan(3, [10, 10, 10], 30, bounded)!;
  assert.equal(p.replicas, 3);
  assert.match(p.text, /batch <= 10.8 \(steps x1.25\): 3 replicas settle at 10\/replica/);
  assert.equal(plan(3, [10, 10, 10], 30, { ...bounded, maxSlowdown: undefined })!.replicas, 2);
});

test('latencyLine uses the learned capacity as the prior\'s full batch', () => {
  const st = feed(tier('s'), [{ engines: [eng('a', 5)], inFlight: 5 }]);
  const line = latencyLine(st, 21, s({ priorSlowdownAtCapacity: 3 }));
  assert.ok(Math.abs((line.a + 21 * line.c) / (line.a + line.c) - 3) < 1e-9);
});
