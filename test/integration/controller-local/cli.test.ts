// `tiermix controller --runtime local` as a process: actionable flag errors, and a real run on this machine: a
// ModelCascade file becomes simulator processes, the router's configuration file lists them, the autoscaler scales the
// tier from a router's /metrics (a stand-in whose in-flight count the test sets) up and, after the scale-down delay,
// back down, /metrics meters the GPU-seconds, and SIGTERM stops every replica (the clocks: test/unit/controller/cli).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { CascadeView } from '../../../controller/cli/run-local.js';
import { waitFor } from '../../k8s/wait.js';
import { isAlive } from '../../helpers/processes.js';

const CLI = fileURLToPath(new URL('../../../router/cli/main.js', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('tiermix controller --runtime local', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tiermix-local-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cascadeFile = join(dir, 'cascade.yaml');
  const routerFile = join(dir, 'router.yaml');
  writeFileSync(
    cascadeFile,
    `apiVersion: tiermix.dev/v1alpha1
kind: ModelCascade
metadata: { name: solo }
spec:
  tiers:
    - name: only
      model: mistralai/Mistral-7B-v0.1
      servedModelName: Mistral-7B-v0.1
      gpusPerReplica: 2
      replicas: { min: 1, max: 3 }
      autoscaling: { targetInFlightPerReplica: 2, scaleDownDelaySeconds: 20 }
`,
  );

  it('refuses flags that do not fit, saying what to fix (exit 2)', async () => {
    const local = ['controller', '--runtime', 'local'];
    const cases: [string[], RegExp][] = [
      [[...local, '--router-config-out', routerFile], /--runtime local needs at least one --cascade <file.yaml>/],
      [[...local, '--cascade', cascadeFile], /--runtime local needs --router-config-out <file>/],
      [[...local, '--cascade', cascadeFile, '--router-config-out', routerFile, '--namespace', 'x', '--install-crd'], /--namespace, --install-crd: not used by --runtime local/],
      [['controller', '--cascade', cascadeFile], /--cascade: not used by --runtime kubernetes/],
      [[...local, '--cascade', join(dir, 'missing.yaml'), '--router-config-out', routerFile], /missing\.yaml: cannot read/],
      [[...local, '--cascade', cascadeFile, '--router-config-out', routerFile, '--engine', 'vllm', '--time-scale', '0.1'], /--time-scale applies to simulated tiers only/],
      [[...local, '--cascade', cascadeFile, '--router-config-out', routerFile, '--engine', 'simulator', '--time-scale', '0.1', '--simulator-args', '--time-scale 2'], /time scale is set twice/],
      [[...local, '--time-scale', '0'], /--time-scale.*greater than 0/],
      [['controller', '--runtime', 'cloud'], /--runtime.*must be kubernetes or local/],
      [[...local, '--router-metrics-url', 'ftp://x'], /expected an http\(s\) URL/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(args)));
    cases.forEach(([args, message], i) => {
      assert.equal(results[i]!.code, 2, `${args.join(' ')}: ${results[i]!.stderr}`);
      assert.match(results[i]!.stderr, message);
    });
  });

  it('runs the cascade as processes, scales it from the router\'s in-flight count and back, meters it, stops cleanly', async (t) => {
    let inFlight = 0;
    const fakeRouter = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(`# TYPE tiermix_tier_in_flight_requests gauge\ntiermix_tier_in_flight_requests{tier="solo/only"} ${inFlight}\n`);
    });
    await new Promise<void>((r) => fakeRouter.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => fakeRouter.close(() => r())));
    const config = join(dir, 'controller.yaml');
    writeFileSync(config, 'autoscalerIntervalSeconds: 2\n');
    const p = spawn(process.execPath, [
      CLI, 'controller', '--runtime', 'local', '--cascade', cascadeFile, '--config', config, '--router-config-out', routerFile,
      '--engine', 'simulator', '--simulator-args', '--data none', '--time-scale', '0.1',
      '--router-metrics-url', `http://127.0.0.1:${(fakeRouter.address() as AddressInfo).port}/metrics`,
      '--metrics-port', '0', '--health-port', '0', '--bind-address', '127.0.0.1', '--log-dir', join(dir, 'logs'),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const logs: Record<string, unknown>[] = [];
    createInterface({ input: p.stdout }).on('line', (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    const pids = new Set<number>();
    try {
      const started = await waitFor('"controller started"', () => logs.find((l) => l.msg === 'controller started'), { timeoutMs: 30_000, describe: () => stderr });
      const url = started.metricsUrl as string;
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(started.engine, 'simulator');
      const view = async () => ((await (await fetch(`${url}/cascades`)).json()) as CascadeView[])[0]!;
      const processes = async () => {
        const list = (await (await fetch(`${url}/processes`)).json()) as { id: string; pid: number; ready: boolean; stopping?: boolean }[];
        for (const x of list) pids.add(x.pid);
        return list.filter((x) => !x.stopping);
      };
      await waitFor('Ready', async () => (await view()).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', { timeoutMs: 30_000 });
      const endpoints = () => (parse(readFileSync(routerFile, 'utf8')) as { cascades: { tiers: { name: string; endpoints: string[] }[] }[] }).cascades[0]!.tiers[0]!;
      assert.equal(endpoints().name, 'solo/only');
      assert.equal(endpoints().endpoints.length, 1);
      assert.equal((await processes()).length, 1);

      // 6 in flight at a target of 2: three replicas, and the reason says why.
      inFlight = 6;
      await waitFor('3 ready replicas', async () => (await processes()).filter((x) => x.ready).length === 3, { timeoutMs: 30_000 });
      await waitFor('3 endpoints in the router file', () => endpoints().endpoints.length === 3);
      const ups = logs.filter((l) => typeof l.msg === 'string' && /tier only: \d -> \d replicas/.test(l.msg) && Number(l.to) > Number(l.from));
      assert.ok(ups.length >= 1 && ups.at(-1)!.to === 3, `the scale-ups are logged: ${JSON.stringify(ups)}`);
      assert.match(String(ups.at(-1)!.reason), / \/ target 2 -> 3/);
      assert.equal((await view()).autoscaler?.only?.desired, 3);

      // No load: back to 1 once the recommendations were lower for the scale-down delay (20 modelled s = 2 wall s).
      inFlight = 0;
      const t0 = Date.now();
      await waitFor('back to 1 replica', async () => (await processes()).length === 1 && endpoints().endpoints.length === 1, { timeoutMs: 60_000 });
      console.log(`scale-down after the load ended: ${Date.now() - t0} ms wall (time scale 0.1; delay 20 modelled s, in-flight average 300 s)`);
      const down = logs.filter((l) => typeof l.msg === 'string' && /tier only: \d -> \d replicas/.test(l.msg) && Number(l.to) < Number(l.from));
      assert.ok(down.length >= 1 && down.at(-1)!.to === 1, JSON.stringify(down));
      assert.match(String(down.at(-1)!.reason), /scale down \d -> 1/);

      // The meter, in modelled seconds: loading (3 replica starts), serving (in flight), idle (after), 2 GPUs each.
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const value = (state: string) => Number(new RegExp(`tiermix_gpu_seconds_total\\{cascade="default/solo",tier="only",state="${state}"\\} (\\S+)`).exec(metrics)?.[1]);
      assert.ok(value('loading') > 0 && value('serving') > 0 && value('idle') > 0, metrics.split('\n').filter((l) => l.startsWith('tiermix_gpu')).join('\n'));
      assert.match(metrics, /tiermix_autoscaler_scale_events_total\{cascade="default\/solo",tier="only",direction="down"\} [1-9]/);
      const status = (await view()).status!;
      assert.ok(status.tiers![0]!.gpuSeconds > 0);
    } finally {
      p.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.ok(logs.some((l) => l.msg === 'controller stopped'));
    assert.ok(pids.size >= 3);
    await waitFor('every replica stopped', () => [...pids].every((pid) => !isAlive(pid)), { timeoutMs: 10_000 });
  });
});
