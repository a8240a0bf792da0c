// diff.ts decides whether the controller writes: it must see real changes and ignore what the API server adds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstDifference, parseQuantity } from '../../../../controller/runtime/kubernetes/diff.js';

describe('firstDifference', () => {
  const desired = {
    metadata: { name: 'x', labels: { a: '1' } },
    spec: {
      replicas: 2,
      template: {
        spec: {
          containers: [
            { name: 'vllm', args: ['--port', '8000'], resources: { limits: { 'nvidia.com/gpu': '1', memory: '1024Mi', cpu: '0.5' } }, ports: [{ containerPort: 8000, name: 'http' }] },
          ],
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          securityContext: { runAsNonRoot: false },
          volumes: [],
        },
      },
    },
  };
  const live = {
    metadata: { name: 'x', labels: { a: '1', extra: 'y' }, resourceVersion: '5', annotations: { 'deployment.kubernetes.io/revision': '1' } },
    spec: {
      replicas: 2,
      progressDeadlineSeconds: 600,
      template: {
        spec: {
          containers: [
            {
              name: 'vllm',
              args: ['--port', '8000'],
              imagePullPolicy: 'IfNotPresent',
              resources: { limits: { 'nvidia.com/gpu': '1', memory: '1Gi', cpu: '500m' } },
              ports: [{ containerPort: 8000, name: 'http', protocol: 'TCP' }],
            },
            { name: 'sidecar-someone-added' },
          ],
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          securityContext: {},
          dnsPolicy: 'ClusterFirst',
        },
      },
    },
    status: { readyReplicas: 2 },
  };

  it('ignores server defaults, extra labels, canonical quantities, omitted empty values and others\' keyed items', () => {
    assert.equal(firstDifference(desired, live), undefined);
  });

  it('names the first field that really differs', () => {
    const l2 = structuredClone(live);
    l2.spec.replicas = 3;
    assert.equal(firstDifference(desired, l2), '.spec.replicas');
    const l3 = structuredClone(live);
    l3.spec.template.spec.containers[0]!.args = ['--port', '9000'];
    assert.equal(firstDifference(desired, l3), '.spec.template.spec.containers[name=vllm].args[1]');
    const l4 = structuredClone(live);
    l4.spec.template.spec.containers[0]!.resources!.limits['nvidia.com/gpu'] = '2';
    assert.match(firstDifference(desired, l4) ?? '', /nvidia\.com\/gpu/);
    const l5 = structuredClone(live);
    l5.spec.template.spec.tolerations = [];
    assert.equal(firstDifference(desired, l5), '.spec.template.spec.tolerations');
    const l6 = structuredClone(live);
    delete (l6.metadata.labels as Record<string, string>).a;
    assert.equal(firstDifference(desired, l6), '.metadata.labels.a');
  });

  it('sees a missing keyed item and a changed order of our own items', () => {
    const d = { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] };
    assert.equal(firstDifference(d, { env: [{ name: 'A', value: '1' }] }), '.env[name=B]');
    assert.equal(firstDifference(d, { env: [{ name: 'B', value: '2' }, { name: 'X' }, { name: 'A', value: '1' }] }), '.env');
    assert.equal(firstDifference(d, { env: [{ name: 'A', value: '1' }, { name: 'X' }, { name: 'B', value: '2' }] }), undefined);
  });

  it('treats a ConfigMap data change as a change', () => {
    assert.equal(firstDifference({ data: { 'router.yaml': 'a: 1\n' } }, { data: { 'router.yaml': 'a: 2\n' } }), '.data.router.yaml');
  });
});

describe('parseQuantity', () => {
  it('reads decimal and binary suffixes and exponents', () => {
    assert.equal(parseQuantity('500m'), 0.5);
    assert.equal(parseQuantity('1Gi'), 2 ** 30);
    assert.equal(parseQuantity('1024Mi'), 2 ** 30);
    assert.equal(parseQuantity('2e3'), 2000);
    assert.equal(parseQuantity('16G'), 16e9);
    assert.equal(parseQuantity('vllm'), undefined);
  });
});
