// Scale from zero over real HTTP, with the openai SDK as the client and simulated vLLM tiers: a tier with no
// endpoints holds its requests until a configuration reload gives it one, counts them as in flight for the
// autoscaler meanwhile, and hands them to a warm tier when the hold expires, saying so in headers and body.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import OpenAI from 'openai';
import { stringify } from 'yaml';
import type { RouterConfig } from '../../../router/config/schema.js';
import { startStack, type Stack } from '../../helpers/stack.js';

type Tiermix = {
  tier: string;
  reason: string;
  scale_from_zero?: { held_seconds: number; holds: { tier: string; seconds: number; outcome: string }[]; fallback_from: string[] };
};

const until = async (cond: () => Promise<boolean> | boolean, ms = 5000, what = 'condition') => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`${what}: not met in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** The configuration with these tiers' endpoints removed (scaled to zero). */
function withCold(config: RouterConfig, cold: string[], holdSeconds: number): RouterConfig {
  const next = structuredClone(config);
  next.scaleFromZero.holdSeconds = holdSeconds;
  for (const t of next.cascades[0]!.tiers) if (cold.includes(t.name)) t.endpoints = [];
  return next;
}

async function metric(stack: Stack, name: string, tier: string): Promise<number | null> {
  const text = await (await fetch(`${stack.router.url}/metrics`)).text();
  const m = new RegExp(`^${name}\\{[^}]*tier="${tier}"[^}]*\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

/** ConfigMap-style atomic write. */
function writeConfig(file: string, config: RouterConfig) {
  writeFileSync(`${file}.tmp`, stringify(config));
  renameSync(`${file}.tmp`, file);
}

const ask = [{ role: 'user' as const, content: 'What is the capital of Peru?' }];

/** A stack whose `cold` tiers have no endpoints (hold budget `holdSeconds`), closed after `body`. */
async function withColdStack(cold: string[], holdSeconds: number, body: (stack: Stack) => Promise<void>): Promise<void> {
  const stack = await startStack();
  try {
    await stack.router.reload(withCold(stack.config, cold, holdSeconds));
    await body(stack);
  } finally {
    await stack.close();
  }
}

describe('scale from zero', () => {
  it('a routed request for a tier with no endpoints is held, counted in flight, and served once a reload brings an endpoint', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tiermix-sfz-')), 'router.yaml');
    // threshold 0: the first tier's answer is returned, so the tier that was held is the one that answers.
    const stack = await startStack({ config: { policy: { type: 'threshold', threshold: 0 } }, router: { configFile: file, watchIntervalMs: 50 } });
    try {
      // The smallest tier (where every routed request starts) at zero replicas.
      const cold = withCold(stack.config, ['mistral-7b'], 10);
      writeConfig(file, cold);
      await until(() => stack.router.getState().config.cascades[0]!.tiers[0]!.endpoints.length === 0, 5000, 'cold configuration applied');
      const models = (await stack.openai.models.list()).data as unknown as { id: string; tiermix: { warm_tiers?: string[]; endpoints?: number } }[];
      assert.deepEqual(models.find((m) => m.id === 'ladder')!.tiermix.warm_tiers, ['llama-2-13b', 'llama-2-70b']);
      assert.equal(models.find((m) => m.id === 'mistral-7b')!.tiermix.endpoints, 0);
      assert.equal(models.find((m) => m.id === 'llama-2-13b')!.tiermix.endpoints, 1);

      const started = Date.now();
      const pending = stack.openai.chat.completions.create({ model: 'ladder', messages: ask, max_tokens: 16 }).withResponse();
      await until(() => stack.router.holds.heldCounts().get('mistral-7b') === 1, 5000, 'request held');
      assert.equal(await metric(stack, 'tiermix_tier_in_flight_requests', 'mistral-7b'), 1, 'the held request is in flight for the tier (the autoscaler scales it from zero)');
      assert.equal(await metric(stack, 'tiermix_tier_held_requests', 'mistral-7b'), 1);
      const ready = await (await fetch(`${stack.router.url}/readyz`)).json() as { ready: boolean; cascades: { warm_tiers: string[]; tiers: { name: string; held: number }[] }[] };
      assert.equal(ready.ready, true, 'the router stays ready while it holds requests for a tier at zero');
      assert.deepEqual(ready.cascades[0]!.warm_tiers, ['llama-2-13b', 'llama-2-70b']);
      assert.equal(ready.cascades[0]!.tiers[0]!.held, 1);

      // 0.5 s into the hold the controller writes the tier's first Ready pod into the file.
      const heldSeen = Date.now();
      await new Promise((r) => setTimeout(r, 500));
      const written = Date.now();
      writeConfig(file, { ...stack.config, scaleFromZero: cold.scaleFromZero });
      await until(() => stack.router.getState().config.cascades[0]!.tiers[0]!.endpoints.length === 1, 5000, 'warm configuration applied');
      const applied = Date.now();
      const { data, response } = await pending;
      const answered = Date.now();
      const tiermix = (data as unknown as { tiermix: Tiermix }).tiermix;
      assert.equal(response.headers.get('x-tiermix-tier'), 'mistral-7b');
      assert.equal(response.headers.get('x-tiermix-fallback-from'), null);
      const held = Number(response.headers.get('x-tiermix-held-seconds'));
      assert.ok(held >= 0.5 && held < 5, `held ${held}s`);
      assert.deepEqual(tiermix.scale_from_zero!.holds.map((h) => [h.tier, h.outcome]), [['mistral-7b', 'endpoint']]);
      assert.ok(data.choices[0]!.message.content);
      assert.equal(await metric(stack, 'tiermix_tier_held_requests', 'mistral-7b'), 0);
      console.log(
        `# hold: request held ${heldSeen - started} ms after it was sent; file written 500 ms later; reload applied ${applied - written} ms after the write; ` +
          `answer (mistral-7b answer + verification) ${answered - applied} ms after the reload; held ${held.toFixed(3)} s`,
      );
    } finally {
      await stack.close();
    }
  });

  it('a pinned request is released by reload() itself, on the new state\'s client', () =>
    withColdStack(['llama-2-70b'], 10, async (stack) => {
      const pending = stack.openai.completions.create({ model: 'llama-2-70b', prompt: 'Say hi', max_tokens: 4 }).withResponse();
      await until(() => stack.router.holds.heldCounts().get('llama-2-70b') === 1);
      const t0 = performance.now();
      await stack.router.reload({ ...stack.config, scaleFromZero: { holdSeconds: 10 } });
      const { response } = await pending;
      const ms = performance.now() - t0;
      assert.equal(response.headers.get('x-tiermix-tier'), 'llama-2-70b');
      const sim = stack.sims[2]![0]!;
      const served = await (await fetch(`${sim.url}/metrics`)).text();
      assert.match(served, /vllm:request_success_total\{[^}]*\} [1-9]/, 'the 70B replica served it');
      console.log(`# pinned hold: reload() -> answer ${ms.toFixed(1)} ms (one 70B call, simulated x0.01)`);
    }));

  it('when the hold expires, the nearest warm tier serves it and the response says so', () =>
    withColdStack(['llama-2-70b'], 0.6, async (stack) => {
      // Pinned to the cold top tier: the largest warm tier below serves it.
      const t0 = Date.now();
      const { data, response } = await stack.openai.chat.completions.create({ model: 'llama-2-70b', messages: ask, max_tokens: 8 }).withResponse();
      const waited = Date.now() - t0;
      const tiermix = (data as unknown as { tiermix: Tiermix }).tiermix;
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-tiermix-tier'), 'llama-2-13b');
      assert.equal(response.headers.get('x-tiermix-fallback-from'), 'llama-2-70b');
      assert.ok(Number(response.headers.get('x-tiermix-held-seconds')) >= 0.55, response.headers.get('x-tiermix-held-seconds') ?? '');
      assert.ok(waited >= 550, `answered after ${waited} ms`);
      assert.equal(tiermix.tier, 'llama-2-13b');
      assert.match(tiermix.reason, /pinned to llama-2-70b, which has no replica after holding 0\.\ds; served by warm tier llama-2-13b/);
      assert.deepEqual(tiermix.scale_from_zero!.fallback_from, ['llama-2-70b']);
      assert.equal(data.model, 'Llama-2-13b-hf', 'the body is the warm tier\'s own answer');

      // Routed, with the smallest tier cold: the smallest warm tier above serves it.
      await stack.router.reload(withCold(stack.config, ['mistral-7b'], 0.3));
      const routed = await stack.openai.completions.create({ model: 'ladder', prompt: 'Question: 2+2?\nAnswer:', max_tokens: 8 }).withResponse();
      const r = (routed.data as unknown as { tiermix: Tiermix }).tiermix;
      assert.notEqual(routed.response.headers.get('x-tiermix-tier'), 'mistral-7b');
      assert.equal(routed.response.headers.get('x-tiermix-fallback-from'), 'mistral-7b');
      assert.deepEqual(r.scale_from_zero!.holds.map((h) => [h.tier, h.outcome]), [['mistral-7b', 'expired']]);
      const expired = await metric(stack, 'tiermix_hold_seconds_count', 'mistral-7b');
      assert.equal(expired, 1);
    }));

  it('a client that disconnects while held is released at once', () =>
    withColdStack(['llama-2-70b'], 30, async (stack) => {
      const ac = new AbortController();
      const pending = stack.openai.completions.create({ model: 'llama-2-70b', prompt: 'hi', max_tokens: 4 }, { signal: ac.signal });
      await until(() => stack.router.holds.heldCounts().get('llama-2-70b') === 1);
      const t0 = Date.now();
      ac.abort();
      await assert.rejects(pending, OpenAI.APIUserAbortError);
      await until(() => (stack.router.holds.heldCounts().get('llama-2-70b') ?? 0) === 0, 2000, 'hold released');
      const releasedMs = Date.now() - t0;
      assert.equal(await metric(stack, 'tiermix_tier_in_flight_requests', 'llama-2-70b'), 0);
      const text = await (await fetch(`${stack.router.url}/metrics`)).text();
      assert.match(text, /tiermix_hold_seconds_count\{tier="llama-2-70b",outcome="aborted"\} 1/);
      console.log(`# client gone while held: released ${releasedMs} ms after the abort`);
    }));

  it('no tier has a replica: an OpenAI-shaped 503 after the hold', () =>
    withColdStack(['mistral-7b', 'llama-2-13b', 'llama-2-70b'], 0.2, async (stack) => {
      await assert.rejects(stack.openai.completions.create({ model: 'ladder', prompt: 'hi', max_tokens: 4 }), (e: unknown) => {
        assert.ok(e instanceof OpenAI.APIError);
        assert.equal(e.status, 503);
        assert.equal((e.error as { code?: string }).code, 'upstream_unavailable');
        assert.match(e.message, /Tier mistral-7b has no replica \(held 0\.\ds for one to start\), and no other tier of cascade ladder has one/);
        return true;
      });
    }));
});
