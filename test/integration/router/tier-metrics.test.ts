// Calls, tokens and GPU-seconds per tier on /metrics, for routed and pinned requests (streamed too), so that
// GPU-seconds per request and per 1k tokens of each tier can be read from Prometheus (docs/gpu-seconds.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startStack } from '../../helpers/stack.js';

/** Every sample of a metric as "label=value,..." -> value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) out.set(m[1]!.replace(/"/g, ''), Number(m[2]));
  return out;
}

test('every tier call is counted with its tokens next to its GPU-seconds, routed and pinned, streamed or not', async () => {
  const stack = await startStack({ config: { policy: { type: 'threshold', threshold: 0 } } });
  try {
    const routed = await stack.openai.chat.completions.create({ model: 'ladder', messages: [{ role: 'user', content: 'What is 2+2?' }], max_tokens: 16 });
    const pinned = await stack.openai.completions.create({ model: 'llama-2-70b', prompt: 'Say hi', max_tokens: 8 });
    const stream = await stack.openai.chat.completions.create({
      model: 'llama-2-13b', messages: [{ role: 'user', content: 'Count to five' }], max_tokens: 12, stream: true, stream_options: { include_usage: true },
    });
    let streamedUsage: { prompt_tokens: number; completion_tokens: number } | undefined;
    for await (const chunk of stream) if (chunk.usage) streamedUsage = chunk.usage;
    const plainStream = await stack.openai.completions.create({ model: 'llama-2-13b', prompt: 'x', max_tokens: 4, stream: true });
    for await (const _ of plainStream) void _;

    const text = await (await fetch(`${stack.router.url}/metrics`)).text();
    const calls = samples(text, 'tiermix_tier_requests_total');
    const tokens = samples(text, 'tiermix_tier_tokens_total');
    const gpu = samples(text, 'tiermix_gpu_seconds_total');
    // threshold 0: the smallest tier answers and is verified once.
    assert.equal(calls.get('cascade=ladder,tier=mistral-7b,purpose=answer'), 1);
    assert.equal(calls.get('cascade=ladder,tier=mistral-7b,purpose=verify'), 1);
    assert.equal(calls.get('cascade=ladder,tier=llama-2-70b,purpose=passthrough'), 1);
    assert.equal(calls.get('cascade=ladder,tier=llama-2-13b,purpose=passthrough'), 2, 'both streams count as calls');
    assert.equal(tokens.get('cascade=ladder,tier=mistral-7b,purpose=answer,kind=prompt'), routed.usage!.prompt_tokens);
    assert.equal(tokens.get('cascade=ladder,tier=mistral-7b,purpose=answer,kind=completion'), routed.usage!.completion_tokens);
    assert.ok(tokens.get('cascade=ladder,tier=mistral-7b,purpose=verify,kind=prompt')! > routed.usage!.prompt_tokens, 'the verification prompt is the longer one');
    assert.equal(tokens.get('cascade=ladder,tier=llama-2-70b,purpose=passthrough,kind=completion'), pinned.usage!.completion_tokens);
    // Only the stream that asked for usage carries tokens.
    assert.ok(streamedUsage);
    assert.equal(tokens.get('cascade=ladder,tier=llama-2-13b,purpose=passthrough,kind=prompt'), streamedUsage.prompt_tokens);
    assert.equal(tokens.get('cascade=ladder,tier=llama-2-13b,purpose=passthrough,kind=completion'), streamedUsage.completion_tokens);
    for (const key of ['cascade=ladder,tier=mistral-7b,purpose=answer', 'cascade=ladder,tier=mistral-7b,purpose=verify', 'cascade=ladder,tier=llama-2-70b,purpose=passthrough', 'cascade=ladder,tier=llama-2-13b,purpose=passthrough']) {
      assert.ok(gpu.get(key)! > 0, `GPU-seconds for ${key}`);
    }
    const per1k = (1000 * gpu.get('cascade=ladder,tier=llama-2-70b,purpose=passthrough')!) / (pinned.usage!.prompt_tokens + pinned.usage!.completion_tokens);
    console.log(`# llama-2-70b (simulated x0.01): ${per1k.toFixed(4)} GPU-seconds per 1k tokens for one pinned call`);
  } finally {
    await stack.close();
  }
});
