// The hand check of the usual request against the zod schemas it stands in for: whatever it accepts, zod
// accepts with the same values in every field the schemas know; and it does accept the usual requests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatRequestSchema, CompletionRequestSchema } from '../../../router/sim/protocol.js';
import { checkedChatRequest, checkedCompletionRequest } from '../../../router/sim/request-check.js';
import { seededRng, type Rng } from '../../../router/sim/rng.js';
import { buildVerificationPrompt, VERIFY_STOP } from '../../../router/verify/prompt.js';

const COMMON_KEYS = ['model', 'n', 'temperature', 'stop', 'stream', 'stream_options', 'seed', 'max_tokens'];
const COMPLETION_KEYS = [...COMMON_KEYS, 'prompt', 'logprobs'];
const CHAT_KEYS = [...COMMON_KEYS, 'messages', 'max_completion_tokens', 'logprobs', 'top_logprobs'];

// Values of every kind, valid for some fields and not for others.
const VALUES: unknown[] = [
  undefined, null, true, false, 0, -0, 1, 2, 8, 20, 21, 250, 256, 257, -1, 1.5, 0.7, 1e20, 2 ** 53, -(2 ** 53), '', 'x', 'Mistral',
  [], ['a'], ['a', ''], ['a', 1], [1, 2], [[1], [2]], [[]], {}, { include_usage: true }, { include_usage: 'y' }, [{}],
  [{ role: 'user', content: 'hi' }], [{ role: '', content: 'x' }], [{ role: 'user', content: null }], [{ role: 'user' }],
  [{ role: 'user', content: 5 }], [{ role: 'user', content: [{ type: 'text', text: 'a' }] }], [{ role: 'user', content: 'a', name: 'n' }],
];

const PROMPTS: unknown[] = ['x', '', ['a'], ['a', ''], ['a', 1], [1, 2], [[1], [2]], [], 5, null];
const MESSAGES: unknown[] = VALUES.filter((v) => Array.isArray(v) && v.some((m) => typeof m === 'object' && m !== null));
const pickFrom = (rng: Rng, list: readonly unknown[]) => list[Math.floor(rng() * list.length)];

function randomBody(rng: Rng, keys: readonly string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const key of keys) if (rng() < 0.3) body[key] = pickFrom(rng, VALUES);
  if (rng() < 0.3) body.top_k = 3; // unknown fields are ignored
  return body;
}

function agreesWithZod(checked: unknown, body: unknown, schema: typeof CompletionRequestSchema | typeof ChatRequestSchema, keys: readonly string[]): void {
  if (checked === null) return;
  assert.equal(checked, body, 'the check hands back the body itself');
  const parsed = schema.safeParse(body);
  assert.ok(parsed.success, `zod refuses what the check accepted: ${JSON.stringify(body)}`);
  const data = parsed.data as Record<string, unknown>;
  for (const key of keys) assert.deepEqual((body as Record<string, unknown>)[key], data[key], `${key} of ${JSON.stringify(body)}`);
}

describe('request check', () => {
  const kinds = [
    { kind: 'completions', seed: 5, keys: COMPLETION_KEYS, field: 'prompt', values: PROMPTS, check: checkedCompletionRequest, schema: CompletionRequestSchema },
    { kind: 'chat', seed: 6, keys: CHAT_KEYS, field: 'messages', values: MESSAGES, check: checkedChatRequest, schema: ChatRequestSchema },
  ] as const;
  for (const k of kinds) {
    it(`accepts only what zod accepts, with the same field values (${k.kind})`, () => {
      const rng = seededRng(k.seed);
      let accepted = 0;
      for (let i = 0; i < 20000; i++) {
        const body = randomBody(rng, k.keys);
        if (rng() < 0.8) body[k.field] = pickFrom(rng, k.values as readonly unknown[]);
        const checked = k.check(body);
        if (checked) accepted++;
        agreesWithZod(checked, body, k.schema, k.keys);
      }
      assert.ok(accepted > 200, `only ${accepted} random bodies passed; the comparison says little`);
    });
  }

  it("takes the router's answer and verification calls and a plain chat, and leaves other forms to zod", () => {
    const prompt = buildVerificationPrompt({ context: '', question: 'Q?', answer: 'A.' });
    assert.ok(checkedCompletionRequest({ model: 'm', prompt: 'Name one use of a bridge.', max_tokens: 16 }));
    assert.ok(checkedCompletionRequest({ model: 'm', prompt, n: 8, temperature: 1, max_tokens: 250, stop: [VERIFY_STOP] }));
    assert.ok(checkedChatRequest({ model: 'm', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], stream: true }));
    for (const other of [{ prompt: [1, 2] }, { prompt: [[1]] }, {}, [], null, 'x']) assert.equal(checkedCompletionRequest(other), null);
    assert.equal(checkedChatRequest({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }] }] }), null);
  });
});
