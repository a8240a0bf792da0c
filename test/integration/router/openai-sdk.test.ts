// The router as an OpenAI client sees it: the official `openai` SDK, real HTTP, simulated vLLM tiers.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { LADDER, startStack, type Stack } from '../../helpers/stack.js';

const TIER_NAMES = LADDER.map((t) => t.name);
type WithTiermix = { tiermix: { cascade: string; tier: string; confidence: number | null; gpu_seconds: number; steps: { tier: string }[] } };

describe('router through the openai SDK', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.close();
  });

  test('models lists the cascade and every tier', async () => {
    const ids = [];
    for await (const m of stack.openai.models.list()) ids.push(m.id);
    assert.deepEqual(ids.sort(), ['ladder', ...TIER_NAMES].sort());
  });

  test('a routed chat completion says which tier answered, with what confidence and cost', async () => {
    const { data, response } = await stack.openai.chat.completions
      .create({ model: 'ladder', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is the boiling point of water at sea level?' }], max_tokens: 64 })
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.ok((data.choices[0]?.message.content ?? '').length > 0);
    const t = (data as unknown as WithTiermix).tiermix;
    assert.equal(t.cascade, 'ladder');
    assert.ok(TIER_NAMES.includes(t.tier));
    assert.equal(response.headers.get('x-tiermix-tier'), t.tier);
    assert.equal(response.headers.get('x-tiermix-confidence'), t.confidence === null ? 'none' : t.confidence.toFixed(3));
    assert.ok(t.gpu_seconds > 0);
    assert.equal(Number(response.headers.get('x-tiermix-gpu-seconds')).toFixed(6), t.gpu_seconds.toFixed(6));
    assert.equal(t.steps.at(-1)!.tier, t.tier);
  });

  test('a routed completion works the same way', async () => {
    const { data, response } = await stack.openai.completions.create({ model: 'ladder', prompt: 'Question: 2+2?\nAnswer:', max_tokens: 32 }).withResponse();
    assert.equal(data.object, 'text_completion');
    assert.ok((data.choices[0]?.text ?? '').length > 0);
    assert.ok(TIER_NAMES.includes(response.headers.get('x-tiermix-tier') ?? ''));
  });

  test('a routed chat stream delivers the verified answer, then usage', async () => {
    const { data: stream, response } = await stack.openai.chat.completions
      .create({ model: 'ladder', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Name a prime number.' }], max_tokens: 48 })
      .withResponse();
    assert.ok(TIER_NAMES.includes(response.headers.get('x-tiermix-tier') ?? ''));
    let text = '';
    let finish: string | null = null;
    let usage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = true;
    }
    assert.ok(text.length > 0);
    assert.ok(finish === 'stop' || finish === 'length');
    assert.ok(usage, 'usage chunk with include_usage');
  });

  test('a routed completion stream works', async () => {
    const stream = await stack.openai.completions.create({ model: 'ladder', stream: true, prompt: 'Once upon a time', max_tokens: 16 });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    assert.ok(text.length > 0);
  });

  test('a pinned request is passed through: n samples, stop sequences, the tier named', async () => {
    const { data, response } = await stack.openai.completions
      .create({ model: 'llama-2-13b', prompt: 'List three colours:', n: 3, max_tokens: 24, temperature: 0.8 })
      .withResponse();
    assert.equal(data.choices.length, 3);
    assert.equal(data.model, 'Llama-2-13b-hf');
    assert.equal(response.headers.get('x-tiermix-tier'), 'llama-2-13b');
    assert.equal(response.headers.get('x-tiermix-confidence'), 'none');
    assert.ok(Number(response.headers.get('x-tiermix-gpu-seconds')) > 0);

    const chat = await stack.openai.chat.completions.create({ model: 'mistral-7b', messages: [{ role: 'user', content: 'Say something.' }], max_tokens: 16 });
    assert.equal(chat.model, 'Mistral-7B-v0.1');
  });

  test('a pinned stream arrives chunk by chunk as vLLM sends it, GPU-seconds in the trailer', async () => {
    const stream = await stack.openai.chat.completions.create({ model: 'llama-2-70b', stream: true, messages: [{ role: 'user', content: 'Count to five.' }], max_tokens: 20 });
    let chunks = 0;
    for await (const c of stream) if (c.choices[0]?.delta.content) chunks++;
    assert.ok(chunks > 1, `expected several content chunks, got ${chunks}`);

    // The SDK does not expose trailers; read them with node:http.
    const trailer = await new Promise<string | undefined>((resolve, reject) => {
      const url = new URL(`${stack.router.url}/v1/completions`);
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.trailers['x-tiermix-gpu-seconds']));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'mistral-7b', prompt: 'hello', stream: true, max_tokens: 8 }));
    });
    assert.ok(Number(trailer) > 0, `trailer x-tiermix-gpu-seconds=${trailer}`);
  });

  test('/v1/route returns the decision only, and the next step given observations', async () => {
    const first = await fetch(`${stack.router.url}/v1/route`, { method: 'POST', body: JSON.stringify({ model: 'ladder', messages: [{ role: 'user', content: 'hi' }] }) });
    const d1 = (await first.json()) as { decision: { action: string; tier: string; verify: boolean } };
    assert.deepEqual(d1.decision.action === 'ask' && [d1.decision.tier, d1.decision.verify], ['mistral-7b', true]);
    const next = await fetch(`${stack.router.url}/v1/route`, {
      method: 'POST',
      body: JSON.stringify({ model: 'ladder', prompt: 'hi', tiermix: { observations: [{ tier: 'mistral-7b', confidence: 0.9 }] } }),
    });
    const d2 = (await next.json()) as { decision: { action: string; tier: string; confidence: number; reason: string } };
    assert.deepEqual([d2.decision.action, d2.decision.tier, d2.decision.confidence], ['return', 'mistral-7b', 0.9]);
  });
});

describe('routing follows the verifier', () => {
  const spec = (p: number) => ({ verifier: `simulated:pc=${p},pw=${p},kappa=1000` });

  test('a tier whose verifier always approves keeps the request; one that always rejects escalates', async () => {
    const approving = await startStack({ tiers: [{ name: 's', model: 'Mistral-7B-v0.1', sim: spec(0.999) }, { name: 'l', model: 'Llama-2-70b-hf', gpusPerReplica: 4 }] });
    const rejecting = await startStack({ tiers: [{ name: 's', model: 'Mistral-7B-v0.1', sim: spec(0.001) }, { name: 'l', model: 'Llama-2-70b-hf', gpusPerReplica: 4 }] });
    try {
      for (let i = 0; i < 5; i++) {
        const prompt = `Question ${i}: what is ${i} + ${i}?`;
        const kept = await approving.openai.completions.create({ model: 'ladder', prompt, max_tokens: 16 }).withResponse();
        assert.equal(kept.response.headers.get('x-tiermix-tier'), 's');
        assert.ok(Number(kept.response.headers.get('x-tiermix-confidence')) >= 0.5);
        const up = await rejecting.openai.completions.create({ model: 'ladder', prompt, max_tokens: 16 }).withResponse();
        assert.equal(up.response.headers.get('x-tiermix-tier'), 'l');
        const steps = (up.data as unknown as WithTiermix).tiermix.steps.map((s) => s.tier);
        assert.deepEqual(steps, ['s', 'l']);
      }
      const metrics = await (await fetch(`${rejecting.router.url}/metrics`)).text();
      assert.match(metrics, /tiermix_escalations_total\{cascade="ladder",from_tier="s",to_tier="l",reason="verify"\} 5/);
      assert.match(metrics, /tiermix_requests_total\{cascade="ladder",tier="l",mode="routed",outcome="ok"\} 5/);
      assert.match(metrics, /tiermix_gpu_seconds_total\{cascade="ladder",tier="l",purpose="answer"\} [0-9.]+/);
    } finally {
      await approving.close();
      await rejecting.close();
    }
  });
});
