import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../../router/config/load.js';

test('the shipped example configuration is valid', () => {
  const file = fileURLToPath(new URL('../../../../router/config/example.yaml', import.meta.url));
  const c = loadConfigFile(file);
  assert.deepEqual(c.cascades[0]!.tiers.map((t) => t.gpusPerReplica), [1, 1, 4]);
});
