// The tiermix controller on the full control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler
// v1.20.2) with our fake kubelet's 3 GPU nodes x 4 H100: a ModelCascade becomes Deployments, Services, scheduled pods
// and the router's ConfigMap; status, events, spec changes, unschedulable tiers, invalid specs, steady state, a
// controller restart and deletion (garbage collection). The controller runs in this process with the real planner.
// Needs the binaries from `make k8s-binaries`; without them these tests fail and say so.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ApiException, AppsV1Api, CoreV1Api, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { crd } from '../../../controller/api/crd.js';
import { LABELS, type ModelCascade, type ModelCascadeSpec } from '../../../controller/api/types.js';
import type { KubernetesController } from '../../../controller/runtime/kubernetes/controller.js';
import { installCrd } from '../../../controller/runtime/kubernetes/install-crd.js';
import { startControlPlane, type ControlPlane } from '../../k8s/control-plane.js';
import { CONTROLLER_RULES } from '../../../controller/runtime/rbac.js';
import {
  cascade,
  cascadeClient,
  condition,
  serviceAccountKubeConfig,
  startTestController,
  testControllerConfig,
} from '../../k8s/controller-fixture.js';
import { startFakeKubelet, type FakeKubelet } from '../../k8s/fake-kubelet.js';
import { waitFor } from '../../k8s/wait.js';

const NS = 'ladder-test';
const H100 = 'NVIDIA-H100-80GB-HBM3';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const isReady = (p: V1Pod): boolean =>
  p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

const tier = (name: string, gpus: number, extra: Record<string, unknown> = {}) => ({
  name,
  model: `org/${name}`,
  gpusPerReplica: gpus,
  gpuProfile: 'nvidia-h100-80gb',
  resources: { cpu: '1', memory: '2Gi' },
  replicas: { min: 1, max: 2 },
  ...extra,
});

const LADDER: ModelCascadeSpec = {
  tiers: [tier('small', 1, { vllm: { maxModelLen: 4096 } }), tier('medium', 2), tier('large', 4)],
  routing: { verifier: { samples: 8, temperature: 1 }, objective: { lambda: 0.3 } },
} as ModelCascadeSpec;

/** Watches a path from now on and records when each object was seen how; `stop` ends it. */
async function watchPath(kc: KubeConfig, path: string, onEvent: (type: string, obj: Record<string, any>) => void) {
  const req = await new Watch(kc).watch(path, {}, (type, obj) => onEvent(type, obj as Record<string, any>), () => undefined);
  return () => req.abort();
}

describe('tiermix controller on the full control plane (3 fake nodes x 4 GPUs)', () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let kubelet: FakeKubelet;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let controller: KubernetesController;
  let controllerKc: KubeConfig;
  let cascades: ReturnType<typeof cascadeClient>;
  const config = testControllerConfig(NS);

  before(async () => {
    // The CRD goes in before kube-controller-manager starts, so its garbage collector watches ModelCascades from the
    // beginning (it rediscovers resource types only every 30 s).
    cp = await startControlPlane({ full: true, beforeControllers: (k) => installCrd(k, crd) });
    kc = cp.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    cascades = cascadeClient(kc);
    kubelet = await startFakeKubelet(kc, {
      nodes: ['gpu-a', 'gpu-b', 'gpu-c'].map((name) => ({ name, gpus: 4, gpuProduct: H100, cpu: '32', memory: '256Gi' })),
      heartbeatMs: 2000,
    });
    await core.createNamespace({ body: { metadata: { name: NS } } });
    // The controller runs as a ServiceAccount with exactly the RBAC rules the chart grants (controller/runtime/rbac.ts).
    controllerKc = await serviceAccountKubeConfig(kc, NS, 'tiermix-controller', CONTROLLER_RULES);
    controller = await startTestController(controllerKc, config);
    await waitFor('controller caches synced', () => controller.synced(), { timeoutMs: 20_000 });
  });

  after(async () => {
    await controller?.stop();
    await kubelet?.stop();
    await cp?.stop();
  });

  const deployments = async (selector?: string) =>
    (await apps.listNamespacedDeployment({ namespace: NS, labelSelector: selector ?? `${LABELS.managedBy}=tiermix` })).items;
  const services = async (selector?: string) =>
    (await core.listNamespacedService({ namespace: NS, labelSelector: selector ?? `${LABELS.managedBy}=tiermix` })).items;
  const pods = async (c: string) => (await core.listNamespacedPod({ namespace: NS, labelSelector: `${LABELS.cascade}=${c}` })).items;
  const routerConfig = async () => {
    const cm = await core.readNamespacedConfigMap({ name: 'tiermix-router', namespace: NS });
    return parse(cm.data?.['router.yaml'] ?? '') as { cascades: { name: string; tiers: { name: string; endpoints: string[]; gpusPerReplica: number }[] }[] };
  };
  const events = async (name: string) =>
    (await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${name}` })).items;

  it('applies a 3-tier cascade: Ready within 2 s of its pods becoming Ready', async (t) => {
    // Watch pods and the cascade from before the create, so both times come from the same clock and path.
    const podReadyAt = new Map<string, number>();
    let cascadeReadyAt = 0;
    let podsReadyWhenCascadeReady = 0;
    const stopPods = await watchPath(kc, `/api/v1/namespaces/${NS}/pods`, (type, pod) => {
      const name = pod.metadata.name as string;
      if (type === 'DELETED') podReadyAt.delete(name);
      else if (isReady(pod as V1Pod) && !podReadyAt.has(name)) podReadyAt.set(name, performance.now());
    });
    const stopMc = await watchPath(kc, `/apis/tiermix.dev/v1alpha1/namespaces/${NS}/modelcascades`, (_type, mc) => {
      if (!cascadeReadyAt && condition(mc as ModelCascade, 'Ready')?.status === 'True') {
        cascadeReadyAt = performance.now();
        podsReadyWhenCascadeReady = podReadyAt.size;
      }
    });
    try {
      await cascades.create(cascade('ladder', NS, LADDER));
      await waitFor('cascade Ready=True', () => cascadeReadyAt > 0, { timeoutMs: 60_000 });
    } finally {
      stopPods();
      stopMc();
    }
    assert.equal(podsReadyWhenCascadeReady, 3, 'Ready only once every tier has a ready pod');
    const lastPodReady = Math.max(...podReadyAt.values());
    const latencyMs = cascadeReadyAt - lastPodReady;
    t.diagnostic(`cascade Ready ${latencyMs.toFixed(0)} ms after its last pod became Ready`);
    assert.ok(latencyMs >= 0 && latencyMs <= 2000, `Ready ${latencyMs} ms after the pods (acceptance: <= 2000 ms)`);
  });

  it('runs as a ServiceAccount that can do no more than the RBAC contract', async () => {
    const asController = controllerKc.makeApiClient(CoreV1Api);
    await assert.rejects(asController.listNamespacedSecret({ namespace: NS }), (err: unknown) => err instanceof ApiException && err.code === 403);
    await assert.rejects(asController.deleteNamespacedConfigMap({ name: 'tiermix-router', namespace: NS }), (err: unknown) => err instanceof ApiException && err.code === 403);
  });

  it('owns a Deployment and a Service per tier with the right GPUs, placement and vLLM args', async () => {
    const mc = await cascades.get(NS, 'ladder');
    const deps = await deployments(`${LABELS.cascade}=ladder`);
    assert.deepEqual(deps.map((d) => d.metadata?.name).sort(), ['ladder-large', 'ladder-medium', 'ladder-small']);
    for (const [name, gpus] of [['small', 1], ['medium', 2], ['large', 4]] as const) {
      const d = deps.find((x) => x.metadata?.name === `ladder-${name}`)!;
      assert.equal(d.spec?.replicas, 1);
      assert.deepEqual(
        d.metadata?.ownerReferences?.map((o) => [o.kind, o.name, o.uid, o.controller]),
        [['ModelCascade', 'ladder', mc.metadata.uid, true]],
      );
      const pod = d.spec!.template.spec!;
      const c = pod.containers.find((x) => x.name === 'vllm') ?? pod.containers[0]!;
      assert.equal(c.resources?.limits?.['nvidia.com/gpu'], String(gpus));
      const args = [...(c.command ?? []), ...(c.args ?? [])];
      assert.equal(args[args.indexOf('--tensor-parallel-size') + 1], String(gpus));
      assert.equal(args[args.indexOf('--served-model-name') + 1], `org/${name}`);
      assert.equal(pod.nodeSelector?.['nvidia.com/gpu.product'], H100);
      assert.ok(pod.tolerations?.some((x) => x.key === 'nvidia.com/gpu' && x.operator === 'Exists' && x.effect === 'NoSchedule'));
      if (name === 'small') assert.equal(args[args.indexOf('--max-model-len') + 1], '4096');
    }
    const svcs = await services(`${LABELS.cascade}=ladder`);
    assert.deepEqual(svcs.map((s) => s.metadata?.name).sort(), ['ladder-large', 'ladder-medium', 'ladder-small']);
    for (const s of svcs) {
      assert.equal(s.spec?.selector?.[LABELS.tier], s.metadata?.labels?.[LABELS.tier]);
      assert.ok(s.spec?.ports?.some((p) => p.port === 8000 || p.targetPort === 8000 || p.targetPort === 'http'));
    }
  });

  it('runs the tier pods on the fake GPU nodes and reports them in status and the router ConfigMap', async () => {
    const ps = await pods('ladder');
    assert.equal(ps.length, 3);
    assert.ok(ps.every(isReady));
    assert.ok(ps.every((p) => ['gpu-a', 'gpu-b', 'gpu-c'].includes(p.spec?.nodeName ?? '')));
    const mc = await waitFor('status with 3 ready tiers and their endpoints', async () => {
      const m = await cascades.get(NS, 'ladder');
      return m.status?.readyTiers === '3/3' && m.status.tiers?.every((x) => x.endpoints.length === 1) ? m : undefined;
    });
    assert.equal(mc.status?.tierCount, 3);
    assert.equal(mc.status?.gpusInUse, 7);
    assert.equal(mc.status?.observedGeneration, mc.metadata.generation);
    assert.equal(condition(mc, 'Ready')?.reason, 'AllTiersReady');
    assert.equal(condition(mc, 'Degraded')?.status, 'False');
    const ips = new Map(ps.map((p) => [p.metadata?.labels?.[LABELS.tier], `http://${p.status?.podIP}:8000`]));
    for (const t of mc.status?.tiers ?? []) assert.deepEqual(t.endpoints, [ips.get(t.name)]);
    const rc = await waitFor('router ConfigMap lists the ready endpoints', async () => {
      const r = await routerConfig();
      return r.cascades?.[0]?.tiers.every((x) => x.endpoints.length === 1) ? r : undefined;
    });
    assert.deepEqual(rc.cascades.map((c) => c.name), ['ladder']);
    assert.deepEqual(
      rc.cascades[0]!.tiers.map((x) => [x.name, x.gpusPerReplica, x.endpoints[0]]),
      [['ladder/small', 1, ips.get('small')], ['ladder/medium', 2, ips.get('medium')], ['ladder/large', 4, ips.get('large')]],
    );
    const reasons = (await events('ladder')).map((e) => e.reason);
    assert.ok(reasons.includes('Created'), `events: ${reasons.join(', ')}`);
    assert.ok(reasons.includes('AllTiersReady'), `events: ${reasons.join(', ')}`);
  });

  it('`kubectl get modelcascades` shows the printer columns', async (t) => {
    const run = promisify(execFile);
    let table: string;
    try {
      table = (await run('kubectl', ['--kubeconfig', cp.kubeconfigPath, 'get', 'modelcascades', '-n', NS], { timeout: 30_000 })).stdout;
    } catch (err) {
      // kubectl is optional here; the API server's Table output is what kubectl prints.
      t.diagnostic(`kubectl unavailable (${(err as Error).message.split('\n')[0]}); using the Table API`);
      const server = kc.getCurrentCluster()!.server;
      const opts: Record<string, any> = { headers: {} };
      await kc.applyToHTTPSOptions(opts);
      const res = await fetchTable(`${server}/apis/tiermix.dev/v1alpha1/namespaces/${NS}/modelcascades`, opts);
      table = [res.columnDefinitions.map((c: { name: string }) => c.name.toUpperCase()).join(' '), ...res.rows.map((r: { cells: unknown[] }) => r.cells.join(' '))].join('\n');
    }
    for (const line of table.trim().split('\n')) t.diagnostic(line);
    const [header, row] = table.trim().split('\n');
    assert.match(header ?? '', /^NAME\s+TIERS\s+READY\s+GPUS\s+GPU-SECONDS\s+AGE/);
    assert.match(row ?? '', /^ladder\s+3\s+3\/3\s+7\s+\d/);
  });

  it('makes zero API writes in steady state (5 s)', async (t) => {
    await controller.idle();
    await sleep(500);
    const before = controller.metrics.writes();
    await sleep(5000);
    await controller.idle();
    const after = controller.metrics.writes();
    t.diagnostic(`writes so far: ${JSON.stringify(after)}`);
    assert.deepEqual(after, before);
  });

  it('re-creates an owned Deployment and Service that someone deleted', async () => {
    const old = (await deployments(`${LABELS.cascade}=ladder,${LABELS.tier}=medium`))[0]!;
    await apps.deleteNamespacedDeployment({ name: 'ladder-medium', namespace: NS });
    await core.deleteNamespacedService({ name: 'ladder-small', namespace: NS });
    const again = await waitFor('ladder-medium re-created with a new uid', async () => {
      const d = (await deployments(`${LABELS.cascade}=ladder,${LABELS.tier}=medium`))[0];
      return d && d.metadata?.uid !== old.metadata?.uid ? d : undefined;
    });
    assert.equal(again.spec?.replicas, 1);
    await waitFor('ladder-small Service re-created', async () => (await services(`${LABELS.cascade}=ladder,${LABELS.tier}=small`)).length === 1);
    await waitFor('cascade Ready again', async () => condition(await cascades.get(NS, 'ladder'), 'Ready')?.status === 'True', { timeoutMs: 30_000 });
  });

  it('rolls out a spec change: new vLLM args, new pod, Progressing then Ready', async (t) => {
    const before = (await pods('ladder')).find((p) => p.metadata?.labels?.[LABELS.tier] === 'small')!;
    const t0 = Date.now();
    const spec = structuredClone(LADDER);
    spec.tiers[0]!.vllm = { maxModelLen: 8192 };
    await cascades.patch(NS, 'ladder', { spec: { tiers: spec.tiers } });
    const d = await waitFor('ladder-small template with --max-model-len 8192', async () => {
      const x = (await deployments(`${LABELS.cascade}=ladder,${LABELS.tier}=small`))[0];
      const c = x?.spec?.template.spec?.containers[0];
      const args = [...(c?.command ?? []), ...(c?.args ?? [])];
      return args[args.indexOf('--max-model-len') + 1] === '8192' ? x : undefined;
    });
    assert.ok((d.metadata?.generation ?? 0) >= 2);
    const after = await waitFor('a new small pod Ready and the old one gone', async () => {
      const ps = (await pods('ladder')).filter((p) => p.metadata?.labels?.[LABELS.tier] === 'small');
      return ps.length === 1 && ps[0]!.metadata?.uid !== before.metadata?.uid && isReady(ps[0]!) ? ps[0] : undefined;
    }, { timeoutMs: 60_000 });
    const mc = await waitFor('Ready and not Progressing, at the new generation', async () => {
      const m = await cascades.get(NS, 'ladder');
      return condition(m, 'Ready')?.status === 'True' && condition(m, 'Progressing')?.status === 'False' &&
        m.status?.observedGeneration === m.metadata.generation ? m : undefined;
    }, { timeoutMs: 30_000 });
    assert.deepEqual(mc.status?.tiers?.find((x) => x.name === 'small')?.endpoints, [`http://${after!.status?.podIP}:8000`]);
    t.diagnostic(`spec change rolled out and Ready in ${Date.now() - t0} ms`);
    const reasons = (await events('ladder')).map((e) => `${e.reason}: ${e.message}`);
    assert.ok(reasons.some((r) => r.startsWith('Updated: Updated Deployment ladder-small')), reasons.join('\n'));
  });

  it('removes the Deployment and Service of a tier that left the spec, and the router ConfigMap follows', async () => {
    const spec = structuredClone(LADDER);
    spec.tiers = spec.tiers.filter((x) => x.name !== 'medium');
    spec.tiers[0]!.vllm = { maxModelLen: 8192 };
    await cascades.patch(NS, 'ladder', { spec: { tiers: spec.tiers } });
    await waitFor('ladder-medium Deployment and Service gone', async () =>
      (await deployments(`${LABELS.cascade}=ladder,${LABELS.tier}=medium`)).length === 0 &&
      (await services(`${LABELS.cascade}=ladder,${LABELS.tier}=medium`)).length === 0,
    );
    await waitFor('router ConfigMap without ladder/medium', async () => {
      const r = await routerConfig();
      return JSON.stringify(r.cascades[0]?.tiers.map((x) => x.name)) === JSON.stringify(['ladder/small', 'ladder/large']);
    });
    const mc = await waitFor('status with 2 tiers', async () => {
      const m = await cascades.get(NS, 'ladder');
      return m.status?.tierCount === 2 && m.status.readyTiers === '2/2' ? m : undefined;
    });
    assert.equal(mc.status?.gpusInUse, 5);
  });

  it('a tier that fits no node stays Pending on "Insufficient nvidia.com/gpu", and the status says so', async () => {
    await cascades.create(cascade('too-big', NS, { tiers: [tier('huge', 8, { replicas: { min: 1, max: 1 } })] } as ModelCascadeSpec));
    const mc = await waitFor('too-big Degraded with PodsUnschedulable', async () => {
      const m = await cascades.get(NS, 'too-big');
      return condition(m, 'Degraded')?.reason === 'PodsUnschedulable' ? m : undefined;
    }, { timeoutMs: 30_000 });
    const ps = await pods('too-big');
    assert.equal(ps.length, 1);
    assert.equal(ps[0]!.status?.phase, 'Pending');
    assert.equal(ps[0]!.spec?.nodeName, undefined);
    const ready = condition(mc, 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'PodsUnschedulable');
    assert.match(ready?.message ?? '', /huge.*Insufficient nvidia\.com\/gpu/);
    assert.equal(condition(mc, 'Degraded')?.status, 'True');
    assert.match(condition(mc, 'Degraded')?.message ?? '', /0\/3 nodes are available: 3 Insufficient nvidia\.com\/gpu/);
    assert.equal(mc.status?.gpusInUse, 0);
    const ev = await waitFor('a Warning Event PodsUnschedulable', async () =>
      (await events('too-big')).find((e) => e.type === 'Warning' && e.reason === 'PodsUnschedulable'),
    );
    assert.match(ev.message ?? '', /Insufficient nvidia\.com\/gpu/);
  });

  it('the schema refuses an invalid spec with 422 naming the field', async () => {
    const bad = cascade('bad-schema', NS, { tiers: [tier('x', 0)] } as ModelCascadeSpec);
    await assert.rejects(cascades.create(bad), (err: unknown) => {
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 422);
      assert.match(String(err.body), /spec\.tiers(\[0\])?\.gpusPerReplica/);
      return true;
    });
    const badName = cascade('bad-name', NS, { tiers: [tier('Not_A_Label', 1)] } as ModelCascadeSpec);
    await assert.rejects(cascades.create(badName), (err: unknown) => {
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 422);
      assert.match(String(err.body), /spec\.tiers(\[0\])?\.name/);
      return true;
    });
  });

  it('the schema fills defaults: gpusPerReplica 1 and replicas {min: 1, max: 1}', async () => {
    const created = await cascades.create(
      cascade('defaults', NS, { tiers: [{ name: 'only', model: 'org/only', resources: { cpu: '1', memory: '1Gi' } }] } as unknown as ModelCascadeSpec),
    );
    assert.equal(created.spec.tiers[0]!.gpusPerReplica, 1);
    assert.deepEqual(created.spec.tiers[0]!.replicas, { min: 1, max: 1 });
    await waitFor('defaults Ready', async () => condition(await cascades.get(NS, 'defaults'), 'Ready')?.status === 'True', { timeoutMs: 30_000 });
    await cascades.delete(NS, 'defaults');
    await waitFor('defaults-only collected', async () => (await deployments(`${LABELS.cascade}=defaults`)).length === 0, { timeoutMs: 20_000 });
  });

  it('a spec the schema cannot judge (unknown gpuProfile) gets an InvalidSpec condition and a Warning, and nothing is applied', async () => {
    await cascades.create(cascade('unknown-profile', NS, { tiers: [tier('a', 1, { gpuProfile: 'tpu-v5' })] } as ModelCascadeSpec));
    const mc = await waitFor('InvalidSpec condition', async () => {
      const m = await cascades.get(NS, 'unknown-profile');
      return condition(m, 'Ready')?.reason === 'InvalidSpec' ? m : undefined;
    });
    assert.match(condition(mc, 'Ready')?.message ?? '', /spec\.tiers\[0\]\.gpuProfile.*tpu-v5/);
    assert.equal(condition(mc, 'Degraded')?.status, 'True');
    const ev = await waitFor('a Warning Event InvalidSpec', async () =>
      (await events('unknown-profile')).find((e) => e.type === 'Warning' && e.reason === 'InvalidSpec'),
    );
    assert.match(ev.message ?? '', /tpu-v5/);
    assert.equal((await deployments(`${LABELS.cascade}=unknown-profile`)).length, 0);
    const rc = await routerConfig();
    assert.ok(!rc.cascades.some((c) => c.name === 'unknown-profile'), 'an invalid cascade is left out of the router configuration');
  });

  it('a restarted controller writes nothing and leaves no duplicates or orphans', async (t) => {
    await controller.idle();
    const snapshot = async () => ({
      deployments: (await deployments()).map((d) => `${d.metadata?.name}@${d.metadata?.uid}`).sort(),
      services: (await services()).map((s) => `${s.metadata?.name}@${s.metadata?.uid}`).sort(),
      pods: (await core.listNamespacedPod({ namespace: NS })).items.map((p) => p.metadata?.name).sort(),
    });
    await sleep(1000);
    const before = await snapshot();
    const t0 = Date.now();
    await controller.stop();
    controller = await startTestController(controllerKc, config);
    await waitFor('restarted controller synced', () => controller.synced());
    await sleep(300);
    await controller.idle();
    t.diagnostic(`restart to idle in ${Date.now() - t0} ms`);
    await sleep(2000);
    await controller.idle();
    assert.deepEqual(controller.metrics.writes(), {}, 'a restart with nothing changed writes nothing');
    assert.deepEqual(await snapshot(), before);
    assert.deepEqual(before.deployments.map((x) => x.split('@')[0]), ['ladder-large', 'ladder-small', 'too-big-huge']);
  });

  it('deleting a cascade garbage-collects its objects and drops it from the router ConfigMap', async (t) => {
    const t0 = Date.now();
    await cascades.delete(NS, 'ladder');
    await waitFor('ladder Deployments, Services and pods collected', async () =>
      (await deployments(`${LABELS.cascade}=ladder`)).length === 0 &&
      (await services(`${LABELS.cascade}=ladder`)).length === 0 &&
      (await pods('ladder')).length === 0,
    { timeoutMs: 60_000 });
    t.diagnostic(`garbage-collected in ${Date.now() - t0} ms`);
    await waitFor('router ConfigMap without ladder', async () => !(await routerConfig()).cascades.some((c) => c.name === 'ladder'));
    await cascades.delete(NS, 'too-big');
    await cascades.delete(NS, 'unknown-profile');
    await waitFor('every owned object collected', async () => (await deployments()).length === 0 && (await services()).length === 0, { timeoutMs: 60_000 });
    await waitFor('router ConfigMap with no cascade', async () => (await routerConfig()).cascades.length === 0);
  });
});

/** GET with the Table media type (kubectl's server-side printing) over node's https. */
async function fetchTable(url: string, opts: Record<string, any>): Promise<any> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { ...opts, headers: { ...opts.headers, accept: 'application/json;as=Table;v=v1beta1;g=meta.k8s.io' } },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(JSON.parse(body)));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

