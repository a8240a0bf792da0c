// Bad input gets an OpenAI-shaped error with the right status, over real HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { postRaw, startStack, type Stack } from '../../helpers/stack.js';

function assertErrorShape(json: unknown, status: number, actual: number) {
  assert.equal(actual, status);
  const e = (json as { error?: Record<string, unknown> }).error;
  assert.ok(e, 'body has "error"');
  assert.equal(typeof e.message, 'string');
  assert.equal(typeof e.type, 'string');
  assert.ok(e.param === null || typeof e.param === 'string');
  assert.ok(e.code === null || typeof e.code === 'string');
  return e as { message: string; type: string; param: string | null; code: string | null };
}

describe('OpenAI-shaped errors', () => {
  let stack: Stack;
  let chat: string;
  before(async () => {
    stack = await startStack({ tiers: [{ name: 'small', model: 'Mistral-7B-v0.1' }], config: { server: { bodyLimitBytes: 4096 } } });
    chat = `${stack.router.url}/v1/chat/completions`;
  });
  after(() => stack.close());

  test('malformed JSON is a 400 invalid_json', async () => {
    const r = await postRaw(chat, '{"model": "ladder", "messages": [');
    assert.equal(assertErrorShape(r.json, 400, r.status).code, 'invalid_json');
  });

  test('a body that is not an object is a 400', async () => {
    for (const body of ['[]', '42', '"x"', 'null']) {
      const r = await postRaw(chat, body);
      assertErrorShape(r.json, 400, r.status);
    }
  });

  test('missing and mistyped fields name the parameter', async () => {
    const cases: [unknown, string][] = [
      [{ messages: [{ role: 'user', content: 'hi' }] }, 'model'],
      [{ model: 'ladder' }, 'messages'],
      [{ model: 'ladder', messages: [] }, 'messages'],
      [{ model: 'ladder', messages: [{ role: 'wizard', content: 'hi' }] }, 'messages.0.role'],
      [{ model: 'ladder', messages: [{ role: 'user', content: 'hi' }], temperature: 'hot' }, 'temperature'],
      [{ model: 'ladder', messages: [{ role: 'user', content: 'hi' }], max_tokens: -1 }, 'max_tokens'],
      [{ model: 42, messages: [{ role: 'user', content: 'hi' }] }, 'model'],
      [{ model: 'ladder', messages: [{ role: 'user', content: 'hi' }], n: 2 }, 'n'],
    ];
    for (const [body, param] of cases) {
      const r = await postRaw(chat, JSON.stringify(body));
      const e = assertErrorShape(r.json, 400, r.status);
      assert.equal(e.param, param, `${JSON.stringify(body)} -> ${e.message}`);
      assert.equal(e.type, 'invalid_request_error');
    }
    const r = await postRaw(`${stack.router.url}/v1/completions`, JSON.stringify({ model: 'ladder', prompt: { text: 'x' } }));
    assert.equal(assertErrorShape(r.json, 400, r.status).param, 'prompt');
  });

  test('an unknown model is a 404 the SDK raises as NotFoundError', async () => {
    await assert.rejects(
      stack.openai.chat.completions.create({ model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] }),
      (e: unknown) => e instanceof OpenAI.NotFoundError && /ladder/.test(e.message),
    );
  });

  test('a body over the limit is a 413', async () => {
    const r = await postRaw(chat, JSON.stringify({ model: 'ladder', messages: [{ role: 'user', content: 'x'.repeat(8000) }] }));
    assert.equal(assertErrorShape(r.json, 413, r.status).code, 'request_too_large');
  });

  test('unknown paths are 404 in the same shape', async () => {
    const r = await postRaw(`${stack.router.url}/v1/embeddings`, '{}');
    assertErrorShape(r.json, 404, r.status);
  });

  test('a request the tier rejects passes vLLM\'s 4xx through', async () => {
    await assert.rejects(
      stack.openai.completions.create({ model: 'small', prompt: 'x', max_tokens: 1_000_000 }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /context length/.test(e.message),
    );
  });

  test('a tier that fails every attempt is a 502 upstream error; the router stays up', async () => {
    stack.sims[0]![0]!.setFaults({ failRate: 1 });
    try {
      const r = await postRaw(chat, JSON.stringify({ model: 'ladder', messages: [{ role: 'user', content: 'hi' }] }));
      const e = assertErrorShape(r.json, 502, r.status);
      assert.equal(e.type, 'upstream_error');
      await assert.rejects(stack.openai.completions.create({ model: 'small', prompt: 'x' }), (err: unknown) => err instanceof OpenAI.APIError && err.status === 502);
    } finally {
      stack.sims[0]![0]!.setFaults({ failRate: 0 });
    }
    const ok = await stack.openai.completions.create({ model: 'ladder', prompt: 'x', max_tokens: 4 });
    assert.ok(ok.choices.length === 1);
  });
});

describe('API keys', () => {
  test('with keys configured, /v1 needs a valid bearer key; health and metrics stay open', async () => {
    process.env.TIERMIX_TEST_KEYS = 'k-one, k-two';
    const stack = await startStack({ tiers: [{ name: 'small', model: 'Mistral-7B-v0.1' }], config: { server: { apiKeys: { env: 'TIERMIX_TEST_KEYS' } } }, apiKey: 'k-two' });
    try {
      const ok = await stack.openai.completions.create({ model: 'ladder', prompt: 'x', max_tokens: 4 });
      assert.equal(ok.choices.length, 1);
      const wrong = new OpenAI({ baseURL: `${stack.router.url}/v1`, apiKey: 'nope', maxRetries: 0 });
      await assert.rejects(wrong.models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
      const none = await fetch(`${stack.router.url}/v1/models`);
      assertErrorShape(await none.json(), 401, none.status);
      assert.equal((await fetch(`${stack.router.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${stack.router.url}/metrics`)).status, 200);
    } finally {
      await stack.close();
      delete process.env.TIERMIX_TEST_KEYS;
    }
  });

  test('keys configured but none found refuses to start with a message that says what to fix', async () => {
    await assert.rejects(
      startStack({ tiers: [{ name: 'small', model: 'Mistral-7B-v0.1' }], config: { server: { apiKeys: { env: 'TIERMIX_NO_SUCH_VAR' } } } }),
      /no key was found/,
    );
  });
});

describe('vLLM errors passed through', () => {
  test('keep vLLM\'s status and message in the OpenAI shape (string code)', async () => {
    const stack = await startStack({ tiers: [{ name: 'small', model: 'Mistral-7B-v0.1' }] });
    try {
      const r = await postRaw(`${stack.router.url}/v1/completions`, JSON.stringify({ model: 'small', prompt: 'x', max_tokens: 10_000_000 }));
      const e = assertErrorShape(r.json, 400, r.status);
      assert.match(e.message, /context length/);
      assert.equal(e.code, '400');
    } finally {
      await stack.close();
    }
  });
});
