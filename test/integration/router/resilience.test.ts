// Retries on another replica and fallback to the next tier, against simulators with injected faults.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { startStack } from '../../helpers/stack.js';

type Tiermix = { tiermix: { tier: string; steps: { tier: string; outcome: string; reason: string }[] } };

test('a replica that answers 500 or drops connections is retried on a healthy one; no request fails', async () => {
  const stack = await startStack({ tiers: [{ name: 'only', model: 'Mistral-7B-v0.1', replicas: 3 }], config: { retry: { attemptsPerTier: 3 } } });
  try {
    stack.sims[0]![0]!.setFaults({ failRate: 1 });
    stack.sims[0]![1]!.setFaults({ dropRate: 1 });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => stack.openai.completions.create({ model: 'only', prompt: `q${i}`, max_tokens: 4 })),
    );
    assert.equal(results.length, 30);
    // The failing replicas were tried and left behind: the router saw 5xx and dropped connections.
    const metrics = await (await fetch(`${stack.router.url}/metrics`)).text();
    const attempts = (outcome: string) =>
      Number(new RegExp(`tiermix_upstream_request_seconds_count\\{tier="only",purpose="passthrough",outcome="${outcome}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    assert.equal(attempts('ok'), 30);
    assert.ok(attempts('status_5xx') >= 1 && attempts('connect') >= 1, `5xx=${attempts('status_5xx')} connect=${attempts('connect')}`);
  } finally {
    await stack.close();
  }
});

test('a dead endpoint (connection refused) is skipped', async () => {
  // Reserve a port, then free it, so nothing listens there.
  const dead = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
  const stack = await startStack({ tiers: [{ name: 'only', model: 'Mistral-7B-v0.1' }] });
  try {
    const config = structuredClone(stack.config);
    config.cascades[0]!.tiers[0]!.endpoints.unshift(`http://127.0.0.1:${dead}`);
    await stack.router.reload(config);
    for (let i = 0; i < 6; i++) {
      const r = await stack.openai.completions.create({ model: 'only', prompt: `q${i}`, max_tokens: 4 });
      assert.equal(r.choices.length, 1);
    }
  } finally {
    await stack.close();
  }
});

test('a slow replica times out and the request is retried on another', async () => {
  const stack = await startStack({ tiers: [{ name: 'only', model: 'Mistral-7B-v0.1', replicas: 2 }], timeScale: 0.01 });
  try {
    const config = structuredClone(stack.config);
    config.cascades[0]!.tiers[0]!.timeouts.requestSeconds = 0.5;
    await stack.router.reload(config);
    stack.sims[0]![0]!.setFaults({ slowFactor: 1000 }); // seconds per request instead of milliseconds
    for (let i = 0; i < 4; i++) {
      const r = await stack.openai.completions.create({ model: 'only', prompt: `q${i}`, max_tokens: 8 });
      assert.equal(r.choices.length, 1);
    }
  } finally {
    await stack.close();
  }
});

test('a routed request falls back past a failing tier, and says so', async () => {
  const stack = await startStack({
    tiers: [
      { name: 's', model: 'Mistral-7B-v0.1', sim: { failRate: 1 } },
      { name: 'm', model: 'Llama-2-13b-hf', sim: { verifier: 'simulated:pc=0.999,pw=0.999,kappa=1000' } },
      { name: 'l', model: 'Llama-2-70b-hf', gpusPerReplica: 4 },
    ],
  });
  try {
    const { data, response } = await stack.openai.completions.create({ model: 'ladder', prompt: 'What is 3 + 4?', max_tokens: 16 }).withResponse();
    assert.equal(response.headers.get('x-tiermix-tier'), 'm');
    const steps = (data as unknown as Tiermix).tiermix.steps;
    assert.deepEqual(steps.map((s) => [s.tier, s.outcome]), [['s', 'failed'], ['m', 'answered']]);
    assert.match(steps[1]!.reason, /fallback/);
    const metrics = await (await fetch(`${stack.router.url}/metrics`)).text();
    assert.match(metrics, /tiermix_escalations_total\{cascade="ladder",from_tier="s",to_tier="m",reason="fallback"\} 1/);
  } finally {
    await stack.close();
  }
});
