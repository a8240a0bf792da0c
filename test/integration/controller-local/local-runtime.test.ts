// The local runtime end to end on this machine: a 2-tier ModelCascade run as simulator processes (real child
// processes on their own ports), the router configuration file they produce, a real router hot-reloading that file
// and answering through the official openai SDK, and a tier scaled 1 -> 2 -> 1 through the ScalingSource hook.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { pino } from 'pino';
import { parse } from 'yaml';
import { API_VERSION, KIND, type ModelCascade } from '../../../controller/api/types.js';
import { defaultControllerConfig } from '../../../controller/config/load.js';
import { LocalRuntime, ManualScaling, startLocalController } from '../../../controller/runtime/local/index.js';
import { loadConfigFile } from '../../../router/config/load.js';
import { RouterConfigSchema, type RouterConfig } from '../../../router/config/schema.js';
import { startRouter, type RunningRouter } from '../../../router/server/start.js';
import { waitFor } from '../../k8s/wait.js';
import { isAlive } from '../../helpers/processes.js';

const KEY = 'default/duo';
const SIM_ARGS = ['--time-scale', '0', '--data', 'none'];

function duo(): ModelCascade {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: 'duo', namespace: 'default' },
    spec: {
      tiers: [
        { name: 'small', model: 'mistralai/Mistral-7B-v0.1', servedModelName: 'Mistral-7B-v0.1', gpusPerReplica: 1, replicas: { min: 1, max: 2 } },
        { name: 'large', model: 'meta-llama/Llama-2-13b-hf', servedModelName: 'Llama-2-13b-hf', gpusPerReplica: 2, replicas: { min: 1, max: 1 } },
      ],
    },
  };
}

function readRouterConfig(file: string): RouterConfig | undefined {
  try {
    return RouterConfigSchema.parse(parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

const endpointsOf = (rc: RouterConfig | undefined, tier: string, cascade = 'duo') =>
  rc?.cascades.find((c) => c.name === cascade)?.tiers.find((t) => t.name === `${cascade}/${tier}`)?.endpoints ?? [];

describe('local runtime: a ModelCascade as simulator processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tiermix-local-'));
  const routerFile = join(dir, 'router.yaml');
  const config = defaultControllerConfig();
  // No spec.routing and 2 tiers: the planner gives this cascade the threshold policy (the shipped POMDP model is for 3).
  config.router.base = { verification: { samples: 2 } };
  const scaling = new ManualScaling();
  const lines: string[] = [];
  let runtime: LocalRuntime;
  let router: RunningRouter | undefined;

  before(() => {
    runtime = new LocalRuntime({
      config,
      routerConfigFile: routerFile,
      engine: 'simulator',
      simulatorArgs: SIM_ARGS,
      scaling,
      process: { healthIntervalMs: 150, logDir: join(dir, 'logs') },
      log: (l) => lines.push(l),
    });
  });
  after(async () => {
    await router?.close();
    await runtime?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts one process per replica and lists the ready endpoints in the router configuration', async () => {
    assert.equal(runtime.engine, 'simulator');
    const t0 = Date.now();
    await runtime.apply(duo());
    const rc = await waitFor('both tiers ready in the router file', () => {
      const c = readRouterConfig(routerFile);
      return endpointsOf(c, 'small').length === 1 && endpointsOf(c, 'large').length === 1 ? c : undefined;
    }, { timeoutMs: 30_000, describe: () => lines.slice(-3).join(' | ') });
    console.log(`2 tiers from apply to ready endpoints in the router file: ${Date.now() - t0} ms (simulators, shared machine)`);
    const tiers = rc.cascades[0]!.tiers;
    assert.deepEqual(tiers.map((t) => [t.name, t.model, t.gpusPerReplica]), [['duo/small', 'Mistral-7B-v0.1', 1], ['duo/large', 'Llama-2-13b-hf', 2]]);
    assert.equal(rc.cascades[0]!.policy?.type, 'threshold');
    // The endpoints are the real processes: each answers /v1/models with its served name.
    for (const t of tiers) {
      const res = await fetch(`${t.endpoints[0]}/v1/models`);
      const body = (await res.json()) as { data: { id: string }[] };
      assert.equal(body.data[0]!.id, t.model);
    }
    assert.deepEqual(runtime.processes().map((p) => p.group).sort(), ['default/duo-large', 'default/duo-small']);
    const status = await waitFor('status Ready', () => (runtime.status(KEY)?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? runtime.status(KEY) : undefined));
    assert.equal(status.readyTiers, '2/2');
    assert.equal(status.gpusInUse, 3);
  });

  it('a router on that file serves the cascade and its tiers (openai SDK)', async () => {
    router = await startRouter({ config: loadConfigFile(routerFile), configFile: routerFile, port: 0, host: '127.0.0.1', watchIntervalMs: 100, logger: pino({ level: 'silent' }) });
    const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused' });
    const pinned = await client.chat.completions.create({ model: 'duo/large', messages: [{ role: 'user', content: 'What is 2 + 2?' }], max_tokens: 16 });
    assert.ok(pinned.choices[0]!.message.content);
    const routed = await client.chat.completions.create({ model: 'duo', messages: [{ role: 'user', content: 'Name a prime number.' }], max_tokens: 16 }).withResponse();
    assert.ok(routed.data.choices[0]!.message.content);
    assert.match(routed.response.headers.get('x-tiermix-tier') ?? '', /^duo\/(small|large)$/);
  });

  it('follows the ScalingSource: small 1 -> 2 -> 1, processes and router file in step', async () => {
    const small = () => runtime.processes().filter((p) => p.group === 'default/duo-small' && !p.stopping);
    const first = small()[0]!;
    scaling.set(KEY, 'small', 2, 'test: scale up');
    await waitFor('2 small endpoints', () => endpointsOf(readRouterConfig(routerFile), 'small').length === 2, { timeoutMs: 30_000 });
    assert.equal(small().length, 2);
    const added = small().find((p) => p.id !== first.id)!;
    assert.ok(isAlive(runtime.pid(added.id)), 'the new replica is a live process');
    const up = await waitFor('status shows 2/2 for small', () => runtime.status(KEY)?.tiers?.find((t) => t.name === 'small' && t.readyReplicas === 2));
    assert.equal(up.desiredReplicas, 2);
    assert.equal(up.scalingReason, 'test: scale up');
    // The router picked up the new endpoint from the file (hot reload).
    await waitFor('router sees 2 small endpoints', () => router!.getState().config.cascades[0]!.tiers[0]!.endpoints.length === 2);

    const addedPid = runtime.pid(added.id);
    scaling.set(KEY, 'small', 1, 'test: scale down');
    await waitFor('1 small endpoint', () => endpointsOf(readRouterConfig(routerFile), 'small').length === 1, { timeoutMs: 30_000 });
    await waitFor('one small process left', () => small().length === 1);
    await waitFor('the stopped replica exited', () => !isAlive(addedPid));
    // The newest replica went; the first one kept serving throughout.
    assert.equal(small()[0]!.id, first.id);
    // Above max is clamped to max.
    scaling.set(KEY, 'small', 9);
    await waitFor('clamped to max 2', () => small().length === 2);
    scaling.set(KEY, 'small', 1);
    await waitFor('back to 1', () => small().length === 1);
  });

  it('a spec change rolls the processes; an invalid spec keeps them and says why in the status', async () => {
    const before = runtime.processes().find((p) => p.group === 'default/duo-large')!;
    const changed = duo();
    changed.spec.tiers[1]!.vllm = { maxModelLen: 2048 };
    await runtime.apply(changed);
    await waitFor('large replaced', () => {
      const now = runtime.processes().filter((p) => p.group === 'default/duo-large' && !p.stopping);
      return now.length === 1 && now[0]!.id !== before.id && now[0]!.ready;
    }, { timeoutMs: 30_000 });
    assert.equal(runtime.status(KEY)?.observedGeneration, 2);

    const invalid = duo();
    invalid.spec.tiers[1]!.gpuProfile = 'no-such-gpu';
    const running = runtime.processes().map((p) => p.id).sort();
    await runtime.apply(invalid);
    const ready = runtime.status(KEY)?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.reason, 'InvalidSpec');
    assert.match(ready?.message ?? '', /spec\.tiers\[1\]\.gpuProfile: unknown GPU profile "no-such-gpu"/);
    assert.deepEqual(runtime.processes().map((p) => p.id).sort(), running, 'nothing stopped or started');
  });

  it('deleting the cascade stops its processes and empties the router configuration', async () => {
    const pids = runtime.processes().map((p) => runtime.pid(p.id));
    await runtime.delete(KEY);
    await waitFor('all processes gone', () => runtime.processes().length === 0 && pids.every((p) => !isAlive(p)));
    assert.deepEqual(parse(readFileSync(routerFile, 'utf8')).cascades, []);
  });
});

describe('local controller: cascades from a watched file', () => {
  it('applies the file, and follows edits to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiermix-local-file-'));
    const file = join(dir, 'cascade.yaml');
    const routerFile = join(dir, 'router.yaml');
    const doc = (max: number, min: number) => `apiVersion: tiermix.dev/v1alpha1
kind: ModelCascade
metadata: { name: solo }
spec:
  tiers:
    - { name: only, model: Mistral-7B-v0.1, replicas: { min: ${min}, max: ${max} } }
`;
    writeFileSync(file, doc(2, 1));
    const ctl = await startLocalController({ config: defaultControllerConfig(), cascadeFiles: [file], routerConfigFile: routerFile, engine: 'simulator', simulatorArgs: SIM_ARGS, watchIntervalMs: 100, process: { healthIntervalMs: 150 } });
    try {
      await waitFor('1 endpoint', () => endpointsOf(readRouterConfig(routerFile), 'only', 'solo').length === 1, { timeoutMs: 30_000 });
      writeFileSync(file, doc(2, 2));
      await waitFor('2 endpoints after the edit', () => endpointsOf(readRouterConfig(routerFile), 'only', 'solo').length === 2, { timeoutMs: 30_000 });
      writeFileSync(file, 'not: [valid');
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(ctl.runtime.processes().length, 2, 'a broken file keeps the current cascades');
    } finally {
      await ctl.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('local runtime: a replica that keeps crashing', () => {
  it('is restarted with a back-off and shows as CrashLoopBackOff in the status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiermix-local-crash-'));
    const started: number[] = [];
    // An invalid simulator flag: every process exits at once with a usage error.
    const rt = new LocalRuntime({
      config: defaultControllerConfig(),
      routerConfigFile: join(dir, 'router.yaml'),
      engine: 'simulator',
      simulatorArgs: ['--time-scale', 'fast'],
      process: { healthIntervalMs: 150 },
      log: (l) => {
        if (l.includes('started')) started.push(Date.now());
      },
    });
    try {
      const mc = duo();
      mc.spec.tiers = [mc.spec.tiers[0]!];
      const t0 = Date.now();
      await rt.apply(mc);
      const degraded = await waitFor('Degraded: ContainersFailing', () => {
        const c = rt.status(KEY)?.conditions?.find((x) => x.type === 'Degraded');
        return c?.reason === 'ContainersFailing' ? c : undefined;
      }, { timeoutMs: 20_000 });
      assert.match(degraded.message, /tier small: CrashLoopBackOff: duo-small-\d+ exited with code 2: .*--time-scale/);
      assert.equal(rt.status(KEY)?.conditions?.find((x) => x.type === 'Ready')?.reason, 'ContainersFailing');
      await new Promise((r) => setTimeout(r, 4000));
      // Back-off 1 s, 2 s, 4 s...: at most 4 starts in the first ~5 s (without it, dozens).
      const early = started.filter((t) => t - t0 < 5000).length;
      assert.ok(early >= 2 && early <= 4, `starts in the first 5 s: ${early}`);
    } finally {
      await rt.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
