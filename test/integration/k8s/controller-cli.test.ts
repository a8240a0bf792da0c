// `tiermix controller` as a process against a real kube-apiserver: actionable errors, --install-crd (with the
// schema's defaults intact), /readyz, /healthz and /metrics (writes counted by verb and resource), reconciling, the
// autoscaler and meter wired in (a stand-in router /metrics drives a scale-up), and a graceful SIGTERM that
// releases the leader Lease. etcd + kube-apiserver only.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { ModelCascadeSpec } from '../../../controller/api/types.js';
import { startControlPlane, type ControlPlane } from '../../k8s/control-plane.js';
import { cascade, cascadeClient } from '../../k8s/controller-fixture.js';
import { waitFor } from '../../k8s/wait.js';

const CLI = resolve('dist/router/cli/main.js');
const NS = 'cli-test';

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const envWithout = (...names: string[]): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const n of names) delete env[n];
  return env;
};

describe('tiermix controller (the command)', () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let dir: string;
  let proc: ChildProcess | undefined;
  const logs: Record<string, unknown>[] = [];

  before(async () => {
    cp = await startControlPlane();
    kc = cp.kubeConfig();
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
    dir = mkdtempSync(join(tmpdir(), 'tiermix-controller-cli-'));
  });
  after(async () => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--help lists its options', async () => {
    const r = await run(['controller', '--help']);
    assert.equal(r.code, 0);
    for (const flag of ['--kubeconfig', '--config', '--namespace', '--leader-elect', '--metrics-port', '--health-port', '--install-crd']) {
      assert.ok(r.stdout.includes(flag), `--help mentions ${flag}`);
    }
  });

  it('says what to do without cluster credentials, and names the bad field of a bad configuration', async () => {
    const none = await run(['controller'], envWithout('KUBECONFIG', 'KUBERNETES_SERVICE_HOST'));
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no cluster credentials: pass --kubeconfig <file>/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'leaderElection:\n  leaseDurationSeconds: 5\n  renewDeadlineSeconds: 10\n');
    const r = await run(['controller', '--kubeconfig', cp.kubeconfigPath, '--config', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /leaderElection\.renewDeadlineSeconds: renewDeadlineSeconds must be less than leaseDurationSeconds/);
  });

  it('without the CRD installed it stays unready and says how to install it', async () => {
    const p = spawn(process.execPath, [CLI, 'controller', '--kubeconfig', cp.kubeconfigPath, '--no-leader-elect', '--namespace', NS,
      '--metrics-port', '0', '--health-port', '0', '--bind-address', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: p.stdout }).on('line', (line) => {
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ msg: line });
      }
    });
    try {
      const started = await waitFor('"controller started"', () => lines.find((l) => l.msg === 'controller started'), { timeoutMs: 30_000 });
      const hint = await waitFor('a log line about the missing CRD', () =>
        lines.find((l) => typeof l.msg === 'string' && l.msg.includes('is the ModelCascade CRD installed?')));
      assert.equal(hint.level, 50, 'logged as an error');
      assert.equal((await fetch(`http://127.0.0.1:${started.healthPort as number}/readyz`)).status, 503);
      assert.equal((await fetch(`http://127.0.0.1:${started.healthPort as number}/healthz`)).status, 200);
    } finally {
      p.kill('SIGTERM');
      await new Promise((r) => (p.exitCode !== null ? r(p.exitCode) : p.on('exit', r)));
    }
  });

  it('installs the CRD, serves /readyz, /healthz and /metrics, reconciles, and stops cleanly on SIGTERM', async (t) => {
    // A stand-in for the router's /metrics: 30 requests in flight to tier scaled/only (target 8 per replica), later 0.
    let inFlight = 30;
    const fakeRouter = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(`# TYPE tiermix_tier_in_flight_requests gauge\ntiermix_tier_in_flight_requests{tier="scaled/only"} ${inFlight}\n`);
    });
    await new Promise<void>((r) => fakeRouter.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => fakeRouter.close(() => r())));
    const routerMetrics = `http://127.0.0.1:${(fakeRouter.address() as AddressInfo).port}/metrics`;
    const config = join(dir, 'controller.yaml');
    writeFileSync(
      config,
      [
        'defaultGpuProfile: nvidia-h100-80gb',
        'autoscalerIntervalSeconds: 1',
        `router: { configMapNamespace: ${NS}, configMapName: tiermix-router, metricsUrls: ["${routerMetrics}"] }`,
        `leaderElection: { enabled: true, leaseNamespace: ${NS}, leaseName: tiermix-controller }`,
        '',
      ].join('\n'),
    );
    const args = ['controller', '--kubeconfig', cp.kubeconfigPath, '--config', config, '--install-crd', '--leader-elect',
      '--identity', 'cli-1', '--metrics-port', '0', '--health-port', '0', '--bind-address', '127.0.0.1'];
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    let stderr = '';
    p.stderr.on('data', (c) => (stderr += c));
    createInterface({ input: p.stdout }).on('line', (line) => {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    });
    const exited = new Promise<never>((_, reject) => p.on('exit', (code) => reject(new Error(`controller exited ${code}: ${stderr}`))));
    const started = await waitFor('the "controller started" log line', () => logs.find((l) => l.msg === 'controller started'), {
      timeoutMs: 30_000,
      abort: exited,
    });
    const metricsUrl = `http://127.0.0.1:${started.metricsPort as number}`;
    const healthUrl = `http://127.0.0.1:${started.healthPort as number}`;
    await waitFor('/readyz 200', async () => (await fetch(`${healthUrl}/readyz`)).status === 200, { abort: exited });
    assert.equal((await fetch(`${healthUrl}/healthz`)).status, 200);

    // The CRD came from --install-crd; its defaults survived the trip (gpusPerReplica, replicas).
    const created = await cascadeClient(kc).create(
      cascade('from-cli', NS, { tiers: [{ name: 'only', model: 'org/only' }] } as unknown as ModelCascadeSpec),
    );
    assert.equal(created.spec.tiers[0]!.gpusPerReplica, 1);
    assert.deepEqual(created.spec.tiers[0]!.replicas, { min: 1, max: 1 });
    const apps = kc.makeApiClient(AppsV1Api);
    await waitFor('Deployment from-cli-only', async () => (await apps.readNamespacedDeployment({ name: 'from-cli-only', namespace: NS })).spec?.replicas === 1, { abort: exited });
    const metrics = await waitFor('metrics with the Deployment apply', async () => {
      const text = await (await fetch(`${metricsUrl}/metrics`)).text();
      // The reconcile that made the apply is counted when it ends, a moment later.
      return /tiermix_controller_api_writes_total\{verb="apply",resource="deployments"\} 1\b/.test(text) &&
        /tiermix_controller_reconciles_total\{kind="cascade",result="success"\} \d+/.test(text) ? text : undefined;
    }, { abort: exited });
    assert.match(metrics, /tiermix_controller_leader 1\b/);
    assert.match(metrics, /tiermix_controller_reconciles_total\{kind="cascade",result="success"\} \d+/);
    assert.match(metrics, /process_cpu_seconds_total/);
    assert.match(metrics, /# TYPE tiermix_gpu_seconds_total counter/, 'the GPU-seconds meter is wired in');

    // The autoscaler is wired in: routed load on scaled/only scales its Deployment up, and status says why.
    await cascadeClient(kc).create(cascade('scaled', NS, {
      tiers: [{ name: 'only', model: 'org/only', replicas: { min: 1, max: 4 }, autoscaling: { targetInFlightPerReplica: 8, scaleDownDelaySeconds: 3 } }],
    } as unknown as ModelCascadeSpec));
    // No kubelet in this control plane: stand in for the Deployment's one pod, Ready (the autoscaler does not scale
    // on demand that its current replicas cannot serve yet, so it wants a ready replica first).
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'scaled-only-0', labels: { 'tiermix.dev/cascade': 'scaled', 'tiermix.dev/tier': 'only' } },
        spec: { containers: [{ name: 'vllm', image: 'vllm/vllm-openai:v0.10.0' }] },
      },
    });
    await core.patchNamespacedPodStatus(
      {
        name: 'scaled-only-0',
        namespace: NS,
        body: { status: { phase: 'Running', podIP: '127.0.0.9', conditions: [{ type: 'Ready', status: 'True' }] } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const scaledTo = await waitFor('scaled-only scaled up by the autoscaler', async () => {
      const r = (await apps.readNamespacedDeployment({ name: 'scaled-only', namespace: NS })).spec?.replicas ?? 0;
      return r > 1 ? r : undefined;
    }, { timeoutMs: 30_000, abort: exited, describe: () => JSON.stringify(logs.filter((l) => (l.level as number) >= 40).slice(-5)) });
    t.diagnostic(`autoscaler: scaled-only -> ${scaledTo} replicas for 30 in flight at 8 per replica`);
    const mc = await waitFor('a scaling reason in status', async () => {
      const m = await cascadeClient(kc).get(NS, 'scaled');
      return m.status?.tiers?.[0]?.scalingReason ? m : undefined;
    }, { abort: exited });
    assert.ok((mc.status?.tiers?.[0]?.desiredReplicas ?? 0) > 1);
    assert.equal((await apps.readNamespacedDeployment({ name: 'from-cli-only', namespace: NS })).spec?.replicas, 1, 'no load, no scaling');

    // Load gone: the tier scales back down to min, but only after its scale-down window (3 s here).
    const loadGoneAt = Date.now();
    inFlight = 0;
    await waitFor('scaled-only scaled back down to 1', async () =>
      (await apps.readNamespacedDeployment({ name: 'scaled-only', namespace: NS })).spec?.replicas === 1, { timeoutMs: 60_000, abort: exited });
    const downAfterMs = Date.now() - loadGoneAt;
    t.diagnostic(`autoscaler: scaled-only back to 1 replica ${downAfterMs} ms after the load went (scale-down window 3 s)`);
    assert.ok(downAfterMs >= 3000, `scaled down after ${downAfterMs} ms, inside the 3 s window`);

    const t0 = Date.now();
    p.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => (p.exitCode !== null ? r(p.exitCode) : p.on('exit', (c) => r(c))));
    t.diagnostic(`SIGTERM to exit: ${Date.now() - t0} ms`);
    assert.equal(code, 0, stderr);
    const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'tiermix-controller', namespace: NS });
    assert.equal(lease.spec?.holderIdentity, '', 'the Lease was released on shutdown');
    assert.ok(logs.some((l) => l.msg === 'controller stopped'));
  });
});
