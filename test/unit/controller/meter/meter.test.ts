import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { advanceMeter, newTierMeter, podFacts, type TierMeter } from '../../../../controller/meter/index.js';

const S = 1000;
const iso = (s: number) => new Date(s * S).toISOString();

/** A tier pod as the API shows it: optional scheduled / ready (True since, or False since) / deleted times in seconds. */
function pod(name: string, t: { scheduled?: number; ready?: number; notReady?: number; deleted?: number; failedAt?: number } = {}): V1Pod {
  const conditions: { type: string; status: string; lastTransitionTime: Date }[] = [];
  if (t.scheduled !== undefined) conditions.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: new Date(t.scheduled * S) });
  if (t.ready !== undefined) conditions.push({ type: 'Ready', status: 'True', lastTransitionTime: new Date(t.ready * S) });
  else if (t.notReady !== undefined) conditions.push({ type: 'Ready', status: 'False', lastTransitionTime: new Date(t.notReady * S) });
  return {
    metadata: { name, uid: `uid-${name}`, ...(t.deleted !== undefined ? { deletionTimestamp: new Date(t.deleted * S) } : {}) },
    status: {
      phase: t.failedAt !== undefined ? 'Failed' : t.scheduled !== undefined ? 'Running' : 'Pending',
      conditions,
      ...(t.failedAt !== undefined ? { containerStatuses: [{ name: 'vllm', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, finishedAt: new Date(t.failedAt * S) } } }] } : {}),
    },
  } as V1Pod;
}

/** Observe `pods` (gpus each) at second `at`. */
const see = (m: TierMeter, at: number, pods: V1Pod[], gpus = 1, inFlight?: number) =>
  advanceMeter(m, at * S, { pods: pods.map((p) => podFacts(p, gpus, at * S)), ...(inFlight !== undefined ? { inFlight } : {}) });
const readAt = (m: TierMeter, at: number, inFlight?: number) => advanceMeter(m, at * S, inFlight !== undefined ? { inFlight } : {});

test('one 4-GPU pod through its life: loading, idle, serving, deleted (numbers by hand)', () => {
  let m = newTierMeter(0);
  m = see(m, 0, [pod('a')], 4); // Pending, unscheduled: holds no GPU
  assert.deepEqual(m.totals, { serving: 0, idle: 0, loading: 0 });
  m = see(m, 10, [pod('a', { scheduled: 5, notReady: 5 })], 4); // loading 5..10: 5 s x 4
  assert.deepEqual(m.totals, { serving: 0, idle: 0, loading: 20 });
  m = see(m, 70, [pod('a', { scheduled: 5, ready: 65 })], 4); // loading 10..65 (+220), idle 65..70 (+20)
  assert.deepEqual(m.totals, { serving: 0, idle: 20, loading: 240 });
  m = readAt(m, 100, 3); // idle 70..100 (+120); 3 in flight from now on
  assert.deepEqual(m.totals, { serving: 0, idle: 140, loading: 240 });
  m = readAt(m, 130); // serving 100..130 (+120)
  assert.deepEqual(m.totals, { serving: 120, idle: 140, loading: 240 });
  m = see(m, 160, [pod('a', { scheduled: 5, ready: 65, deleted: 150 })], 4); // serving 130..150 (+80), then nothing
  assert.deepEqual(m.totals, { serving: 200, idle: 140, loading: 240 });
  assert.deepEqual(m.pods, {});
  m = readAt(m, 500, 9);
  assert.deepEqual(m.totals, { serving: 200, idle: 140, loading: 240 });
});

test('two ready pods, one request in flight: least-loaded routing keeps one serving and one idle', () => {
  let m = newTierMeter(0);
  const both = [pod('a', { scheduled: 0, ready: 0 }), pod('b', { scheduled: 0, ready: 0 })];
  m = see(m, 0, both, 1, 1);
  m = readAt(m, 10, 5); // 0..10: 1 serving, 1 idle
  assert.deepEqual(m.totals, { serving: 10, idle: 10, loading: 0 });
  m = readAt(m, 20, 0); // 10..20: 5 in flight over 2 pods: both serving
  assert.deepEqual(m.totals, { serving: 30, idle: 10, loading: 0 });
});

test('transitions inside a span land at their own time; several at once in one observation', () => {
  let m = newTierMeter(0);
  m = see(m, 0, [pod('a')], 2);
  // Seen next at 100 s: scheduled at 20, Ready at 80. Loading 20..80 (60 s x 2), idle 80..100 (20 s x 2).
  m = see(m, 100, [pod('a', { scheduled: 20, ready: 80 })], 2);
  assert.deepEqual(m.totals, { serving: 0, idle: 40, loading: 120 });
});

test('late news is counted from the start of the span it arrives in', () => {
  let m = newTierMeter(0);
  m = see(m, 0, [pod('a', { scheduled: 0, notReady: 0 })]);
  m = readAt(m, 10); // loading 0..10
  // The Ready transition at 5 s is only seen at 20 s: 10..20 counts as idle (exact: 5 s less loading, 5 s more idle).
  m = see(m, 20, [pod('a', { scheduled: 0, ready: 5 })]);
  assert.deepEqual(m.totals, { serving: 0, idle: 10, loading: 10 });
});

test('a Ready pod that restarts counts as loading until it is Ready again', () => {
  let m = newTierMeter(0);
  m = see(m, 0, [pod('a', { scheduled: 0, ready: 0 })]);
  m = see(m, 40, [pod('a', { scheduled: 0, notReady: 30 })]); // idle 0..30, loading 30..40
  assert.deepEqual(m.totals, { serving: 0, idle: 30, loading: 10 });
  m = see(m, 60, [pod('a', { scheduled: 0, ready: 55 })]); // loading 40..55, idle 55..60
  assert.deepEqual(m.totals, { serving: 0, idle: 35, loading: 25 });
});

test('a pod that vanishes ends when it is missed; a failed pod ends when its container did', () => {
  let m = newTierMeter(0);
  m = see(m, 0, [pod('a', { scheduled: 0, ready: 0 }), pod('b', { scheduled: 0, ready: 0 })]);
  m = see(m, 10, [pod('b', { scheduled: 0, ready: 0 })]); // a gone at 10: 2 x 10 idle so far
  assert.deepEqual(m.totals, { serving: 0, idle: 20, loading: 0 });
  m = see(m, 30, [pod('b', { scheduled: 0, notReady: 12, failedAt: 15 })]); // b idle 10..12, loading 12..15
  assert.deepEqual(m.totals, { serving: 0, idle: 22, loading: 3 });
  assert.deepEqual(m.pods, {});
});

test('the clock never runs backwards and counters never fall', () => {
  let m = newTierMeter(0);
  m = see(m, 10, [pod('a', { scheduled: 0, ready: 0 })]);
  const before = { ...m.totals };
  m = readAt(m, 5);
  assert.deepEqual(m.totals, before);
  assert.equal(m.accountedUntil, 10 * S);
});

test('podFacts reads Date and RFC 3339 string timestamps alike', () => {
  const wire = {
    metadata: { name: 'p', uid: 'u', deletionTimestamp: iso(90) },
    spec: { containers: [] },
    status: { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: iso(1) }, { type: 'Ready', status: 'True', lastTransitionTime: iso(9) }] },
  } as unknown as V1Pod;
  assert.deepEqual(podFacts(wire, 4, 100 * S), { uid: 'u', name: 'p', gpus: 4, scheduledAt: 1 * S, readySince: 9 * S, notReadySince: null, endedAt: 90 * S });
  assert.deepEqual(podFacts(pod('q', { scheduled: 3, notReady: 3 }), 1, 0), { uid: 'uid-q', name: 'q', gpus: 1, scheduledAt: 3 * S, readySince: null, notReadySince: 3 * S, endedAt: null });
});
