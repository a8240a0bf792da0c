import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ThresholdPolicy } from '../../../router/policy/threshold.js';
import type { CascadeView, TierObservation } from '../../../router/policy/types.js';

const cascade: CascadeView = { name: 'c', tiers: ['s', 'm', 'l'].map((name, index) => ({ index, name, gpusPerReplica: 1 })) };
const obs = (tier: number, confidence: number | null): TierObservation => ({ tier, answer: 'x', confidence, verifierSamples: confidence === null ? 0 : 8 });
const decide = (observations: TierObservation[], t = 0.5) => new ThresholdPolicy(t).decide({ cascade, query: 'q', observations });

test('starts at the smallest tier and verifies it', () => {
  assert.deepEqual(decide([]), { action: 'ask', tier: 0, verify: true, reason: 'start at the smallest tier' });
});

test('returns at or above the threshold, escalates below it', () => {
  const keep = decide([obs(0, 0.5)]);
  assert.equal(keep.action, 'return');
  assert.equal(keep.action === 'return' && keep.confidence, 0.5);
  const up = decide([obs(0, 0.375)]);
  assert.deepEqual(up.action === 'ask' && [up.tier, up.verify], [1, true]);
});

test('an unverifiable answer escalates; the last tier is asked without verification and returned', () => {
  const up = decide([obs(0, 0.9), obs(1, null)]);
  assert.deepEqual(up.action === 'ask' && [up.tier, up.verify], [2, false]);
  const done = decide([obs(0, 0.1), obs(1, 0.2), obs(2, null)]);
  assert.deepEqual(done.action === 'return' && [done.observation, done.reason], [2, 'largest tier answered']);
});

test('a one-tier cascade asks without verifying', () => {
  const one: CascadeView = { name: 'one', tiers: [{ index: 0, name: 's', gpusPerReplica: 1 }] };
  assert.deepEqual(new ThresholdPolicy(0.5).decide({ cascade: one, query: 'q', observations: [] }).action === 'ask' && true, true);
  const d = new ThresholdPolicy(0.5).decide({ cascade: one, query: 'q', observations: [] });
  assert.equal(d.action === 'ask' && d.verify, false);
});

test('thresholds outside [0,1] are refused', () => {
  assert.throws(() => new ThresholdPolicy(1.5), RangeError);
});
