// Hot reload from the configuration file while requests are in flight.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { startStack } from '../../helpers/stack.js';

const until = async (cond: () => Promise<boolean> | boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail('condition not met in time');
};

test('a changed file is applied without dropping requests in flight; an invalid one is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tiermix-reload-'));
  const file = join(dir, 'router.yaml');
  // Slow enough that requests are in flight across the reload (modelled seconds x 0.2).
  const stack = await startStack({ timeScale: 0.2, router: { configFile: file, watchIntervalMs: 50 } });
  try {
    writeFileSync(file, stringify(stack.config));
    const before = Date.now();
    const inFlight = Array.from({ length: 12 }, (_, i) =>
      stack.openai.completions.create({ model: 'ladder', prompt: `Explain topic ${i} in detail.`, max_tokens: 200 }),
    );
    // Every request has reached the router (and captured the current state) before the file changes.
    await until(async () => (await stack.router.metrics.routerInFlight.get()).values[0]?.value === 12);

    // Rename the cascade and drop the middle tier.
    const next = structuredClone(stack.config);
    next.cascades[0]!.name = 'ladder-v2';
    next.cascades[0]!.tiers.splice(1, 1);
    writeFileSync(file, stringify(next));
    await until(() => stack.router.getState().cascades.has('ladder-v2'));
    const results = await Promise.allSettled(inFlight);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(failed.length, 0, `requests in flight failed: ${failed.map((f) => String((f as PromiseRejectedResult).reason)).join('; ')}`);
    assert.ok(Date.now() - before > 150, 'requests were really in flight across the reload');

    const r = await stack.openai.completions.create({ model: 'ladder-v2', prompt: 'hi', max_tokens: 4 });
    assert.equal(r.choices.length, 1);
    const gone = await fetch(`${stack.router.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ model: 'llama-2-13b', prompt: 'x' }) });
    assert.equal(gone.status, 404);

    writeFileSync(file, 'cascades:\n  - name: broken\n    tiers: []\n');
    await until(async () => /tiermix_config_reloads_total\{result="error"\} 1/.test(await (await fetch(`${stack.router.url}/metrics`)).text()));
    assert.ok(stack.router.getState().cascades.has('ladder-v2'), 'the last valid configuration stays in force');
  } finally {
    await stack.close();
  }
});
