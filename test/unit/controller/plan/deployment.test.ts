import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Deployment } from '@kubernetes/client-node';
import { LABELS, VLLM_PORT } from '../../../../controller/api/types.js';
import { planCascade } from '../../../../controller/plan/index.js';
import { HF_CACHE_PATH } from '../../../../controller/plan/deployment.js';
import { cascade, config } from './fixtures.js';

function deployment(name: string, d: V1Deployment[]): V1Deployment {
  const found = d.find((x) => x.metadata?.name === name);
  assert.ok(found, `no Deployment ${name} in ${d.map((x) => x.metadata?.name).join(', ')}`);
  return found;
}

test('one Deployment and one Service per tier, named <cascade>-<tier>, in the cascade namespace', () => {
  const plan = planCascade(cascade(), config);
  assert.deepEqual(plan.deployments.map((d) => d.metadata?.name), ['ladder-mistral-7b', 'ladder-llama-2-13b', 'ladder-llama-2-70b']);
  assert.deepEqual(plan.services.map((s) => s.metadata?.name), ['ladder-mistral-7b', 'ladder-llama-2-13b', 'ladder-llama-2-70b']);
  for (const o of [...plan.deployments, ...plan.services]) assert.equal(o.metadata?.namespace, 'default');
});

test('the vLLM container: `vllm serve <model>` with the controller flags first, then the user args', () => {
  const mc = cascade((m) => {
    m.spec.tiers[0]!.vllm!.args = ['--enable-prefix-caching', '--max-num-seqs', '128'];
  });
  const c = deployment('ladder-mistral-7b', planCascade(mc, config).deployments).spec!.template.spec!.containers[0]!;
  assert.deepEqual(c.command, ['vllm', 'serve']);
  assert.deepEqual(c.args, [
    'mistralai/Mistral-7B-v0.1',
    '--served-model-name', 'Mistral-7B-v0.1',
    '--tensor-parallel-size', '1',
    '--port', '8000',
    '--host', '0.0.0.0',
    '--max-model-len', '8192',
    '--dtype', 'bfloat16',
    '--gpu-memory-utilization', '0.9',
    '--enable-prefix-caching', '--max-num-seqs', '128',
  ]);
  assert.deepEqual(c.ports, [{ name: 'http', containerPort: VLLM_PORT, protocol: 'TCP' }]);
  assert.equal(c.image, config.vllmImage);
});

test('gpusPerReplica is both the GPU request (= limit) and the tensor-parallel size; optional vLLM flags stay unset', () => {
  const d = deployment('ladder-llama-2-70b', planCascade(cascade(), config).deployments);
  const c = d.spec!.template.spec!.containers[0]!;
  assert.equal(c.args![c.args!.indexOf('--tensor-parallel-size') + 1], '4');
  assert.ok(!c.args!.includes('--max-model-len') && !c.args!.includes('--dtype'));
  assert.deepEqual(c.resources, {
    requests: { cpu: '16', memory: '160Gi', 'nvidia.com/gpu': '4' },
    limits: { memory: '160Gi', 'nvidia.com/gpu': '4' },
  });
});

test('placement comes from the GPU profile: nodeSelector, tolerations, affinity, runtimeClassName, resource name', () => {
  const custom = structuredClone(config);
  custom.gpuProfiles['amd-mi300x'] = {
    resourceName: 'amd.com/gpu',
    nodeSelector: { 'amd.com/gpu.product': 'MI300X' },
    tolerations: [{ key: 'amd.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }] } },
    runtimeClassName: 'rocm',
  };
  const mc = cascade((m) => {
    m.spec.tiers[0]!.gpuProfile = 'amd-mi300x';
  });
  const plan = planCascade(mc, custom);
  const spec = deployment('ladder-mistral-7b', plan.deployments).spec!.template.spec!;
  assert.deepEqual(spec.nodeSelector, { 'amd.com/gpu.product': 'MI300X' });
  assert.deepEqual(spec.tolerations, [{ effect: 'NoSchedule', key: 'amd.com/gpu', operator: 'Exists' }]);
  assert.equal(spec.runtimeClassName, 'rocm');
  assert.deepEqual(spec.affinity, custom.gpuProfiles['amd-mi300x']!.affinity);
  assert.deepEqual(spec.containers[0]!.resources!.limits!['amd.com/gpu'], '1');
  // The built-in A100 profile on the 13B tier.
  const a100 = deployment('ladder-llama-2-13b', plan.deployments).spec!.template.spec!;
  assert.deepEqual(a100.nodeSelector, { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' });
  assert.deepEqual(a100.tolerations, [{ effect: 'NoSchedule', key: 'nvidia.com/gpu', operator: 'Exists' }]);
});

test('volumes: memory-backed /dev/shm, the model cache at HF_HOME (emptyDir or PVC), pvc:// models mounted read-only', () => {
  const mc = cascade((m) => {
    m.spec.tiers[0]!.model = 'pvc://weights/mistral/7b';
    m.spec.tiers[0]!.cache = { emptyDir: { sizeLimit: '40Gi' } };
  });
  const plan = planCascade(mc, config);
  const small = deployment('ladder-mistral-7b', plan.deployments).spec!.template.spec!;
  assert.deepEqual(small.volumes, [
    { name: 'dshm', emptyDir: { medium: 'Memory' } },
    { name: 'model-cache', emptyDir: { sizeLimit: '40Gi' } },
    { name: 'model', persistentVolumeClaim: { claimName: 'weights', readOnly: true } },
  ]);
  assert.deepEqual(small.containers[0]!.volumeMounts, [
    { name: 'dshm', mountPath: '/dev/shm' },
    { name: 'model-cache', mountPath: HF_CACHE_PATH },
    { name: 'model', mountPath: '/mnt/models', readOnly: true },
  ]);
  assert.equal(small.containers[0]!.args![0], '/mnt/models/mistral/7b');
  const large = deployment('ladder-llama-2-70b', plan.deployments).spec!.template.spec!;
  assert.deepEqual(large.volumes![1], { name: 'model-cache', persistentVolumeClaim: { claimName: 'hf-cache-70b' } });
});

test('env: HF_HOME, HF_TOKEN from the secret, then user env (a user value replaces ours, duplicates collapse)', () => {
  const mc = cascade((m) => {
    m.spec.tiers[1]!.env = [{ name: 'A', value: '1' }, { name: 'HF_HOME', value: '/cache' }, { name: 'A', value: '2' }];
    m.spec.tiers[1]!.envFrom = [{ secretRef: { name: 'extra' } }];
  });
  const c = deployment('ladder-llama-2-13b', planCascade(mc, config).deployments).spec!.template.spec!.containers[0]!;
  assert.deepEqual(c.env, [
    { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { key: 'token', name: 'hf-token' } } },
    { name: 'HF_HOME', value: '/cache' },
    { name: 'A', value: '2' },
  ]);
  assert.deepEqual(c.envFrom, [{ secretRef: { name: 'extra' } }]);
  const plain = deployment('ladder-mistral-7b', planCascade(cascade(), config).deployments).spec!.template.spec!.containers[0]!;
  assert.deepEqual(plain.env, [{ name: 'HF_HOME', value: HF_CACHE_PATH }]);
});

test('probes: startup allows 30 minutes of model loading, readiness and liveness on /health', () => {
  const c = planCascade(cascade(), config).deployments[0]!.spec!.template.spec!.containers[0]!;
  const s = c.startupProbe!;
  assert.equal(s.httpGet!.path, '/health');
  assert.ok(s.periodSeconds! * s.failureThreshold! >= 1800, 'startup window >= 30 min');
  assert.equal(c.readinessProbe!.httpGet!.path, '/health');
  assert.equal(c.livenessProbe!.httpGet!.path, '/health');
});

test('labels, selector and a controlling owner reference to the ModelCascade', () => {
  const mc = cascade();
  const d = planCascade(mc, config).deployments[0]!;
  assert.equal(d.metadata!.labels![LABELS.managedBy], 'tiermix');
  assert.equal(d.metadata!.labels![LABELS.component], 'vllm');
  assert.deepEqual(d.spec!.selector.matchLabels, { [LABELS.cascade]: 'ladder', [LABELS.tier]: 'mistral-7b' });
  assert.deepEqual(d.spec!.template.metadata!.labels, d.metadata!.labels);
  assert.deepEqual(d.metadata!.ownerReferences, [
    { apiVersion: 'tiermix.dev/v1alpha1', blockOwnerDeletion: true, controller: true, kind: 'ModelCascade', name: 'ladder', uid: mc.metadata.uid },
  ]);
  // Without a uid (the local runtime) there is no owner to refer to.
  const local = cascade((m) => delete m.metadata.uid);
  assert.equal(planCascade(local, config).deployments[0]!.metadata!.ownerReferences, undefined);
});

test('security: no capabilities, no privilege escalation, RuntimeDefault seccomp, no API token, no service links', () => {
  const spec = planCascade(cascade(), config).deployments[0]!.spec!.template.spec!;
  assert.deepEqual(spec.containers[0]!.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false });
  assert.deepEqual(spec.securityContext, { seccompProfile: { type: 'RuntimeDefault' } });
  assert.equal(spec.automountServiceAccountToken, false);
  assert.equal(spec.enableServiceLinks, false);
});

test('replicas: spec.replicas.min by default, the autoscaler\'s number clamped to [min, max]', () => {
  const mc = cascade();
  const reps = (desired?: Record<string, number>) => planCascade(mc, config, desired).deployments.map((d) => d.spec!.replicas);
  assert.deepEqual(reps(), [1, 1, 0]);
  assert.deepEqual(reps({ 'mistral-7b': 3, 'llama-2-13b': 9, 'llama-2-70b': 1 }), [3, 2, 1]);
  assert.deepEqual(reps({ 'mistral-7b': 0, 'llama-2-70b': -2 }), [1, 1, 0]);
  // Defaults missing entirely (an object the API server never defaulted): min 1, max 1.
  const bare = cascade((m) => {
    m.spec.tiers = [{ name: 'only', model: 'org/model' } as never];
  });
  assert.deepEqual(planCascade(bare, config, { only: 5 }).deployments.map((d) => d.spec!.replicas), [1]);
});

test('deterministic: the same inputs give byte-identical objects with sorted keys', () => {
  const a = JSON.stringify(planCascade(cascade(), config));
  const b = JSON.stringify(planCascade(cascade(), structuredClone(config)));
  assert.equal(a, b);
  const d = planCascade(cascade(), config).deployments[0]!;
  assert.deepEqual(Object.keys(d), ['apiVersion', 'kind', 'metadata', 'spec']);
  assert.deepEqual(Object.keys(d.spec!), [...Object.keys(d.spec!)].sort());
});

test('the Service is headless, selects the tier pods and exposes the named http port', () => {
  const s = planCascade(cascade(), config).services[0]!;
  assert.equal(s.spec!.clusterIP, 'None');
  assert.deepEqual(s.spec!.selector, { [LABELS.cascade]: 'ladder', [LABELS.tier]: 'mistral-7b' });
  assert.deepEqual(s.spec!.ports, [{ name: 'http', port: 8000, protocol: 'TCP', targetPort: 'http' }]);
  assert.equal(s.metadata!.ownerReferences![0]!.controller, true);
});
