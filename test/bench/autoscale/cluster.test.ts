// The benchmark's simulated cluster on timelines small enough to check by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LatencyProfile } from '../../../router/sim/latency.js';
import { gpuSecondsOf, TierSim, type Call } from './cluster.js';
import { EventQueue } from './heap.js';

// No prefill, 1 s per output token after the first, no slowdown with load, two sequences at once.
const PROFILE: LatencyProfile = { name: 'zero', hardware: 'test', prefillOverheadMs: 0, prefillPerTokenMs: 0, interTokenMs: 1000, timeFactorUnderLoad: 1, maxNumSeqs: 2, kvCapacityTokens: 1e9 };

function setup(coldStartS = 0, gpus = 2) {
  const q = new EventQueue();
  let id = 0;
  const tier = new TierSim(0, { name: 't', profile: PROFILE, gpus, coldStartS }, q, () => id++);
  const finished: Call[] = [];
  const call = (outputTokens: number, seqs = 1): Call => ({ tier: 0, seqs, promptTokens: 0, outputTokens, submitAt: q.now, waited: 0, held: false, heldS: 0, done: (c) => finished.push(c) });
  return { q, tier, finished, call };
}

test('batching, FIFO waiting beyond max-num-seqs, and GPU-seconds split into serving and idle', () => {
  const { q, tier, finished, call } = setup();
  tier.scaleTo(1);
  q.runUntil(0); // cold start 0: ready at once
  tier.submit(call(3));
  tier.submit(call(3));
  tier.submit(call(3)); // the third waits for a free slot: runs 2..4
  assert.equal(tier.inFlight, 3);
  assert.equal(tier.waiting, 1);
  q.runUntil(5);
  assert.deepEqual(finished.map((c) => c.waited), [0, 0, 2]);
  assert.equal(tier.inFlight, 0);
  assert.equal(tier.completedCalls, 3);
  assert.equal(tier.upstreamSeconds, 2 + 2 + 4);
  // 2 GPUs from 0 to 5 s, busy 0..4 s.
  assert.deepEqual(gpuSecondsOf(tier, 0, 5), { loading: 0, serving: 8, idle: 2 });
});

test('no ready replica: calls are held until one is Ready, and the loading time is GPU time too', () => {
  const { q, tier, finished, call } = setup(10, 1);
  tier.submit(call(2)); // held: no replica at all
  assert.equal(tier.held.length, 1);
  tier.scaleTo(1); // loads 0..10 s
  q.runUntil(20);
  assert.deepEqual(finished.map((c) => [c.held, c.heldS, c.waited]), [[true, 10, 10]]);
  assert.equal(tier.upstreamSeconds, 1); // the router times the upstream call, not the hold
  assert.deepEqual(gpuSecondsOf(tier, 0, 20), { loading: 10, serving: 1, idle: 9 });
});

test('scale down: loading replicas go first; a busy one drains its running calls, its queued ones move', () => {
  const { q, tier, finished, call } = setup(0, 1);
  tier.scaleTo(2);
  q.runUntil(0);
  for (let i = 0; i < 6; i++) tier.submit(call(11)); // 3 per replica: 2 running, 1 queued on each (10 s each)
  assert.equal(tier.waiting, 2);
  tier.scaleTo(1); // the least busy replica drains: its queued call moves to the other one
  assert.equal(tier.draining.length, 1);
  assert.equal(tier.active[0]!.queue.length, 2);
  q.runUntil(100);
  assert.equal(finished.length, 6);
  assert.equal(tier.draining.length, 0);
  // The drained replica was busy 0..10 s and then released; the other ran 0..10 s and 10..20 s (its queued call and
  // the moved one, side by side), then idled to 30 s.
  assert.deepEqual(gpuSecondsOf(tier, 0, 30), { loading: 0, serving: 30, idle: 10 });
  tier.scaleTo(3);
  tier.scaleTo(1); // the two just created are not Ready yet (their ready event has not run): they go first
  assert.equal(tier.active.length, 1);
  assert.equal(tier.active[0]!.ready, true);
});

test("engine readings: each ready replica's running and waiting sequences (n = 8 counts 8) and its inter-token latency counters", () => {
  const { q, tier, call } = setup(30, 1);
  tier.scaleTo(2);
  assert.deepEqual(tier.engineReadings(), []); // both loading
  tier.readyNow(); // warm start: Ready at once
  tier.submit(call(3, 2)); // a call of 2 sequences: the batch is full
  tier.submit(call(3)); // the other replica
  tier.submit(call(3)); // waits on the first (least in flight: 1 each, the oldest first)
  assert.deepEqual(tier.engineReadings().map((e) => [e.running, e.waiting, e.itlCount]), [[2, 1, 0], [1, 0, 0]]);
  q.runUntil(2);
  // The 2-sequence call produced 2 x 2 tokens after its first, at 1 s each; the single ones 2 each.
  assert.deepEqual(tier.engineReadings().map((e) => [e.running, e.waiting, e.itlCount, e.itlSeconds]), [[1, 0, 4, 4], [0, 0, 2, 2]]);
});
