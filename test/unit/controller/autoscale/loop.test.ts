import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { ModelCascade } from '../../../../controller/api/types.js';
import { DEFAULT_TIERMIX_SETTINGS, tiermixStrategy, type RoutingCostSignal } from '../../../../controller/autoscale/index.js';
import { buildRouterConfig } from '../../../../controller/plan/index.js';
import { AutoscalerLoop, GpuSecondsMeter, routerTierNames, type ScaledCascade } from '../../../../controller/scaling/index.js';
import { parsePrometheusText, RouterScraper } from '../../../../controller/signals/index.js';
import { RouterMetrics } from '../../../../router/metrics/router-metrics.js';
import { cascade, config } from '../plan/fixtures.js';

async function serveRouter(m: RouterMetrics): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (_req, res) => void res.writeHead(200, { 'content-type': m.registry.contentType }).end(await m.registry.metrics()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

const spec: ScaledCascade['spec'] = {
  tiers: [
    { name: 'small', model: 'm/s', gpusPerReplica: 1, replicas: { min: 1, max: 10 }, autoscaling: { targetInFlightPerReplica: 10, scaleDownDelaySeconds: 30 } },
    { name: 'large', model: 'm/l', gpusPerReplica: 4, replicas: { min: 1, max: 10 }, autoscaling: { targetInFlightPerReplica: 5, scaleDownDelaySeconds: 30 } },
  ],
};

test('the loop scrapes real routers, decides, notifies on changed replicas only, and feeds the meter', async () => {
  const router = new RouterMetrics({ processMetrics: false });
  const hooks = router.upstreamHooks();
  const served = await serveRouter(router);
  let now = 0;
  const meter = new GpuSecondsMeter({ now: () => now });
  const scraper = new RouterScraper({ urls: () => [served.url], now: () => now });
  const signals: RoutingCostSignal[] = [];
  const loop = new AutoscalerLoop({
    scrape: () => scraper.scrape(),
    cascades: () => [{ key: 'ns/ladder', spec, routerTiers: ['ladder/small', 'ladder/large'] }],
    intervalSeconds: 10,
    // A 30 s plain average keeps the numbers below easy to follow (the strategy has its own tests).
    strategy: tiermixStrategy({ ...DEFAULT_TIERMIX_SETTINGS, averageWindowSeconds: 30, burstThreshold: Infinity }),
    meter,
    now: () => now,
    onCostSignal: (s) => signals.push(s),
  });
  const changes: string[] = [];
  loop.onChange((k) => changes.push(k));
  try {
    // A 4-GPU large pod, Ready from t = 0, so the meter has something to split into serving and idle.
    meter.observePods('ns/ladder', 'large', 4, [{ metadata: { name: 'p', uid: 'p' }, spec: { containers: [], nodeName: 'n' }, status: { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: new Date(0) }, { type: 'Ready', status: 'True', lastTransitionTime: new Date(0) }] } }], 0);
    hooks.onInFlight?.('ladder/small', 5);
    await loop.tick();
    assert.deepEqual(loop.desired('ns/ladder'), {
      small: { desired: 1, reason: 'in-flight 5 (30s avg) / target 10 -> 1' },
      large: { desired: 1, reason: 'in-flight 0 (30s avg) / target 5 -> 0; clamped to [1, 10]: 1' },
    });
    assert.deepEqual(changes, ['ns/ladder']); // first decision
    // 100 requests reached small, 40 went on to large: large is pre-scaled before its own in-flight rises.
    router.requests.inc({ cascade: 'ladder', tier: 'ladder/small', mode: 'routed', outcome: 'ok' }, 60);
    router.requests.inc({ cascade: 'ladder', tier: 'ladder/large', mode: 'routed', outcome: 'ok' }, 40);
    router.escalations.inc({ cascade: 'ladder', from_tier: 'ladder/small', to_tier: 'ladder/large', reason: 'verify' }, 40);
    for (let i = 0; i < 100; i++) hooks.onAttempt?.({ tier: 'ladder/small', replica: 'r', purpose: 'answer', seconds: 2, outcome: 'ok' });
    for (let i = 0; i < 40; i++) hooks.onAttempt?.({ tier: 'ladder/large', replica: 'r', purpose: 'answer', seconds: 4, outcome: 'ok' });
    hooks.onInFlight?.('ladder/small', 50);
    now = 10_000;
    await loop.tick();
    const d = loop.desired('ns/ladder')!;
    // small: avg(5, 50) = 27.5 -> 3; large: 27.5 x 40% x (4 / 2) = 22 -> 5.
    assert.equal(d.small!.desired, 3);
    assert.equal(d.large!.desired, 5);
    assert.match(d.large!.reason, /pre-scaled to 22 expected from small 27.5 x 40% x 2 \/ target 5 -> 5; scale up 1 -> 5/);
    assert.deepEqual(changes, ['ns/ladder', 'ns/ladder']);
    // The window fills with 50s: small 4, 4, 5 and large 6, 7, 8 (expected 28, 31, 40); then nothing changes.
    hooks.onInFlight?.('ladder/large', 3);
    for (const t of [20_000, 30_000, 40_000]) {
      now = t;
      await loop.tick();
    }
    assert.deepEqual([loop.desired('ns/ladder')!.small!.desired, loop.desired('ns/ladder')!.large!.desired], [5, 8]);
    assert.equal(changes.length, 5);
    now = 50_000;
    await loop.tick();
    assert.deepEqual([loop.desired('ns/ladder')!.small!.desired, loop.desired('ns/ladder')!.large!.desired], [5, 8]);
    assert.equal(changes.length, 5, 'same replica counts: no notification');
    assert.equal(signals.length, 6);
    assert.equal(signals[5]!.binding, false);
    // The meter heard large's in-flight: 0 from 0 to 20 s (idle), 3 from 20 s (serving), 4 GPUs.
    assert.deepEqual(meter.byState('ns/ladder', now).large, { serving: 120, idle: 80, loading: 0 });
    // The loop's own metrics.
    const samples = parsePrometheusText(await loop.registry.metrics());
    const up = samples.filter((s) => s.name === 'tiermix_autoscaler_scale_events_total' && s.labels.direction === 'up').map((s) => [s.labels.tier, s.value]);
    assert.deepEqual(up.sort(), [['large', 4], ['small', 3]]);
  } finally {
    await loop.stop();
    await served.close();
  }
});

test('with every router down the loop keeps the replicas and says why; a GPU cap yields a cost signal', async () => {
  let now = 0;
  // A port that was just free: connection refused.
  const gone = await serveRouter(new RouterMetrics({ processMetrics: false }));
  await gone.close();
  const scraper = new RouterScraper({ urls: () => [gone.url], now: () => now, timeoutMs: 500 });
  const capped: ScaledCascade = { key: 'ns/c', spec: { ...spec, maxGpus: 8 }, routerTiers: ['c/small', 'c/large'], observed: { small: { current: 2, ready: 2 }, large: { current: 1, ready: 1 } } };
  const loop = new AutoscalerLoop({ scrape: () => scraper.scrape(), cascades: () => [capped], intervalSeconds: 10, now: () => now });
  await loop.tick();
  const d = loop.desired('ns/c')!;
  assert.equal(d.small!.desired, 2);
  assert.equal(d.small!.reason, `no in-flight reading yet: keeping 2; no router answered (router ${gone.url} not answering (ECONNREFUSED))`);

  // The same cascade with load that needs 3 x 1 + 6 x 4 = 27 GPUs under a cap of 8.
  const fake = new RouterMetrics({ processMetrics: false });
  fake.upstreamHooks().onInFlight?.('c/small', 30);
  fake.upstreamHooks().onInFlight?.('c/large', 30);
  const served = await serveRouter(fake);
  try {
    const s2 = new RouterScraper({ urls: () => [served.url] });
    const l2 = new AutoscalerLoop({ scrape: () => s2.scrape(), cascades: () => [capped], intervalSeconds: 10, now: () => now });
    await l2.tick();
    assert.deepEqual([l2.desired('ns/c')!.small!.desired, l2.desired('ns/c')!.large!.desired], [3, 1]);
    const sig = l2.costSignal('ns/c')!;
    assert.equal(sig.binding, true);
    assert.ok(Math.abs(sig.lambdaMultiplier - Math.sqrt(27 / 8)) < 1e-9);
    // What the runtime hands the planner for the router's objective (ScalingSource.routingCostMultiplier).
    assert.equal(l2.routingCostMultiplier('ns/c'), sig.lambdaMultiplier);
  } finally {
    await served.close();
  }
});

test("routerTierNames matches the router configuration the planner writes", () => {
  const a = cascade();
  const b = cascade((mc) => ((mc.metadata.namespace = 'other'), (mc.metadata.uid = 'x')));
  const all: ModelCascade[] = [a, b];
  const rendered = buildRouterConfig(all.map((mc) => ({ mc, observed: [] })), config) as { cascades: { name: string; tiers: { name: string }[] }[] };
  const names = routerTierNames(all);
  const fromConfig = rendered.cascades.map((c) => c.tiers.map((t) => t.name)).sort();
  assert.deepEqual([...names.values()].sort(), fromConfig);
});

test('observedReplicas and vllmMetricsUrls read the runtime\'s observed tiers', async () => {
  const { observedReplicas, vllmMetricsUrls } = await import('../../../../controller/scaling/index.js');
  const { pod, settledDeployment } = await import('../plan/fixtures.js');
  const tiers = [
    { name: 'a', deployment: settledDeployment(3), pods: [pod({ name: 'p1', ip: '10.0.0.1', ready: true }), pod({ name: 'p2', ip: '10.0.0.2', ready: false })] },
    { name: 'b', pods: [pod({ name: 'p3', ip: '10.0.0.3', ready: true })] },
  ];
  // a: the Deployment's numbers (3 asked, 3 ready by its status); b: no Deployment seen yet, counted from pods.
  assert.deepEqual(observedReplicas(tiers), { a: { current: 3, ready: 3 }, b: { current: 1, ready: 1 } });
  assert.deepEqual(vllmMetricsUrls(tiers), { a: ['http://10.0.0.1:8000/metrics'], b: ['http://10.0.0.3:8000/metrics'] });
});

test("engine readings: the loop scrapes each ready replica's vLLM /metrics and sizes the tier by its capacity", async () => {
  const { SimMetrics } = await import('../../../../router/sim/metrics.js');
  const { createServer } = await import('node:http');
  const serveText = async (text: () => Promise<string>) => {
    const server = createServer(async (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end(await text()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
  };
  // Two vLLM simulators of the small tier running 30 sequences each; the router has 30 calls in flight there
  // (a verification with n = 8 runs 8 sequences for one call: 2 sequences per call on average).
  const engines = [new SimMetrics({ modelName: 's', profile: '7b', timeScale: 1 }, () => ({ running: 30, waiting: 0, kvTokens: 0, kvUsage: 0.1 })), new SimMetrics({ modelName: 's', profile: '7b', timeScale: 1 }, () => ({ running: 30, waiting: 0, kvTokens: 0, kvUsage: 0.1 }))];
  const vllm = await Promise.all(engines.map((e) => serveText(() => e.text())));
  const router = new RouterMetrics({ processMetrics: false });
  router.upstreamHooks().onInFlight?.('c/small', 30);
  const served = await serveRouter(router);
  try {
    // The small tier leaves targetInFlightPerReplica at its default (an explicit target would be the operator's choice).
    const withArgs: ScaledCascade['spec'] = { tiers: [{ ...spec.tiers[0]!, autoscaling: { scaleDownDelaySeconds: 30 }, vllm: { args: ['--max-num-seqs', '64'] } }, spec.tiers[1]!] };
    const scraper = new RouterScraper({ urls: () => [served.url] });
    const loop = new AutoscalerLoop({
      scrape: () => scraper.scrape(),
      cascades: () => [{ key: 'ns/c', spec: withArgs, routerTiers: ['c/small', 'c/large'], observed: { small: { current: 2, ready: 2 }, large: { current: 1, ready: 1 } }, vllmMetricsUrls: { small: vllm.map((v) => v.url) } }],
      intervalSeconds: 10,
      now: () => 0,
    });
    await loop.tick();
    const small = loop.desired('ns/c')!.small!;
    // 60 sequences; capacity 64 (the spec's --max-num-seqs), planned to 90% with headroom: 2 replicas (not 3 at 10 calls each).
    assert.match(small.reason, /60 sequences in flight \(30 calls x 2\) at 30\/replica; capacity 64 \(max-num-seqs\)/);
    assert.equal(small.desired, 2);
    // The large tier has no vLLM URLs: the fixed target, as before.
    assert.match(loop.desired('ns/c')!.large!.reason, /\/ target 5/);
    // The same readings with the spec's own target (10 in flight per replica): the operator's target, 30 / 10 -> 3.
    const explicit = new AutoscalerLoop({
      scrape: () => scraper.scrape(),
      cascades: () => [{ key: 'ns/c', spec, routerTiers: ['c/small', 'c/large'], observed: { small: { current: 2, ready: 2 }, large: { current: 1, ready: 1 } }, vllmMetricsUrls: { small: vllm.map((v) => v.url) } }],
      intervalSeconds: 10,
      now: () => 0,
    });
    await explicit.tick();
    assert.equal(explicit.desired('ns/c')!.small!.desired, 3);
    assert.match(explicit.desired('ns/c')!.small!.reason, /in-flight 30 \(300s avg\) \/ target 10 -> 3/);
  } finally {
    await served.close();
    for (const v of vllm) await v.close();
  }
});

test('tierInput reads --max-num-seqs from the spec\'s vLLM arguments, in either form', async () => {
  const { maxNumSeqsOf, tierInput } = await import('../../../../controller/autoscale/index.js');
  assert.equal(maxNumSeqsOf({ vllm: { args: ['--max-num-seqs', '48'] } }), 48);
  assert.equal(maxNumSeqsOf({ vllm: { args: ['--enforce-eager', '--max-num-seqs=32'] } }), 32);
  assert.equal(maxNumSeqsOf({ vllm: { args: ['--max-num-seqs', 'many'] } }), undefined);
  assert.equal(maxNumSeqsOf({}), undefined);
  const t = tierInput({ ...spec.tiers[0]!, vllm: { args: ['--max-num-seqs=16'] } }, { current: 1, ready: 1, inFlight: 0 });
  assert.equal(t.maxNumSeqs, 16);
  assert.equal('maxNumSeqs' in tierInput(spec.tiers[0]!, { current: 1, ready: 1, inFlight: 0 }), false);
  // An explicit target in the spec keeps the fixed target; the default leaves sizing to the capacity model.
  assert.equal(t.targetExplicit, true);
  assert.equal(tierInput({ ...spec.tiers[0]!, autoscaling: {} }, { current: 1, ready: 1, inFlight: 0 }).targetExplicit, undefined);
});
