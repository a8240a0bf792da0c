// Two tiermix controllers with leader election on a coordination.k8s.io/v1 Lease of the real kube-apiserver: only the
// leader reconciles (the other makes no write at all), a clean stop hands over at once, a crashed leader is replaced
// after the lease duration. Also the runtime's hooks: desired replicas from a ScalingSource and GPU-seconds from a
// MeterSource reach the Deployments, the status and the Events.
// etcd + kube-apiserver only (no scheduler needed: Deployments are enough).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { crd } from '../../../controller/api/crd.js';
import { LABELS, type ModelCascadeSpec } from '../../../controller/api/types.js';
import type { CascadeKey, MeterSource, ScalingDecision, ScalingSource } from '../../../controller/runtime/hooks.js';
import type { KubernetesController } from '../../../controller/runtime/kubernetes/controller.js';
import { installCrd } from '../../../controller/runtime/kubernetes/install-crd.js';
import { startControlPlane, type ControlPlane } from '../../k8s/control-plane.js';
import { cascade, cascadeClient, startTestController, testControllerConfig } from '../../k8s/controller-fixture.js';
import { waitFor } from '../../k8s/wait.js';

const NS = 'leader-test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const spec = (min: number): ModelCascadeSpec =>
  ({ tiers: [{ name: 'small', model: 'org/small', gpusPerReplica: 1, gpuProfile: 'nvidia-h100-80gb', replicas: { min, max: 4 } }] }) as ModelCascadeSpec;

// One control plane for the file (a start costs 5-10 s); each describe uses its own namespace.
let cp: ControlPlane;
let kc: KubeConfig;
before(async () => {
  cp = await startControlPlane({ beforeControllers: (k) => installCrd(k, crd) });
  kc = cp.kubeConfig();
});
after(async () => {
  await cp?.stop();
});

describe('leader election between two controllers (etcd + kube-apiserver)', () => {
  let apps: AppsV1Api;
  let leases: CoordinationV1Api;
  let cascades: ReturnType<typeof cascadeClient>;
  const running: KubernetesController[] = [];
  // Short timings so a crash takeover fits a test: lease 4 s, renew deadline 3 s, retry 1 s.
  const config = testControllerConfig(NS, {
    leaderElection: { enabled: true, leaseNamespace: NS, leaseName: 'tiermix-controller', leaseDurationSeconds: 4, renewDeadlineSeconds: 3, retryPeriodSeconds: 1 },
  });
  const start = async (identity: string, extra = {}) => {
    const c = await startTestController(kc, config, { identity, ...extra });
    running.push(c);
    return c;
  };
  const replicas = async (name: string) =>
    (await apps.readNamespacedDeployment({ name, namespace: NS })).spec?.replicas;
  const holder = async () => (await leases.readNamespacedLease({ name: 'tiermix-controller', namespace: NS })).spec?.holderIdentity;

  before(async () => {
    apps = kc.makeApiClient(AppsV1Api);
    leases = kc.makeApiClient(CoordinationV1Api);
    cascades = cascadeClient(kc);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
  });

  after(async () => {
    for (const c of running) await c.stop();
  });

  let a: KubernetesController;
  let b: KubernetesController;

  it('only the leader reconciles; the other makes no write at all', async () => {
    a = await start('controller-a');
    await waitFor('a leads', () => a.isLeader(), { timeoutMs: 10_000 });
    b = await start('controller-b');
    await waitFor('b synced', () => b.synced());
    await cascades.create(cascade('one', NS, spec(1)));
    await waitFor('Deployment one-small', async () => (await replicas('one-small')) === 1);
    await sleep(2500); // b retries the Lease every second meanwhile
    assert.equal(a.isLeader(), true);
    assert.equal(b.isLeader(), false);
    assert.equal(await holder(), 'controller-a');
    assert.ok((a.metrics.writes()['apply deployments'] ?? 0) >= 1);
    assert.ok((a.metrics.writes()['update leases'] ?? 0) >= 2, 'the leader renews its Lease');
    assert.deepEqual(b.metrics.writes(), {}, 'the follower only reads');
  });

  it('a clean stop releases the Lease and the other takes over at once', async (t) => {
    const t0 = Date.now();
    await a.stop();
    assert.equal(await holder(), '', 'released');
    await waitFor('b leads', () => b.isLeader(), { timeoutMs: 5_000, intervalMs: 50 });
    const tookMs = Date.now() - t0;
    t.diagnostic(`takeover after a clean stop: ${tookMs} ms (retry period 1 s)`);
    assert.ok(tookMs <= 2500, `${tookMs} ms`);
    await cascades.patch(NS, 'one', { spec: spec(2) });
    await waitFor('b applied the change', async () => (await replicas('one-small')) === 2);
    // The write is counted when its response arrives, a moment after the change is visible.
    await waitFor('b counted its apply', () => (b.metrics.writes()['apply deployments'] ?? 0) >= 1, { timeoutMs: 5_000, intervalMs: 20 });
    const lease = await leases.readNamespacedLease({ name: 'tiermix-controller', namespace: NS });
    assert.equal(lease.spec?.holderIdentity, 'controller-b');
    assert.equal(lease.spec?.leaseTransitions, 1);
  });

  it('a crashed leader (Lease not released) is replaced after the lease duration', async (t) => {
    const c = await start('controller-c');
    await waitFor('c synced', () => c.synced());
    await sleep(1500);
    assert.equal(c.isLeader(), false);
    const t0 = Date.now();
    await b.stop({ releaseLease: false });
    await waitFor('c leads', () => c.isLeader(), { timeoutMs: 10_000, intervalMs: 50 });
    const tookMs = Date.now() - t0;
    t.diagnostic(`takeover after a crash: ${tookMs} ms (lease duration 4 s)`);
    assert.ok(tookMs >= 2500 && tookMs <= 6500, `${tookMs} ms`);
    await cascades.patch(NS, 'one', { spec: spec(3) });
    await waitFor('c applied the change', async () => (await replicas('one-small')) === 3);
    await c.stop();
  });
});

/** A ScalingSource as the autoscaler would be: decisions per cascade, listeners told on change. */
class StaticScaling implements ScalingSource {
  private readonly decisions = new Map<CascadeKey, Record<string, ScalingDecision>>();
  private readonly listeners = new Set<(c: CascadeKey) => void>();
  set(key: CascadeKey, d: Record<string, ScalingDecision>): void {
    this.decisions.set(key, d);
    for (const l of this.listeners) l(key);
  }
  desired(key: CascadeKey) {
    return this.decisions.get(key);
  }
  onChange(listener: (c: CascadeKey) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** A MeterSource that records what the runtime tells it and reports fixed GPU-seconds. */
class RecordingMeter implements MeterSource {
  readonly observed: { cascade: string; tier: string; gpus: number; pods: number }[] = [];
  forgotten: string[] = [];
  observePods(cascade: CascadeKey, tier: string, gpusPerReplica: number, pods: readonly V1Pod[]): void {
    this.observed.push({ cascade, tier, gpus: gpusPerReplica, pods: pods.length });
  }
  gpuSeconds(): Record<string, number> {
    return { small: 123.4 };
  }
  forget(cascade: CascadeKey): void {
    this.forgotten.push(cascade);
  }
}

describe('runtime hooks: ScalingSource and MeterSource (etcd + kube-apiserver)', () => {
  let controller: KubernetesController;
  const scaling = new StaticScaling();
  const meter = new RecordingMeter();
  const config = testControllerConfig('hooks-test');

  before(async () => {
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'hooks-test' } } });
    controller = await startTestController(kc, config, { scaling, meter });
  });
  after(async () => {
    await controller?.stop();
  });

  it('scales a tier to the autoscaler\'s desired replicas, with the reason in status and a Scaled Event', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const cascades = cascadeClient(kc);
    await cascades.create(cascade('hooked', 'hooks-test', spec(1)));
    await waitFor('one replica (spec min, no decision yet)', async () =>
      (await apps.readNamespacedDeployment({ name: 'hooked-small', namespace: 'hooks-test' })).spec?.replicas === 1);
    scaling.set('hooks-test/hooked', { small: { desired: 3, reason: 'in-flight 20 / target 8 per replica' } });
    await waitFor('three replicas', async () =>
      (await apps.readNamespacedDeployment({ name: 'hooked-small', namespace: 'hooks-test' })).spec?.replicas === 3);
    const mc = await waitFor('status with the reason and the metered GPU-seconds', async () => {
      const m = await cascades.get('hooks-test', 'hooked');
      const t = m.status?.tiers?.[0];
      return t?.scalingReason && t.desiredReplicas === 3 && t.gpuSeconds > 0 ? m : undefined;
    });
    assert.equal(mc.status?.tiers?.[0]?.scalingReason, 'in-flight 20 / target 8 per replica');
    // What the autoscaler's tick reads: every cascade with its observed tiers, from the caches.
    const snap = controller.cascades().find((c) => c.key === 'hooks-test/hooked');
    assert.equal(snap?.observed[0]?.name, 'small');
    assert.equal(snap?.observed[0]?.deployment?.spec?.replicas, 3);
    assert.equal(mc.status?.tiers?.[0]?.gpuSeconds, 123.4);
    const events = (await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: 'hooks-test', fieldSelector: 'involvedObject.name=hooked' })).items;
    const scaled = events.find((e) => e.reason === 'Scaled');
    assert.equal(scaled?.message, 'Scaled tier small from 1 to 3 replicas: in-flight 20 / target 8 per replica');
  });

  it('tells the meter about pods as they change, and forgets a deleted cascade', async () => {
    // No kubelet here: make a tier pod by hand, labelled as the Deployment's pods are.
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: 'hooks-test',
      body: {
        metadata: { name: 'hooked-small-x', labels: { [LABELS.cascade]: 'hooked', [LABELS.tier]: 'small' } },
        spec: { containers: [{ name: 'vllm', image: 'vllm/vllm-openai:v0.10.0' }] },
      },
    });
    await waitFor('the meter saw the pod', () => meter.observed.some((o) => o.cascade === 'hooks-test/hooked' && o.tier === 'small' && o.pods === 1 && o.gpus === 1));
    await cascadeClient(kc).delete('hooks-test', 'hooked');
    await waitFor('the meter forgot the cascade', () => meter.forgotten.includes('hooks-test/hooked'));
  });
});
