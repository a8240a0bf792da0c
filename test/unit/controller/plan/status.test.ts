import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Condition, ModelCascadeStatus } from '../../../../controller/api/types.js';
import { statusChanged, summarizeStatus } from '../../../../controller/plan/index.js';
import type { ObservedTier } from '../../../../controller/plan/types.js';
import { cascade, pod, settledDeployment } from './fixtures.js';

const T0 = Date.parse('2024-05-01T10:00:00.250Z');
const T1 = T0 + 60_000;

function cond(s: ModelCascadeStatus, type: Condition['type']): Condition {
  const c = s.conditions?.find((x) => x.type === type);
  assert.ok(c, `no ${type} condition`);
  return c;
}

/** All three tiers settled: mistral 2/2 ready, llama-13b 1/1 ready, llama-70b scaled to zero. */
function healthy(): ObservedTier[] {
  return [
    { name: 'mistral-7b', deployment: settledDeployment(2), pods: [pod({ name: 'm-1', ip: '10.0.0.1', ready: true }), pod({ name: 'm-2', ip: '10.0.0.2', ready: true })] },
    { name: 'llama-2-13b', deployment: settledDeployment(1), pods: [pod({ name: 'l-1', ip: '10.0.0.3', ready: true, node: 'gpu-2' })] },
    { name: 'llama-2-70b', deployment: settledDeployment(0), pods: [] },
  ];
}

test('a settled cascade: Ready, not Progressing, not Degraded; per-tier numbers and printer-column summaries', () => {
  const s = summarizeStatus(cascade(), healthy(), [], { 'mistral-7b': 12.345, 'llama-2-13b': 100.04 }, T0, { 'mistral-7b': 'in-flight 20 / target 16 -> 2' });
  assert.equal(s.observedGeneration, 3);
  assert.deepEqual(s.tiers, [
    { name: 'mistral-7b', replicas: 2, readyReplicas: 2, desiredReplicas: 2, endpoints: ['http://10.0.0.1:8000', 'http://10.0.0.2:8000'], gpuSeconds: 12.3, scalingReason: 'in-flight 20 / target 16 -> 2' },
    { name: 'llama-2-13b', replicas: 1, readyReplicas: 1, desiredReplicas: 1, endpoints: ['http://10.0.0.3:8000'], gpuSeconds: 100 },
    { name: 'llama-2-70b', replicas: 0, readyReplicas: 0, desiredReplicas: 0, endpoints: [], gpuSeconds: 0 },
  ]);
  assert.equal(s.tierCount, 3);
  assert.equal(s.readyTiers, '3/3');
  assert.equal(s.gpusInUse, 3);
  assert.equal(s.gpuSeconds, 112);
  assert.deepEqual([cond(s, 'Ready').status, cond(s, 'Ready').reason], ['True', 'AllTiersReady']);
  assert.deepEqual([cond(s, 'Progressing').status, cond(s, 'Progressing').reason], ['False', 'Stable']);
  assert.deepEqual([cond(s, 'Degraded').status, cond(s, 'Degraded').reason], ['False', 'AsExpected']);
  assert.equal(cond(s, 'Ready').lastTransitionTime, '2024-05-01T10:00:00Z');
  assert.equal(cond(s, 'Ready').observedGeneration, 3);
});

test('pods Pending on "Insufficient nvidia.com/gpu": Ready False and Degraded True with the scheduler\'s message', () => {
  const msg = '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.';
  const obs = healthy();
  obs[1] = { name: 'llama-2-13b', deployment: settledDeployment(1), pods: [pod({ name: 'l-1', unschedulable: msg })] };
  const s = summarizeStatus(cascade(), obs, [], {}, T0);
  const ready = cond(s, 'Ready');
  assert.equal(ready.status, 'False');
  assert.equal(ready.reason, 'PodsUnschedulable');
  assert.ok(ready.message.includes(msg), ready.message);
  const degraded = cond(s, 'Degraded');
  assert.equal(degraded.status, 'True');
  assert.equal(degraded.reason, 'PodsUnschedulable');
  assert.equal(degraded.message, `tier llama-2-13b: pods unschedulable: ${msg}`);
  assert.equal(s.readyTiers, '2/3');
  assert.equal(s.gpusInUse, 2, 'an unscheduled pod holds no GPU');
  assert.equal(cond(s, 'Progressing').reason, 'WaitingForReady');
});

test('rollouts and scaling show as Progressing with the tier and its counts', () => {
  const obs = healthy();
  obs[0]!.deployment = settledDeployment(3); // asked for 3, has 2
  let s = summarizeStatus(cascade(), obs, [], {}, T0);
  assert.deepEqual([cond(s, 'Progressing').status, cond(s, 'Progressing').reason], ['True', 'ScalingUp']);
  assert.match(cond(s, 'Progressing').message, /mistral-7b: scaling up \(2\/3 ready, 2 pods\)/);
  assert.equal(cond(s, 'Ready').status, 'True', 'still serving while scaling');

  const rolling = healthy();
  rolling[1]!.deployment = { ...settledDeployment(1, 2), status: { observedGeneration: 1, replicas: 1, updatedReplicas: 0 } };
  s = summarizeStatus(cascade(), rolling, [], {}, T0);
  assert.equal(cond(s, 'Progressing').reason, 'RollingOut');

  const fresh = healthy().map((o) => ({ ...o, deployment: undefined, pods: [] }));
  s = summarizeStatus(cascade(), fresh, [], {}, T0);
  assert.equal(cond(s, 'Progressing').reason, 'Creating');
  assert.equal(cond(s, 'Ready').reason, 'TiersNotReady');
  assert.match(cond(s, 'Ready').message, /mistral-7b \(0\/1 ready\), llama-2-13b \(0\/1 ready\)$/);
});

test('crash-looping containers and stalled rollouts are Degraded', () => {
  const obs = healthy();
  obs[0]!.pods = [pod({ name: 'm-1', ip: '10.0.0.1', waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' } })];
  let s = summarizeStatus(cascade(), obs, [], {}, T0);
  assert.equal(cond(s, 'Degraded').reason, 'ContainersFailing');
  assert.match(cond(s, 'Degraded').message, /tier mistral-7b: CrashLoopBackOff: back-off/);
  assert.equal(cond(s, 'Ready').reason, 'ContainersFailing');

  const stalled = healthy();
  stalled[1]!.deployment!.status!.conditions = [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "x" has timed out progressing.' }];
  s = summarizeStatus(cascade(), stalled, [], {}, T0);
  assert.equal(cond(s, 'Degraded').reason, 'ProgressDeadlineExceeded');
});

test('an invalid spec: every condition says InvalidSpec and names the fields', () => {
  const s = summarizeStatus(cascade(), [], [{ path: 'spec.tiers[0].replicas', message: 'min (3) is greater than max (2)' }], {}, T0);
  assert.deepEqual(s.conditions!.map((c) => [c.type, c.status, c.reason]), [
    ['Ready', 'False', 'InvalidSpec'],
    ['Progressing', 'False', 'InvalidSpec'],
    ['Degraded', 'True', 'InvalidSpec'],
  ]);
  assert.equal(cond(s, 'Ready').message, 'spec.tiers[0].replicas: min (3) is greater than max (2)');
});

test('lastTransitionTime moves only when a condition\'s status changes; steady state is "unchanged"', () => {
  const first = summarizeStatus(cascade(), healthy(), [], { 'mistral-7b': 5 }, T0);
  const mc = cascade((m) => (m.status = first));
  const again = summarizeStatus(mc, [...healthy()].reverse(), [], { 'mistral-7b': 5.01 }, T1);
  assert.equal(statusChanged(first, again), false, 'same world a minute later: no write');
  assert.equal(cond(again, 'Ready').lastTransitionTime, '2024-05-01T10:00:00Z');

  const obs = healthy();
  obs[1]!.pods = [];
  const broken = summarizeStatus(mc, obs, [], {}, T1);
  assert.equal(statusChanged(first, broken), true);
  assert.equal(cond(broken, 'Ready').lastTransitionTime, '2024-05-01T10:01:00Z');
  assert.equal(cond(broken, 'Degraded').lastTransitionTime, '2024-05-01T10:00:00Z', 'Degraded stayed False');
});

test('statusChanged ignores key order, list order and undefined fields, and sees real differences', () => {
  const a = summarizeStatus(cascade(), healthy(), [], {}, T0);
  const b: ModelCascadeStatus = JSON.parse(JSON.stringify({ ...a, tiers: [...a.tiers!].reverse(), conditions: [...a.conditions!].reverse(), extra: undefined }));
  assert.equal(statusChanged(a, b), false);
  assert.equal(statusChanged(undefined, a), true);
  assert.equal(statusChanged(a, { ...a, gpusInUse: 4 }), true);
  assert.equal(statusChanged(a, { ...a, tiers: a.tiers!.map((t, i) => (i === 0 ? { ...t, endpoints: ['http://10.0.0.1:8000'] } : t)) }), true);
});
