// The simulator through the official OpenAI SDK, over real HTTP on 127.0.0.1 (generated questions, no data).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { formatMmluPrompt, generatedQuestions } from '../../../router/sim/dataset.js';
import { startSimulator, type RunningSimulator } from '../../../router/sim/server.js';
import { splitTokens } from '../../../router/sim/tokens.js';
import { buildVerificationPrompt, VERIFY_STOP } from '../../../router/verify/prompt.js';
import { confidenceFrom } from '../../../router/verify/confidence.js';

const MODEL = 'mistralai/Mistral-7B-v0.1';
const question = generatedQuestions(10, 1)[3]!;

describe('simulator via the OpenAI SDK', () => {
  let sim: RunningSimulator;
  let client: OpenAI;

  before(async () => {
    sim = await startSimulator({ model: MODEL, dataDir: null, timeScale: 0.005 });
    client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 0 });
  });
  after(() => sim.close());

  it('lists the model in vLLM shape', async () => {
    const models = await client.models.list();
    assert.equal(models.data.length, 1);
    const m = models.data[0] as unknown as Record<string, unknown>;
    assert.deepEqual(
      { id: m.id, object: m.object, owned_by: m.owned_by, root: m.root, parent: m.parent, max_model_len: m.max_model_len, permission: m.permission },
      { id: MODEL, object: 'model', owned_by: 'vllm', root: MODEL, parent: null, max_model_len: 32768, permission: [] },
    );
  });

  it('answers a chat and labels the response as simulated', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: formatMmluPrompt(question) }], max_tokens: 300 })
      .withResponse();
    assert.equal(response.headers.get('x-tiermix-simulated'), 'true');
    assert.equal(response.headers.get('x-tiermix-sim-source'), 'mmlu-generated');
    assert.equal(data.object, 'chat.completion');
    assert.match(data.id, /^chatcmpl-/);
    const choice = data.choices[0]!;
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.finish_reason, 'stop');
    const pred = question.perModel['Mistral-7B-v0.1']!.pred;
    if (pred) assert.ok(choice.message.content!.includes(`The answer is (${pred})`));
    assert.equal(data.usage!.completion_tokens, splitTokens(choice.message.content!).length);
    assert.ok(data.usage!.prompt_tokens > 20);
  });

  it('returns n completions with stop and logprobs', async () => {
    const res = await client.completions.create({
      model: MODEL,
      prompt: 'Describe the water cycle in simple words.',
      n: 3,
      temperature: 0.9,
      max_tokens: 200,
      stop: ['.'],
      logprobs: 2,
    });
    assert.equal(res.object, 'text_completion');
    assert.match(res.id, /^cmpl-/);
    assert.deepEqual(res.choices.map((c) => c.index), [0, 1, 2]);
    for (const c of res.choices) {
      assert.ok(!c.text.includes('.'), 'cut before the stop sequence');
      assert.equal(c.finish_reason, 'stop');
      assert.equal((c as unknown as { stop_reason: string }).stop_reason, '.');
      assert.equal(c.logprobs!.tokens!.join(''), c.text);
      assert.equal(c.logprobs!.token_logprobs!.length, c.logprobs!.tokens!.length);
      assert.equal(c.logprobs!.text_offset![0], 0);
      assert.ok(c.logprobs!.top_logprobs!.every((t) => Object.keys(t).length <= 2));
    }
    assert.equal(res.usage!.completion_tokens, res.choices.reduce((s, c) => s + c.logprobs!.tokens!.length, 0));
  });

  it('stops at 16 tokens by default on /v1/completions, as vLLM does', async () => {
    const res = await client.completions.create({ model: MODEL, prompt: 'Tell a long story about a lighthouse keeper.' });
    assert.equal(res.choices[0]!.finish_reason, 'length');
    assert.equal(res.usage!.completion_tokens, 16);
  });

  it('streams completions as vLLM does, matching the non-streamed text', async () => {
    const prompt = formatMmluPrompt(question);
    const whole = await client.completions.create({ model: MODEL, prompt, max_tokens: 300 });
    const stream = await client.completions.create({ model: MODEL, prompt, max_tokens: 300, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.object, 'text_completion');
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text += c.text;
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    assert.equal(text, whole.choices[0]!.text);
    assert.equal(finish, 'stop');
    assert.deepEqual(usage, whole.usage);
    assert.ok(chunks > 10, 'one chunk per token');
  });

  it('streams chat with the role first and finish_reason last', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Explain tides.' }],
      stream: true,
      max_tokens: 12,
      n: 2,
    });
    const first = new Map<number, OpenAI.ChatCompletionChunk.Choice>();
    const text = new Map<number, string>();
    const finish = new Map<number, string>();
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      for (const c of chunk.choices) {
        if (!first.has(c.index)) first.set(c.index, c);
        text.set(c.index, (text.get(c.index) ?? '') + (c.delta.content ?? ''));
        if (c.finish_reason) finish.set(c.index, c.finish_reason);
      }
    }
    assert.deepEqual([...first.keys()].sort(), [0, 1]);
    for (const i of [0, 1]) {
      assert.equal(first.get(i)!.delta.role, 'assistant');
      assert.equal(finish.get(i), 'length');
      assert.equal(splitTokens(text.get(i)!).length, 12);
    }
  });

  it('gives chat logprobs with top_logprobs', async () => {
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Say something about the moon.' }],
      logprobs: true,
      top_logprobs: 3,
      max_tokens: 10,
    });
    const content = res.choices[0]!.logprobs!.content!;
    assert.equal(content.length, 10);
    assert.equal(content.map((c) => c.token).join(''), res.choices[0]!.message.content);
    assert.ok(content.every((c) => c.top_logprobs.length <= 3 && c.logprob < 0 && Array.isArray(c.bytes)));
  });

  it('answers self-verification prompts with k simulated verdicts', async () => {
    const prompt = buildVerificationPrompt({ context: '', question: formatMmluPrompt(question), answer: `The answer is (${question.answer}).` });
    const res = await client.completions.create({ model: MODEL, prompt, n: 8, temperature: 0.7, max_tokens: 60, stop: VERIFY_STOP });
    assert.equal(res.choices.length, 8);
    for (const c of res.choices) {
      assert.equal(c.finish_reason, 'stop');
      assert.match(c.text, /Verification Decision: The AI generated answer is (Correct|Incorrect)\.\n\n$/);
    }
    const verdict = confidenceFrom(res.choices.map((c) => c.text));
    assert.equal(verdict.unreadable, 0);
    assert.ok(verdict.confidence !== null);
  });

  it('raises NotFoundError for an unknown model and BadRequestError for a bad body', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && err.status === 404 && /does not exist/.test(err.message),
    );
    await assert.rejects(
      client.completions.create({ model: MODEL, prompt: 'hi', n: 0 }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.status === 400 && /n: /.test(err.message),
    );
    await assert.rejects(
      client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], top_logprobs: 2 }),
      (err: unknown) => err instanceof OpenAI.BadRequestError,
    );
    await assert.rejects(
      client.completions.create({ model: MODEL, prompt: 'hi', max_tokens: 40_000 }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /maximum context length is 32768/.test(err.message),
    );
  });

  it('returns the OpenAI error shape with the status as code', async () => {
    const res = await fetch(`${sim.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(body.error.code, 400);
    assert.equal(res.headers.get('x-tiermix-simulated'), 'true');
  });
});
