// The full control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler v1.20.2) with our fake
// kubelet's 2 GPU nodes x 4 GPUs: the real deployment controller, ReplicaSets, scheduler and GPU accounting decide
// where pods go; the fake kubelet only marks bound pods Running and Ready.
// Needs the binaries from `make k8s-binaries`; without them these tests fail and say so.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../k8s/control-plane.js';
import { startFakeKubelet, IpAllocator, type FakeKubelet } from '../../k8s/fake-kubelet.js';
import { waitFor } from '../../k8s/wait.js';

const NS = 'gpu-test';
const GPU_PRODUCT = 'NVIDIA-H100-80GB-HBM3';

const isReady = (p: V1Pod): boolean =>
  p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

function summary(pods: V1Pod[]): string {
  return pods
    .map((p) => `${p.metadata?.name}@${p.spec?.nodeName ?? '-'}:${p.status?.phase}${p.metadata?.deletionTimestamp ? '(deleting)' : ''}`)
    .join(' ');
}

describe('IpAllocator', () => {
  it('hands out the lowest free 127.0.0.x address and reuses released ones', () => {
    const a = new IpAllocator('127.0.0.2', '127.0.0.4');
    assert.deepEqual([a.allocate(), a.allocate(), a.allocate()], ['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    assert.throws(() => a.allocate(), /exhausted/);
    a.release('127.0.0.3');
    assert.equal(a.allocate(), '127.0.0.3');
    assert.equal(a.reserve('127.0.0.9'), false);
    const b = new IpAllocator('127.0.0.250', '127.0.1.1');
    assert.deepEqual([b.allocate(), b.allocate(), b.allocate()].slice(-1), ['127.0.0.252']);
    assert.equal(b.reserve('127.0.1.0'), true);
    assert.equal(b.allocate(), '127.0.0.253');
  });
});

describe('full control plane + fake kubelet with 2 GPU nodes x 4 GPUs', () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let kubelet: FakeKubelet;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const errors: unknown[] = [];

  before(async () => {
    cp = await startControlPlane({ full: true });
    kc = cp.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    kubelet = await startFakeKubelet(kc, {
      nodes: ['gpu-a', 'gpu-b'].map((name) => ({ name, gpus: 4, gpuProduct: GPU_PRODUCT, cpu: '32', memory: '256Gi' })),
      heartbeatMs: 1000,
      onError: (err) => errors.push(err),
    });
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });

  after(async () => {
    await kubelet?.stop();
    await cp?.stop();
  });

  const pods = async (): Promise<V1Pod[]> => (await core.listNamespacedPod({ namespace: NS })).items;

  /** Waits, and on timeout says what the pods looked like and what the scheduler logged. */
  async function waitPods(what: string, ok: (pods: V1Pod[]) => boolean, timeoutMs = 45_000): Promise<V1Pod[]> {
    let last: V1Pod[] = [];
    try {
      return await waitFor(
        what,
        async () => {
          last = await pods();
          return ok(last) ? last : undefined;
        },
        { timeoutMs, intervalMs: 250, describe: () => summary(last) },
      );
    } catch (err) {
      throw new Error(
        `${(err as Error).message}\nkube-scheduler log:\n${cp.logsTail('kube-scheduler', 15)}\n` +
          `kube-controller-manager log:\n${cp.logsTail('kube-controller-manager', 15)}\nfake kubelet errors: ${errors.map(String).join('; ')}`,
      );
    }
  }

  it('registers Ready GPU nodes with nvidia.com/gpu capacity, labels and renewed Leases', async () => {
    const nodes = (await core.listNode()).items;
    assert.deepEqual(nodes.map((n) => n.metadata?.name).sort(), ['gpu-a', 'gpu-b']);
    for (const n of nodes) {
      assert.equal(n.metadata?.labels?.['nvidia.com/gpu.product'], GPU_PRODUCT);
      assert.equal(n.metadata?.labels?.['kubernetes.io/hostname'], n.metadata?.name);
      assert.equal(n.status?.capacity?.['nvidia.com/gpu'], '4');
      assert.equal(n.status?.allocatable?.['nvidia.com/gpu'], '4');
      assert.equal(n.status?.allocatable?.cpu, '32');
      assert.ok(n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      // The node lifecycle controller did not taint it unreachable or not-ready.
      assert.deepEqual((n.spec?.taints ?? []).map((t) => t.key), []);
    }
    const leases = kc.makeApiClient(CoordinationV1Api);
    const lease = await leases.readNamespacedLease({ name: 'gpu-a', namespace: 'kube-node-lease' });
    assert.equal(lease.spec?.holderIdentity, 'gpu-a');
    const firstRenew = new Date(lease.spec?.renewTime ?? 0).getTime();
    const renewed = await waitFor('a Lease renewal', async () => {
      const l = await leases.readNamespacedLease({ name: 'gpu-a', namespace: 'kube-node-lease' });
      const t = new Date(l.spec?.renewTime ?? 0).getTime();
      return t > firstRenew ? t : undefined;
    }, { timeoutMs: 10_000 });
    assert.ok(renewed > firstRenew);
  });

  it('runs 8 of 10 one-GPU replicas; the other 2 stay Pending with "Insufficient nvidia.com/gpu"', async (t) => {
    const t0 = Date.now();
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'vllm-small', labels: { app: 'vllm-small' } },
        spec: {
          replicas: 10,
          selector: { matchLabels: { app: 'vllm-small' } },
          template: {
            metadata: { labels: { app: 'vllm-small' } },
            spec: {
              containers: [
                {
                  name: 'vllm',
                  image: 'vllm/vllm-openai:v0.6.0',
                  resources: { limits: { 'nvidia.com/gpu': '1' }, requests: { cpu: '1', memory: '1Gi' } },
                },
              ],
            },
          },
        },
      },
    });

    const all = await waitPods('8 Running/Ready and 2 Unschedulable pods', (ps) => {
      const pending = ps.filter((p) => p.status?.phase === 'Pending');
      return (
        ps.length === 10 &&
        ps.filter(isReady).length === 8 &&
        pending.length === 2 &&
        pending.every((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable'))
      );
    });
    const settledMs = Date.now() - t0;

    const running = all.filter(isReady);
    const perNode = new Map<string, number>();
    for (const p of running) perNode.set(p.spec?.nodeName ?? '', (perNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(perNode), { 'gpu-a': 4, 'gpu-b': 4 });

    // Each running pod has its own loopback address, and the fake kubelet knows it.
    const ips = running.map((p) => p.status?.podIP ?? '');
    assert.equal(new Set(ips).size, 8);
    for (const ip of ips) assert.match(ip, /^127\.0\.0\.\d+$/);
    const known = kubelet.podIps();
    for (const p of running) assert.equal(known.get(`${NS}/${p.metadata?.name}`), p.status?.podIP);
    for (const p of running) {
      assert.equal(p.status?.hostIP, '127.0.0.1');
      assert.equal(p.status?.containerStatuses?.[0]?.ready, true);
      assert.ok(p.status?.containerStatuses?.[0]?.state?.running);
    }

    for (const p of all.filter((x) => x.status?.phase === 'Pending')) {
      assert.equal(p.spec?.nodeName, undefined, 'not bound');
      const cond = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
      assert.equal(cond?.status, 'False');
      assert.equal(cond?.reason, 'Unschedulable');
      assert.match(cond?.message ?? '', /0\/2 nodes are available: 2 Insufficient nvidia\.com\/gpu/);
    }

    const dep = await waitFor('Deployment status 8/10 ready', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'vllm-small', namespace: NS });
      return d.status?.readyReplicas === 8 && d.status.availableReplicas === 8 ? d : undefined;
    });
    assert.equal(dep.status?.replicas, 10);
    assert.equal(dep.status?.unavailableReplicas, 2);
    t.diagnostic(`10-replica deployment settled (8 ready, 2 unschedulable) in ${settledMs} ms`);
  });

  it('scaling to 4 leaves 4 Running/Ready pods and frees GPUs and addresses', async (t) => {
    const t0 = Date.now();
    await apps.patchNamespacedDeploymentScale(
      { name: 'vllm-small', namespace: NS, body: { spec: { replicas: 4 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const left = await waitPods('exactly 4 Running/Ready pods, none terminating or pending', (ps) => {
      return ps.length === 4 && ps.every(isReady) && ps.every((p) => !p.metadata?.deletionTimestamp);
    });
    const settledMs = Date.now() - t0;
    assert.equal(new Set(left.map((p) => p.status?.podIP)).size, 4);
    const dep = await waitFor('Deployment status 4/4 ready', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'vllm-small', namespace: NS });
      return d.status?.readyReplicas === 4 && d.status.replicas === 4 && !d.status.unavailableReplicas ? d : undefined;
    });
    assert.equal(dep.spec?.replicas, 4);
    // Pods finalized by the fake kubelet gave their addresses back.
    await waitFor('pod IPs released', () => kubelet.podIps().size === 4, { timeoutMs: 10_000 });
    t.diagnostic(`scaled 10 -> 4 in ${settledMs} ms`);
  });

  it('schedules onto the freed GPUs: scaling back to 8 runs all 8', async () => {
    await apps.patchNamespacedDeploymentScale(
      { name: 'vllm-small', namespace: NS, body: { spec: { replicas: 8 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const ps = await waitPods('8 Running/Ready pods', (list) => list.length === 8 && list.every(isReady));
    assert.equal(new Set(ps.map((p) => p.status?.podIP)).size, 8);
    const nodes = new Set(ps.map((p) => p.spec?.nodeName));
    assert.deepEqual([...nodes].sort(), ['gpu-a', 'gpu-b']);
  });

  it('the fake kubelet met no API errors (no 409s from racing the controller-manager)', () => {
    assert.deepEqual(errors.map(String), []);
  });
});
