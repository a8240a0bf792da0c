// The whole system on a local control plane (issue 6, "End to end"): a real kube-apiserver with kube-controller-manager
// and kube-scheduler; `helm install` of charts/tiermix; `tiermix controller` as a local process with the settings the
// release rendered; the example ModelCascade; a kubelet that runs each tier pod as a simulated vLLM process on its own
// pod IP (test/k8s/process-kubelet.ts); `tiermix router` as a local process on the controller's ConfigMap, projected
// to a file; client traffic through the router with the official openai SDK. It checks that tiers become Ready,
// answers say which tier served them, tiers scale up under load, GPU-seconds count, and that a crashed and a deleted
// tier pod under load fail no client request. Timings are printed at the end (docs/e2e.md has measured ones).
// The vLLM servers are simulated (tiermix sim, time-scaled); so are GPUs (fake nodes).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import OpenAI from 'openai';
import { LABELS, type ModelCascade } from '../../controller/api/types.js';
import { freePorts, startControlPlane, type ControlPlane } from '../k8s/control-plane.js';
import { cascadeClient, condition } from '../k8s/controller-fixture.js';
import { startProcessKubelet, type ProcessKubelet } from '../k8s/process-kubelet.js';
import { ProcessGuard } from '../k8s/process-guard.js';
import { isTierPod, simulatorForPod } from '../k8s/vllm-sim-pod.js';
import { waitFor } from '../k8s/wait.js';
import { NAMESPACE, NODES, ROUTER_CONFIGMAP, exampleLadder, helmInstall, releasedControllerConfig } from './cluster.js';
import { startLoad, type Load } from './load.js';
import { startTiermix, waitHttpOk, type LocalProcess } from './local-process.js';
import { Timings, routerEndpoints, scrape, total } from './observe.js';
import { projectConfigMapKey, type Projection } from './project-configmap.js';
import { dataDir, prompts } from './prompts.js';

const TIME_SCALE = 0.1; // simulated latencies x 0.1
const CONCURRENCY = 12; // clients sending one request after another
const CASCADE = 'ladder';
const TIERS = ['mistral-7b', 'llama-2-13b', 'llama-2-70b'] as const;
const routerTier = (tier: string) => `${CASCADE}/${tier}`;

describe('end to end: chart, controller, autoscaler, router and simulated tier pods on a local control plane', { timeout: 300_000 }, () => {
  const timings = new Timings();
  const guard = new ProcessGuard();
  const data = dataDir();
  let dir: string;
  let cp: ControlPlane;
  let kc: KubeConfig;
  let kubelet: ProcessKubelet;
  let controller: LocalProcess | undefined;
  let router: LocalProcess | undefined;
  let projection: Projection | undefined;
  let load: Load | undefined;
  let controllerUrl: string;
  let routerUrl: string;
  let applyMs: number;
  let loadStartMs: number;
  const errors: unknown[] = [];

  const apps = () => kc.makeApiClient(AppsV1Api);
  const core = () => kc.makeApiClient(CoreV1Api);
  const cascade = () => cascadeClient(kc).get(NAMESPACE, CASCADE);
  const tierPods = async (tier: string): Promise<V1Pod[]> =>
    (await core().listNamespacedPod({ namespace: NAMESPACE, labelSelector: `${LABELS.cascade}=${CASCADE},${LABELS.tier}=${tier}` })).items;
  const isReady = (p: V1Pod) => !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const endpointsOf = (tier: string) => routerEndpoints(projection?.current(), CASCADE).get(routerTier(tier)) ?? [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiermix-e2e-'));
    let t = Date.now();
    cp = await startControlPlane({ full: true });
    timings.add('control plane started (etcd, apiserver, controller-manager, scheduler)', Date.now() - t);
    kc = cp.kubeConfig();
    t = Date.now();
    kubelet = await startProcessKubelet(kc, {
      nodes: NODES,
      runs: isTierPod,
      processFor: (pod, ip) => simulatorForPod(pod, ip, { timeScale: TIME_SCALE, dataDir: data })!,
      logDir: join(dir, 'pods'),
      preStopMs: 2000,
      onError: (err) => errors.push(err),
    });
    timings.add('fake GPU nodes Ready (L4 x4, A100 x2, H100 x4)', Date.now() - t);
  });

  after(async () => {
    await load?.stop();
    await router?.stop();
    await controller?.stop();
    await projection?.stop();
    await kubelet?.stop();
    await cp?.stop();
    guard.close();
    if (process.env.TIERMIX_E2E_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`e2e logs kept in ${dir}\n`);
  });

  it('helm install creates the release; `tiermix controller` runs locally with the settings it rendered', async (t) => {
    const started = Date.now();
    const out = await helmInstall(kc, cp.kubeconfigPath);
    timings.add('helm install', Date.now() - started);
    assert.match(out, /STATUS: deployed/);

    const [routerPort, controllerPort] = (await freePorts(2)) as [number, number];
    routerUrl = `http://127.0.0.1:${routerPort}`;
    controllerUrl = `http://127.0.0.1:${controllerPort}`;
    const { yaml, config, rendered } = await releasedControllerConfig(kc, `${routerUrl}/metrics`);
    assert.deepEqual(rendered.router.metricsUrls, ['http://tiermix-router-metrics.tiermix.svc.cluster.local:8080/metrics'], 'the chart points the autoscaler at its headless Service');
    assert.equal(config.autoscalerIntervalSeconds, 1);
    assert.equal(config.router.configMapName, ROUTER_CONFIGMAP);
    const configFile = join(dir, 'controller.yaml');
    writeFileSync(configFile, yaml);

    const t0 = Date.now();
    controller = startTiermix(
      'tiermix controller',
      ['controller', '--kubeconfig', cp.kubeconfigPath, '--config', configFile, '--metrics-port', String(controllerPort), '--health-port', String(controllerPort),
        '--bind-address', '127.0.0.1', '--resync-seconds', '2', '--log-level', 'info'],
      join(dir, 'controller.log'),
      guard,
    );
    await waitHttpOk(controller, `${controllerUrl}/readyz`);
    timings.add('controller process ready (/readyz)', Date.now() - t0);

    // The router's configuration, as the router pod's ConfigMap volume would carry it.
    mkdirSync(join(dir, 'router'));
    projection = await projectConfigMapKey(kc, NAMESPACE, ROUTER_CONFIGMAP, 'router.yaml', join(dir, 'router', 'router.yaml'));
    t.diagnostic(`chart's controller Deployment scaled to 0 and router.replicas=0: both run as local processes`);
  });

  it('the example ModelCascade becomes Ready; every tier pod is a simulated vLLM process on its own pod IP', async () => {
    const mc = exampleLadder(NAMESPACE);
    applyMs = Date.now();
    await cascadeClient(kc).create(mc);
    const ready = await waitFor('ModelCascade ladder Ready', async () => {
      const got = await cascade();
      return condition(got, 'Ready')?.status === 'True' ? got : undefined;
    }, { timeoutMs: 60_000, abort: controller!.died, describe: () => JSON.stringify(kubelet.pods()) });
    timings.add('cascade applied -> Ready (3 tiers, each pod a simulator answering /health)', Date.now() - applyMs);
    assert.deepEqual(ready.status?.tiers?.map((x) => [x.name, x.readyReplicas]), TIERS.map((n) => [n, 1]));

    for (const spec of mc.spec.tiers) {
      const [pod, ...more] = await tierPods(spec.name);
      assert.ok(pod && more.length === 0, `one pod for ${spec.name}`);
      const ip = pod.status?.podIP ?? '';
      assert.match(ip, /^127\./);
      const run = kubelet.pods().find((r) => r.uid === pod.metadata?.uid);
      assert.ok(run?.pid, `a process runs pod ${pod.metadata?.name}`);
      assert.equal(run.ip, ip);
      // The pod IP answers as vLLM would, under the tier's served model name, and says it is simulated.
      const res = await fetch(`http://${ip}:8000/v1/models`);
      assert.equal(res.headers.get('x-tiermix-simulated'), 'true');
      const models = (await res.json()) as { data: { id: string }[] };
      assert.deepEqual(models.data.map((m) => m.id), [spec.model]);
      assert.deepEqual(ready.status?.tiers?.find((x) => x.name === spec.name)?.endpoints, [`http://${ip}:8000`]);
    }
  });

  it('`tiermix router` on the projected ConfigMap answers through the openai SDK, saying which tier served', async () => {
    await waitFor('router.yaml lists one endpoint per tier', () => TIERS.every((tier) => endpointsOf(tier).length === 1));
    const t0 = Date.now();
    router = startTiermix(
      'tiermix router',
      ['router', '--config', join(dir, 'router', 'router.yaml'), '--host', '127.0.0.1', '--port', routerUrl.split(':')[2]!, '--log-level', 'warn'],
      join(dir, 'router.log'),
      guard,
    );
    await waitHttpOk(router, `${routerUrl}/readyz`);
    timings.add('router process ready (/readyz)', Date.now() - t0);

    const client = new OpenAI({ baseURL: `${routerUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids.sort(), [CASCADE, ...TIERS.map(routerTier)].sort());
    const [prompt] = await prompts(1, data);
    const { data: answer, response } = await client.chat.completions
      .create({ model: CASCADE, messages: [{ role: 'user', content: prompt! }], max_tokens: 48 })
      .withResponse();
    timings.add('cascade applied -> first routed answer', Date.now() - applyMs);
    assert.ok((answer.choices[0]?.message.content ?? '').length > 0);
    assert.ok(TIERS.map(routerTier).includes(response.headers.get('x-tiermix-tier') ?? ''), `x-tiermix-tier ${response.headers.get('x-tiermix-tier')}`);
    assert.match(response.headers.get('x-tiermix-gpu-seconds') ?? '', /^\d+\.\d+$/);
  });

  it('under load, tiers scale up: replicas grow, new pods become processes, the router lists and uses them', async (t) => {
    // Mostly routed requests, plus some pinned to a tier (`model: ladder/<tier>`): the router escalates few of these
    // questions, so a quarter pinned to the 13B tier gives a second tier enough load to scale, and one in eight
    // pinned to the 70B tier makes every tier answer.
    const [routed, mid, top] = [CASCADE, routerTier('llama-2-13b'), routerTier('llama-2-70b')];
    load = startLoad({ baseURL: `${routerUrl}/v1`, models: [routed, routed, mid, routed, routed, mid, routed, top], prompts: await prompts(300, data), concurrency: CONCURRENCY });
    loadStartMs = Date.now();
    const deploymentOf = async (tier: string) => apps().readNamespacedDeployment({ name: `${CASCADE}-${tier}`, namespace: NAMESPACE });
    const scaled: Record<string, number> = {};
    await Promise.all(
      (['mistral-7b', 'llama-2-13b'] as const).map(async (tier) => {
        await waitFor(`Deployment ${CASCADE}-${tier} scaled above 1`, async () => ((await deploymentOf(tier)).spec?.replicas ?? 0) > 1, {
          timeoutMs: 30_000,
          abort: controller!.died,
        });
        timings.add(`load started -> autoscaler raised ${tier}'s replicas`, Date.now() - loadStartMs);
        // However far the autoscaler goes (up to the tier's max): every replica it asked for Ready and listed.
        const pods = await waitFor(`every ${tier} replica Ready and in router.yaml`, async () => {
          const want = (await deploymentOf(tier)).spec?.replicas ?? 0;
          const ready = (await tierPods(tier)).filter(isReady);
          const listed = endpointsOf(tier);
          return want > 1 && ready.length === want && ready.every((p) => listed.includes(`http://${p.status?.podIP}:8000`)) ? ready : undefined;
        }, { timeoutMs: 45_000, abort: controller!.died, describe: () => endpointsOf(tier).join(' ') });
        scaled[tier] = pods.length;
        timings.add(`load started -> ${tier}'s ${pods.length} pods Ready and in the router's configuration`, Date.now() - loadStartMs);
        // Every replica, the new ones included, serves traffic through the router.
        await waitFor(`every ${tier} pod has served requests`, async () => {
          for (const p of pods) if (total(await scrape(`http://${p.status?.podIP}:8000/metrics`), 'vllm:request_success_total') === 0) return false;
          return true;
        }, { timeoutMs: 20_000 });
        timings.add(`load started -> every ${tier} pod serving`, Date.now() - loadStartMs);
        const startups = kubelet.pods().filter((r) => pods.some((p) => p.metadata?.uid === r.uid)).map((r) => r.startupMs);
        t.diagnostic(`${tier}: process spawn -> /health answered (ms) per pod: ${startups.join(', ')}`);
      }),
    );
    const mc = await cascade();
    for (const tier of ['mistral-7b', 'llama-2-13b']) {
      const status = mc.status?.tiers?.find((x) => x.name === tier);
      assert.ok((status?.desiredReplicas ?? 0) > 1, `${tier} desired ${status?.desiredReplicas}`);
      assert.match(status?.scalingReason ?? '', /\/ target \d+ -> \d+/, 'the reason shows the arithmetic');
      t.diagnostic(`${tier}: ${scaled[tier]} replicas; ${status?.scalingReason}`);
    }
    const events = (await core().listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: `involvedObject.name=${CASCADE},reason=Scaled` })).items;
    for (const tier of ['mistral-7b', 'llama-2-13b']) {
      assert.ok(events.some((e) => e.message?.startsWith(`Scaled tier ${tier} from 1 to`)), `a Scaled event for ${tier}: ${events.map((e) => e.message).join(' | ')}`);
    }
    t.diagnostic(`llama-2-70b replicas: ${(await deploymentOf('llama-2-70b')).spec?.replicas} (max 1)`);
  });

  it('GPU-seconds count: status.gpuSeconds rises and tiermix_gpu_seconds_total{state} moves', async (t) => {
    const read = async () => {
      const samples = await scrape(`${controllerUrl}/metrics`);
      const byState = Object.fromEntries(['serving', 'idle', 'loading'].map((s) => [s, total(samples, 'tiermix_gpu_seconds_total', { cascade: `${NAMESPACE}/${CASCADE}`, state: s })]));
      const mc: ModelCascade = await cascade();
      return { byState, status: mc.status?.gpuSeconds ?? 0, tiers: mc.status?.tiers ?? [] };
    };
    const first = await read();
    const second = await waitFor('status.gpuSeconds and the serving counter to grow', async () => {
      const now = await read();
      return now.status > first.status && now.byState.serving! > first.byState.serving! ? now : undefined;
    }, { timeoutMs: 20_000 });
    assert.ok(second.byState.loading! > 0, 'loading time of the new pods is metered');
    for (const tier of second.tiers) assert.ok(tier.gpuSeconds > 0, `${tier.name} has GPU-seconds`);
    t.diagnostic(`GPU-seconds in status ${first.status.toFixed(1)} -> ${second.status.toFixed(1)}; counters ${JSON.stringify(second.byState)}`);
  });

  it('a tier pod\'s process killed under load: not Ready, restarted (restartCount 1), Ready again', async (t) => {
    const [victim] = (await tierPods('mistral-7b')).filter(isReady).sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
    const name = victim!.metadata!.name!;
    const endpoint = `http://${victim!.status?.podIP}:8000`;
    const before = load!.summary().sent;
    const killedMs = Date.now();
    const pid = kubelet.kill(NAMESPACE, name, 'SIGKILL');
    const podNow = () => core().readNamespacedPod({ name, namespace: NAMESPACE });
    await waitFor(`pod ${name} not Ready`, async () => !isReady(await podNow()), { timeoutMs: 10_000, intervalMs: 50 });
    timings.add('process killed -> pod not Ready', Date.now() - killedMs);
    await waitFor(`router.yaml without ${endpoint}`, () => !endpointsOf('mistral-7b').includes(endpoint), { timeoutMs: 10_000, intervalMs: 50 });
    timings.add('process killed -> endpoint out of the router\'s configuration', Date.now() - killedMs);
    const back = await waitFor(`pod ${name} restarted and Ready`, async () => {
      const p = await podNow();
      return isReady(p) && p.status?.containerStatuses?.[0]?.restartCount === 1 ? p : undefined;
    }, { timeoutMs: 30_000 });
    timings.add('process killed -> restarted, Ready again', Date.now() - killedMs);
    assert.equal(back.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 137);
    await waitFor(`router.yaml with ${endpoint} again`, () => endpointsOf('mistral-7b').includes(endpoint), { timeoutMs: 10_000 });
    timings.add('process killed -> endpoint back in the router\'s configuration', Date.now() - killedMs);
    assert.notEqual(kubelet.pods().find((r) => r.name === name)?.pid, pid, 'a new process');
    // The kill hit requests in flight: the router saw calls to that replica fail (and retried them elsewhere).
    const failedCalls = readFileSync(router!.logPath, 'utf8').split('\n').filter((l) => l.includes(`"replica":"${endpoint}"`) && l.includes('failed call')).length;
    assert.ok(failedCalls > 0, 'the router logged failed calls to the killed replica');
    t.diagnostic(`${load!.summary().sent - before} requests completed meanwhile; the router logged ${failedCalls} failed call(s) to the killed replica`);
  });

  it('a tier pod deleted under load is replaced; the router drains it first', async (t) => {
    const pods = (await tierPods('mistral-7b')).filter(isReady);
    const victim = pods.sort((a, b) => (a.metadata!.name! > b.metadata!.name! ? -1 : 1))[0]!;
    const name = victim.metadata!.name!;
    const before = load!.summary().sent;
    const deletedMs = Date.now();
    await core().deleteNamespacedPod({ name, namespace: NAMESPACE });
    await waitFor(`router.yaml without pod ${name}`, () => !endpointsOf('mistral-7b').includes(`http://${victim.status?.podIP}:8000`), { timeoutMs: 10_000, intervalMs: 50 });
    timings.add('pod deleted -> endpoint out of the router\'s configuration', Date.now() - deletedMs);
    await waitFor('a replacement pod Ready and listed', async () => {
      const ready = (await tierPods('mistral-7b')).filter(isReady);
      return ready.length >= pods.length && !ready.some((p) => p.metadata?.name === name) && ready.every((p) => endpointsOf('mistral-7b').includes(`http://${p.status?.podIP}:8000`));
    }, { timeoutMs: 30_000 });
    timings.add('pod deleted -> replacement Ready and in the router\'s configuration', Date.now() - deletedMs);
    await waitFor(`pod ${name} gone`, async () => !(await tierPods('mistral-7b')).some((p) => p.metadata?.name === name), { timeoutMs: 15_000 });
    t.diagnostic(`${load!.summary().sent - before} requests completed meanwhile`);
  });

  it('no client request failed; timings', async (t) => {
    await new Promise((r) => setTimeout(r, 1000));
    await load!.stop();
    const s = load!.summary();
    const seconds = (Date.now() - loadStartMs) / 1000;
    const routerMetrics = await scrape(`${routerUrl}/metrics`);
    const reloads = total(routerMetrics, 'tiermix_config_reloads_total', { result: 'ok' });
    assert.equal(total(routerMetrics, 'tiermix_config_reloads_total', { result: 'error' }), 0, 'every configuration the controller wrote was applied');
    const lines = [
      `requests through the router: ${s.sent} sent, ${s.ok} answered, ${s.failed} failed in ${seconds.toFixed(1)} s (${CONCURRENCY} clients)`,
      `router configuration: ${projection!.writes.length} versions written by the controller, ${reloads} reloads by the router`,
      `answered by tier: ${JSON.stringify(s.byTier)}`,
      'timings:',
      timings.table(),
    ];
    for (const l of lines.join('\n').split('\n')) t.diagnostic(l);
    process.stdout.write(`\n${lines.join('\n')}\n`);
    assert.deepEqual(s.errors, []);
    assert.equal(s.failed, 0);
    assert.ok(s.sent >= 100, `enough traffic (${s.sent})`);
    for (const tier of TIERS) assert.ok((s.byTier[routerTier(tier)] ?? 0) > 0, `${tier} answered`);
    assert.deepEqual(errors.filter((e) => !/ECONNRESET|socket hang up/.test(String(e))), [], 'the kubelet\'s API calls succeeded');
  });
});
