// The process kubelet (test/k8s/process-kubelet.ts) on a real kube-apiserver (etcd + apiserver; pods are created
// already bound to a fake node, so no scheduler is needed): a tier pod becomes a simulator process on its pod IP,
// Ready only once it answers /health; a crash makes it not Ready and restarts it (restartCount 1); deletion keeps it
// serving through the preStop wait, then stops the process and finalizes the pod; other pods are marked Running as
// the plain fake kubelet does; stop() leaves no process behind.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../k8s/control-plane.js';
import { startProcessKubelet, type ProcessKubelet } from '../k8s/process-kubelet.js';
import { isTierPod, simulatorForPod } from '../k8s/vllm-sim-pod.js';
import { waitFor } from '../k8s/wait.js';
import { plannedTierPod } from './tier-pod.js';
import { isAlive } from '../helpers/processes.js';

const NS = 'pk';
const NODE = 'gpu-0';
const STARTUP_SECONDS = 1.5; // the simulator's /health answers 503 this long (a model loading)

const ready = (p: V1Pod) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

describe('process kubelet: pods run as processes on their pod IPs', { timeout: 120_000 }, () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let kubelet: ProcessKubelet | undefined;
  let dir: string;
  const errors: unknown[] = [];
  const core = () => kc.makeApiClient(CoreV1Api);
  const read = (name: string) => core().readNamespacedPod({ name, namespace: NS });
  const create = async (pod: V1Pod) => core().createNamespacedPod({ namespace: NS, body: { ...pod, spec: { ...pod.spec!, nodeName: NODE } } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiermix-process-kubelet-'));
    cp = await startControlPlane();
    kc = cp.kubeConfig();
    await core().createNamespace({ body: { metadata: { name: NS } } });
    kubelet = await startProcessKubelet(kc, {
      nodes: [{ name: NODE, gpus: 8, gpuProduct: 'NVIDIA-H100-80GB-HBM3', cpu: '64', memory: '512Gi' }],
      runs: isTierPod,
      processFor: (pod, ip) => simulatorForPod(pod, ip, { timeScale: 0.1, dataDir: null, extraArgs: ['--startup-seconds', String(STARTUP_SECONDS)] })!,
      logDir: dir,
      preStopMs: 1500,
      onError: (err) => errors.push(err),
    });
  });
  after(async () => {
    await kubelet?.stop();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a tier pod runs as a simulator on its pod IP and is Ready only once /health answers', async () => {
    await create(plannedTierPod({ name: 'small', model: 'org/small-7b' }, NS, 'small-0'));
    const running = await waitFor('small-0 Running with a pod IP', async () => {
      const p = await read('small-0');
      return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
    });
    const runningAt = Date.now();
    const ip = running.status!.podIP!;
    assert.match(ip, /^127\.\d+\.\d+\.\d+$/);
    assert.notEqual(ip, '127.0.0.1');
    const run = kubelet!.pods().find((r) => r.name === 'small-0');
    assert.ok(run?.pid && isAlive(run.pid), 'a process runs the pod');
    // While the simulated model loads, /health says 503 and the pod is not Ready.
    // (The window starts when the simulator listens; the wait below polls every 200 ms, well inside it.)
    const health = await waitFor('the process listening', async () => (await fetch(`http://${ip}:8000/health`)).status);
    assert.equal(health, 503);
    assert.equal(ready(await read('small-0')), false, 'not Ready while /health is 503');
    const readyPod = await waitFor('small-0 Ready', async () => {
      const p = await read('small-0');
      return ready(p) ? p : undefined;
    }, { intervalMs: 50 });
    assert.ok(Date.now() - runningAt >= STARTUP_SECONDS * 1000 - 700, `Ready after the startup (${Date.now() - runningAt} ms)`);
    assert.equal((await fetch(`http://${ip}:8000/health`)).status, 200);
    const models = (await (await fetch(`http://${ip}:8000/v1/models`)).json()) as { data: { id: string }[] };
    assert.deepEqual(models.data.map((m) => m.id), ['org/small-7b']);
    const cs = readyPod.status?.containerStatuses?.[0];
    assert.deepEqual([cs?.name, cs?.ready, cs?.restartCount, Boolean(cs?.state?.running)], ['vllm', true, 0, true]);
  });

  it('other pods are marked Running and Ready at once, with no process', async () => {
    await create({ metadata: { name: 'plain-0' }, spec: { containers: [{ name: 'app', image: 'example/app' }] } });
    await waitFor('plain-0 Ready', async () => ready(await read('plain-0')));
    assert.equal(kubelet!.pods().some((r) => r.name === 'plain-0'), false);
  });

  it('a crashed process: not Ready at once, then restarted with restartCount 1 and Ready again', async () => {
    const ip = (await read('small-0')).status!.podIP!;
    const killedAt = Date.now();
    const pid = kubelet!.kill(NS, 'small-0', 'SIGKILL');
    const down = await waitFor('small-0 not Ready', async () => {
      const p = await read('small-0');
      return ready(p) ? undefined : p;
    }, { intervalMs: 25 });
    assert.ok(Date.now() - killedAt < 3000, 'not Ready within 3 s: no probe period to wait for');
    assert.equal(down.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 137);
    const back = await waitFor('small-0 Ready again', async () => {
      const p = await read('small-0');
      return ready(p) ? p : undefined;
    });
    const cs = back.status?.containerStatuses?.[0];
    assert.equal(cs?.restartCount, 1);
    assert.equal(cs?.lastState?.terminated?.signal, 9);
    assert.equal(back.status?.podIP, ip, 'the pod keeps its IP across a container restart');
    const now = kubelet!.pods().find((r) => r.name === 'small-0');
    assert.ok(now?.pid && now.pid !== pid && isAlive(now.pid) && !isAlive(pid));
  });

  it('a deleted pod keeps serving through preStop, then its process stops and the pod is finalized', async () => {
    const ip = (await read('small-0')).status!.podIP!;
    const pid = kubelet!.pods().find((r) => r.name === 'small-0')!.pid!;
    const deletedAt = Date.now();
    await core().deleteNamespacedPod({ name: 'small-0', namespace: NS });
    assert.equal((await fetch(`http://${ip}:8000/health`)).status, 200, 'still serving during preStop');
    await waitFor('small-0 gone', async () => {
      try {
        await read('small-0');
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    });
    assert.ok(Date.now() - deletedAt >= 1400, 'finalized after the preStop wait');
    assert.equal(isAlive(pid), false);
    assert.equal(kubelet!.pods().length, 0);
  });

  it('stop() leaves no process behind', async () => {
    await create(plannedTierPod({ name: 'big', model: 'org/big-70b' }, NS, 'big-0'));
    const pid = await waitFor('big-0 has a process', () => kubelet!.pods().find((r) => r.name === 'big-0')?.pid);
    await kubelet!.stop();
    kubelet = undefined;
    assert.equal(isAlive(pid), false);
    assert.deepEqual(errors, []);
  });
});
