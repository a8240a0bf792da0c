import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicaSet } from '../../../router/upstream/replica-set.js';

const urls = ['http://a', 'http://b', 'http://c'];
const policy = { baseSeconds: 1, maxSeconds: 8 };

test('picks the replica with the fewest calls in flight', () => {
  const set = new ReplicaSet(urls, true, policy);
  set.started(0);
  set.started(0);
  set.started(2);
  for (let k = 0; k < 3; k++) assert.equal(set.pick(0), 1);
});

test('spreads equally loaded replicas round-robin', () => {
  const set = new ReplicaSet(urls, true, policy);
  const picks = Array.from({ length: 6 }, () => set.pick(0));
  assert.deepEqual(picks, [0, 1, 2, 0, 1, 2]);
});

test('concurrent picks that start calls fill replicas evenly', () => {
  const set = new ReplicaSet(urls, true, policy);
  const counts = [0, 0, 0];
  for (let k = 0; k < 30; k++) {
    const i = set.pick(0);
    set.started(i);
    counts[i]!++;
  }
  assert.deepEqual(counts, [10, 10, 10]);
});

test('prefers replicas not yet tried in this call, then allows repeats', () => {
  const set = new ReplicaSet(['http://a', 'http://b'], true, policy);
  set.started(1);
  set.started(1);
  // b is busier but a was already tried.
  assert.equal(set.pick(0, [0]), 1);
  // Both tried: back to the least loaded.
  assert.equal(set.pick(0, [0, 1]), 0);
});

test('a single replica is retried', () => {
  const set = new ReplicaSet(['http://only'], true, policy);
  assert.equal(set.pick(0, [0]), 0);
});

test('no replicas gives -1', () => {
  assert.equal(new ReplicaSet([], true, policy).pick(0), -1);
});

test('skips ejected replicas while a ready one exists', () => {
  const set = new ReplicaSet(urls, true, policy);
  set.recordFailure(0, 1000);
  set.recordFailure(1, 1000);
  for (let k = 0; k < 4; k++) assert.equal(set.pick(1000), 2);
  assert.equal(set.readyCount(1000), 1);
});

test('with nothing ready, picks the least recently failed replica', () => {
  const set = new ReplicaSet(urls, true, policy);
  set.recordFailure(0, 300);
  set.recordFailure(1, 100);
  set.recordFailure(2, 200);
  assert.equal(set.readyCount(400), 0);
  assert.equal(set.pick(400), 1);
  // Untried beats least recently failed.
  assert.equal(set.pick(400, [1]), 2);
});

test('replicas never checked (checks on, none reported yet) still get traffic, spread evenly', () => {
  const set = new ReplicaSet(['http://a', 'http://b'], false, policy);
  assert.equal(set.readyCount(0), 0);
  assert.deepEqual([set.pick(0), set.pick(0), set.pick(0)], [0, 1, 0]);
});

test('cooldown doubles with consecutive failures, capped, and expires', () => {
  const set = new ReplicaSet(['http://a'], true, policy);
  const r = set.replicas[0]!;
  let now = 0;
  const expected = [1, 2, 4, 8, 8];
  for (const seconds of expected) {
    assert.equal(set.recordFailure(0, now), true);
    assert.equal(r.ejectedUntil - now, seconds * 1000);
    assert.equal(set.isReady(0, now + seconds * 1000 - 1), false);
    now += seconds * 1000;
    assert.equal(set.isReady(0, now), true, 'ready again once the cooldown expired');
  }
  set.recordSuccess(0);
  set.recordFailure(0, now);
  assert.equal(r.ejectedUntil - now, 1000, 'a success starts the doubling over');
});

test('failures while already ejected do not escalate the cooldown', () => {
  const set = new ReplicaSet(['http://a'], true, policy);
  assert.equal(set.recordFailure(0, 0), true);
  assert.equal(set.recordFailure(0, 10), false);
  assert.equal(set.recordFailure(0, 20), false);
  assert.equal(set.replicas[0]!.ejectedUntil, 1000);
  assert.equal(set.replicas[0]!.lastFailureAt, 20);
});

test('a passing health check ends an ejection; a failing one makes the replica unready', () => {
  const set = new ReplicaSet(['http://a'], true, { baseSeconds: 60, maxSeconds: 60 });
  set.recordFailure(0, 0);
  assert.equal(set.isReady(0, 5), false);
  assert.equal(set.recordHealth(0, true, 5), true);
  assert.equal(set.isReady(0, 5), true);
  assert.equal(set.recordHealth(0, true, 6), false, 'no change');
  assert.equal(set.recordHealth(0, false, 7), true);
  assert.equal(set.isReady(0, 1e9), false, 'an unhealthy replica stays out until a check passes');
  assert.equal(set.replicas[0]!.lastFailureAt, 7);
});

test('in-flight counts never go negative', () => {
  const set = new ReplicaSet(['http://a'], true, policy);
  set.ended(0);
  assert.equal(set.replicas[0]!.inFlight, 0);
});
