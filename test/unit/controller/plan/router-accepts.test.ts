// The rendered router configuration is accepted by the router itself, not only by its schema: the router's routing
// setup (prepareRouting) loads the policies' models and checks them against each cascade (tier count, verifier k).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { exampleCascade } from '../../../../controller/api/example.js';
import { planRouterConfigMap } from '../../../../controller/plan/index.js';
import { BUILTIN_MODEL_TIERS, BUILTIN_MODEL_VERIFIER_SAMPLES } from '../../../../controller/plan/routing.js';
import { RouterConfigSchema } from '../../../../router/config/schema.js';
import { RoutingModelLoader } from '../../../../router/server/routing-models.js';
import { prepareRouting } from '../../../../router/server/routing.js';
import { config } from './fixtures.js';

const repo = join(fileURLToPath(new URL('.', import.meta.url)), '../../../../..');

test('the planner\'s idea of the shipped routing model matches its pomdp.json', () => {
  const p = JSON.parse(readFileSync(join(repo, 'router/classifier/models/default-ladder/pomdp.json'), 'utf8')) as { tiers: string[]; verifierSamples: number };
  assert.equal(p.tiers.length, BUILTIN_MODEL_TIERS);
  assert.equal(p.verifierSamples, BUILTIN_MODEL_VERIFIER_SAMPLES);
});

test('the router sets up routing for a 3-tier cascade (shipped POMDP + classifier) next to a 2-tier one', async () => {
  const two = exampleCascade('two');
  two.spec.tiers = two.spec.tiers.slice(0, 2);
  delete two.spec.maxGpus;
  const yaml = planRouterConfigMap([{ mc: exampleCascade(), observed: [] }, { mc: two, observed: [] }], config).data!['router.yaml']!;
  const rc = RouterConfigSchema.parse(parse(yaml));
  const routing = await prepareRouting(rc, new RoutingModelLoader());
  assert.deepEqual([...routing.keys()].sort(), ['ladder', 'two']);
});
