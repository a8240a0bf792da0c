import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { exampleCascade } from '../../../../controller/api/example.js';
import { buildRouterConfig, planRouterConfigMap, readyEndpoints } from '../../../../controller/plan/index.js';
import type { ObservedTier } from '../../../../controller/plan/types.js';
import { PomdpPolicySchema, RouterConfigSchema, type RouterConfig } from '../../../../router/config/schema.js';
import { cascade, config, pod } from './fixtures.js';

function observed(): ObservedTier[] {
  return [
    {
      name: 'mistral-7b',
      pods: [
        pod({ name: 'b', ip: '10.0.0.12', ready: true }),
        pod({ name: 'a', ip: '10.0.0.9', ready: true }),
        pod({ name: 'c', ip: '10.0.0.13', ready: false }),
        pod({ name: 'd', ip: '10.0.0.14', ready: true, terminating: true }),
      ],
    },
    { name: 'llama-2-13b', pods: [pod({ name: 'e', unschedulable: '0/2 nodes are available: 2 Insufficient nvidia.com/gpu.' })] },
  ];
}

/** The pomdp policy fields the controller sets (the router's schema may default more, e.g. costs). */
function pomdp(rc: RouterConfig, i = 0): Record<string, unknown> {
  const p = rc.cascades[i]!.policy as Record<string, unknown> | undefined;
  assert.equal(p?.type, 'pomdp');
  const o = p.objective as Record<string, unknown>;
  const objective = 'lambda' in o ? { lambda: o.lambda } : { gpuSecondsPerRequest: o.gpuSecondsPerRequest };
  return { type: p.type, model: p.model, classifier: p.classifier, objective };
}

function routerConfig(cm: ReturnType<typeof planRouterConfigMap>): RouterConfig {
  const text = cm.data?.['router.yaml'];
  assert.ok(text, 'router.yaml key');
  const parsed = RouterConfigSchema.safeParse(parse(text));
  assert.ok(parsed.success, `RouterConfigSchema refused the rendered configuration: ${parsed.success ? '' : parsed.error.message}`);
  return parsed.data;
}

test('the ConfigMap goes where the controller configuration says, under router.yaml, and the router accepts it', () => {
  const cm = planRouterConfigMap([{ mc: cascade(), observed: observed() }], config);
  assert.equal(cm.metadata?.name, config.router.configMapName);
  assert.equal(cm.metadata?.namespace, config.router.configMapNamespace);
  const rc = routerConfig(cm);
  assert.equal(rc.cascades.length, 1);
  const c = rc.cascades[0]!;
  assert.equal(c.name, 'ladder');
  assert.deepEqual(
    c.tiers.map((t) => [t.name, t.model, t.gpusPerReplica]),
    [
      ['ladder/mistral-7b', 'Mistral-7B-v0.1', 1],
      ['ladder/llama-2-13b', 'Llama-2-13b-hf', 1],
      ['ladder/llama-2-70b', 'Llama-2-70b-hf', 4],
    ],
  );
});

test('endpoints: Ready, not Terminating pods only, http://<podIP>:8000, sorted', () => {
  const rc = routerConfig(planRouterConfigMap([{ mc: cascade(), observed: observed() }], config));
  assert.deepEqual(rc.cascades[0]!.tiers[0]!.endpoints, ['http://10.0.0.12:8000', 'http://10.0.0.9:8000']);
  assert.deepEqual(rc.cascades[0]!.tiers[1]!.endpoints, []);
  assert.deepEqual(rc.cascades[0]!.tiers[2]!.endpoints, []);
  assert.deepEqual(readyEndpoints([pod({ name: 'v6', ip: 'fd00::5', ready: true })]), ['http://[fd00::5]:8000']);
});

test('pod order does not change the output (no writes in steady state)', () => {
  const a = planRouterConfigMap([{ mc: cascade(), observed: observed() }], config);
  const shuffled = observed().map((o) => ({ ...o, pods: [...o.pods].reverse() })).reverse();
  const other = exampleCascade('another');
  const b = planRouterConfigMap([{ mc: other, observed: [] }, { mc: cascade(), observed: shuffled }], config);
  const c = planRouterConfigMap([{ mc: cascade(), observed: shuffled }, { mc: other, observed: [] }], config);
  assert.equal(b.data!['router.yaml'], c.data!['router.yaml']);
  assert.equal(a.data!['router.yaml'], planRouterConfigMap([{ mc: cascade(), observed: shuffled }], config).data!['router.yaml']);
});

test('spec.routing becomes the cascade\'s pomdp policy and the verification settings', () => {
  const rc = routerConfig(planRouterConfigMap([{ mc: cascade(), observed: [] }], config));
  assert.deepEqual(pomdp(rc), { type: 'pomdp', model: 'builtin:default-ladder', classifier: true, objective: { lambda: 0.3 } });
  assert.equal(rc.verification.samples, 8);
  assert.equal(rc.verification.temperature, 1);

  const budget = cascade((m) => {
    m.spec.routing = { classifier: 'none', objective: { gpuSecondsPerRequest: 1.5 }, verifier: { temperature: 0.7 } };
  });
  const rb = routerConfig(planRouterConfigMap([{ mc: budget, observed: [] }], config));
  assert.deepEqual(pomdp(rb), { type: 'pomdp', model: 'builtin:default-ladder', classifier: false, objective: { gpuSecondsPerRequest: 1.5 } });
  assert.equal(rb.verification.temperature, 0.7);

  const dir = cascade((m) => {
    m.spec.routing = { classifier: '/models/my-ladder' };
  });
  const rd = routerConfig(planRouterConfigMap([{ mc: dir, observed: [] }], config));
  assert.equal(pomdp(rd).model, '/models/my-ladder');
  assert.equal(pomdp(rd).classifier, true);
  // No objective in the spec: none in the rendered file, so the router's own default applies.
  const raw = buildRouterConfig([{ mc: dir, observed: [] }], config) as { cascades: { policy: Record<string, unknown> }[] };
  assert.deepEqual(raw.cascades[0]!.policy, { classifier: true, model: '/models/my-ladder', type: 'pomdp' });
});

test('each cascade has its own policy; the shipped 3-tier model is not given to a ladder of another length', () => {
  const two = exampleCascade('two');
  two.spec.tiers = two.spec.tiers.slice(0, 2);
  delete two.spec.maxGpus;
  const own = exampleCascade('own');
  own.spec.tiers = own.spec.tiers.slice(0, 2);
  own.spec.routing = { classifier: '/models/two-tier', objective: { lambda: 1 } };
  const rc = routerConfig(planRouterConfigMap([{ mc: cascade(), observed: [] }, { mc: two, observed: [] }, { mc: own, observed: [] }], config));
  const byName = Object.fromEntries(rc.cascades.map((c) => [c.name, c.policy]));
  assert.equal(byName.ladder?.type, 'pomdp');
  assert.deepEqual(byName.two, { type: 'threshold', threshold: 0.5 });
  assert.equal((byName.own as Record<string, unknown>).model, '/models/two-tier');
});

test('config.router.base supplies the other router settings; its policy is inherited by cascades without routing', () => {
  const withBase = structuredClone(config);
  withBase.router.base = { server: { host: '0.0.0.0', port: 8080 }, retry: { attemptsPerTier: 3 }, policy: { type: 'threshold', threshold: 0.7 }, verification: { maxTokens: 100 } };
  const noRouting = cascade((m) => delete m.spec.routing);
  const rc = routerConfig(planRouterConfigMap([{ mc: noRouting, observed: [] }], withBase));
  assert.equal(rc.server.host, '0.0.0.0');
  assert.equal(rc.retry.attemptsPerTier, 3);
  assert.deepEqual(rc.policy, { type: 'threshold', threshold: 0.7 });
  assert.equal(rc.cascades[0]!.policy, undefined);
  // With routing set, the cascade's policy wins and the base's other verification fields stay.
  const rr = routerConfig(planRouterConfigMap([{ mc: cascade(), observed: [] }], withBase));
  assert.equal(rr.cascades[0]!.policy?.type, 'pomdp');
  assert.equal(rr.verification.maxTokens, 100);
  assert.equal(rr.verification.samples, 8);
  // Without base.policy and without routing: the POMDP with its defaults.
  const rn = routerConfig(planRouterConfigMap([{ mc: noRouting, observed: [] }], config));
  assert.equal(pomdp(rn).model, 'builtin:default-ladder');
});

test('cascades are sorted; a name used in two namespaces is qualified with the namespace', () => {
  const a = exampleCascade('ladder', 'team-b');
  const b = exampleCascade('ladder', 'team-a');
  const c = exampleCascade('chat', 'team-a');
  const rc = routerConfig(planRouterConfigMap([{ mc: a, observed: [] }, { mc: b, observed: [] }, { mc: c, observed: [] }], config));
  assert.deepEqual(rc.cascades.map((x) => x.name), ['chat', 'team-a/ladder', 'team-b/ladder']);
  assert.equal(rc.cascades[1]!.tiers[0]!.name, 'team-a/ladder/mistral-7b');
});

test('an invalid cascade is left out so it cannot break the router for the others', () => {
  const bad = exampleCascade('broken');
  bad.spec.tiers[0]!.gpuProfile = 'no-such-profile';
  const rc = routerConfig(planRouterConfigMap([{ mc: bad, observed: [] }, { mc: cascade(), observed: [] }], config));
  assert.deepEqual(rc.cascades.map((x) => x.name), ['ladder']);
});

test('a local-runtime pod advertises its own port through its http container port', () => {
  const p = pod({ name: 'local', ip: '127.0.0.1', ready: true });
  p.spec!.containers[0]!.ports = [{ name: 'http', containerPort: 41234 }];
  assert.deepEqual(readyEndpoints([p]), ['http://127.0.0.1:41234']);
});

test('a binding GPU cap (cost multiplier from the autoscaler) makes GPU-seconds dearer in the routing objective', () => {
  const lambdaOf = (mc: ReturnType<typeof cascade>, costMultiplier?: number) =>
    pomdp(routerConfig(planRouterConfigMap([{ mc, observed: [], ...(costMultiplier !== undefined ? { costMultiplier } : {}) }], config))).objective;
  const withLambda = cascade((m) => {
    m.spec.routing = { objective: { lambda: 0.2 } };
  });
  assert.deepEqual(lambdaOf(withLambda), { lambda: 0.2 });
  assert.deepEqual(lambdaOf(withLambda, 1), { lambda: 0.2 });
  assert.deepEqual(lambdaOf(withLambda, 2), { lambda: 0.4 });
  // Rounded to steps of 0.05, so a wobbling signal does not rewrite the router's configuration.
  assert.deepEqual(lambdaOf(withLambda, 1.51), lambdaOf(withLambda, 1.49));
  assert.deepEqual(lambdaOf(withLambda, 1.5), { lambda: 0.3 });
  // A budget is divided instead.
  const withBudget = cascade((m) => {
    m.spec.routing = { objective: { gpuSecondsPerRequest: 1.2 } };
  });
  assert.deepEqual(lambdaOf(withBudget, 1.5), { gpuSecondsPerRequest: 0.8 });
  // No objective in the spec: the router's default lambda times the multiplier.
  const noObjective = cascade((m) => {
    m.spec.routing = {};
  });
  const routerDefault = PomdpPolicySchema.parse({ type: 'pomdp' }).objective as { lambda: number };
  assert.deepEqual(lambdaOf(noObjective, 2), { lambda: Number((routerDefault.lambda * 2).toPrecision(6)) });
  // Multipliers at or below 1 change nothing.
  assert.deepEqual(lambdaOf(withLambda, 0.5), { lambda: 0.2 });
});
