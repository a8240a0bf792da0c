import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../../router/config/load.js';
import { prepareRouting } from '../../../router/server/routing.js';
import { RoutingModelLoader } from '../../../router/server/routing-models.js';

test('the shipped example configuration is valid', () => {
  const file = fileURLToPath(new URL('../../../../router/config/example.yaml', import.meta.url));
  const c = loadConfigFile(file);
  assert.deepEqual(c.cascades[0]!.tiers.map((t) => t.gpusPerReplica), [1, 1, 4]);
});

test('its POMDP policy loads with the shipped model for its cascade', async () => {
  const c = loadConfigFile(fileURLToPath(new URL('../../../../router/config/example.yaml', import.meta.url)));
  const routing = await prepareRouting(c, new RoutingModelLoader());
  assert.equal(routing.get(c.cascades[0]!.name)!.policy.name, 'pomdp');
});
