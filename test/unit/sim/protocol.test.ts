import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chatLogprobs,
  ChatRequestSchema,
  completionLogprobs,
  CompletionRequestSchema,
  describeZodError,
  errorBody,
  finishText,
  stopList,
  tokenLogprobs,
} from '../../../router/sim/protocol.js';
import { countTokens, splitTokens } from '../../../router/sim/tokens.js';

describe('tokens', () => {
  it('split into pieces that join back to the text', () => {
    const text = ' We refer to Wikipedia articles on marketing.\n\nThe answer is (C). Price: $1234.5, «ok»';
    const pieces = splitTokens(text);
    assert.equal(pieces.join(''), text);
    assert.equal(countTokens(text), pieces.length);
    assert.ok(pieces.includes(' We') && pieces.includes('\n') && pieces.includes('C'));
  });

  it('come to roughly a quarter of the characters on English prose', () => {
    const text = 'The question asks which of the following statements about photosynthesis is correct. '.repeat(20);
    const ratio = text.length / countTokens(text);
    assert.ok(ratio > 3 && ratio < 5.5, `chars per token ${ratio}`);
  });

  it('count nothing in an empty text', () => {
    assert.equal(countTokens(''), 0);
    assert.deepEqual(splitTokens(''), []);
  });
});

describe('stop and max_tokens', () => {
  const full = ' It is blue.\nVerification Decision: Correct.\n\n---\n\nContext: more';

  it('cuts at the first stop sequence and reports it as stop_reason', () => {
    const f = finishText(full, ['---'], 100);
    assert.equal(f.text, ' It is blue.\nVerification Decision: Correct.\n\n');
    assert.equal(f.finishReason, 'stop');
    assert.equal(f.stopReason, '---');
    assert.equal(f.tokenCount, splitTokens(f.text).length);
  });

  it('uses the earliest of several stop sequences', () => {
    const f = finishText(full, ['Context:', '\n'], 100);
    assert.equal(f.text, ' It is blue.');
    assert.equal(f.stopReason, '\n');
  });

  it('ends with length when max_tokens comes first', () => {
    const f = finishText(full, ['---'], 3);
    assert.equal(f.tokenCount, 3);
    assert.equal(f.text, ' It is blue');
    assert.equal(f.finishReason, 'length');
    assert.equal(f.stopReason, null);
  });

  it('ends with stop (end of sequence) when neither applies', () => {
    const f = finishText('short', ['zzz'], 10);
    assert.deepEqual([f.text, f.finishReason, f.stopReason], ['short', 'stop', null]);
  });

  it('accepts a string or a list', () => {
    assert.deepEqual(stopList('x'), ['x']);
    assert.deepEqual(stopList(['a', 'b']), ['a', 'b']);
    assert.deepEqual(stopList(null), []);
  });
});

describe('logprobs', () => {
  const tokens = splitTokens(' The answer is (B).');

  it('give the completions shape with consistent offsets and at most k alternatives', () => {
    const lp = completionLogprobs(tokenLogprobs(tokens, 3, 'x'), 0);
    assert.deepEqual(lp.tokens, tokens);
    assert.equal(lp.token_logprobs.length, tokens.length);
    assert.ok(lp.token_logprobs.every((v) => v < 0));
    assert.deepEqual(lp.text_offset.slice(0, 3), [0, 4, 11]);
    for (const [i, top] of lp.top_logprobs.entries()) {
      assert.ok(Object.keys(top).length <= 3 && Object.keys(top).length >= 1);
      assert.equal(top[tokens[i]!], lp.token_logprobs[i], 'the sampled token is listed');
      const mass = Object.values(top).reduce((s, v) => s + Math.exp(v), 0);
      assert.ok(mass <= 1 + 1e-9, 'probabilities stay below 1');
    }
  });

  it('give the chat shape with bytes', () => {
    const lp = chatLogprobs(tokenLogprobs(tokens, 2, 'y'), 2);
    assert.equal(lp.content.length, tokens.length);
    assert.deepEqual(lp.content[0]!.bytes, [...Buffer.from(' The')]);
    assert.ok(lp.content.every((c) => c.top_logprobs.length <= 2));
  });

  it('are deterministic', () => {
    assert.deepEqual(tokenLogprobs(tokens, 2, 'z'), tokenLogprobs(tokens, 2, 'z'));
  });
});

describe('request validation', () => {
  it('accepts vLLM prompt forms and passes unknown fields', () => {
    for (const prompt of ['a', ['a', 'b'], [1, 2, 3], [[1], [2, 3]]]) {
      assert.ok(CompletionRequestSchema.safeParse({ model: 'm', prompt, top_k: 5 }).success, JSON.stringify(prompt));
    }
  });

  it('names the field at fault', () => {
    const bad = CompletionRequestSchema.safeParse({ prompt: 'a', n: 0, logprobs: 50 });
    assert.ok(!bad.success);
    const message = describeZodError(bad.error);
    assert.match(message, /^n: /);
    assert.match(message, /logprobs: /);
    const chat = ChatRequestSchema.safeParse({ messages: [] });
    assert.ok(!chat.success);
    assert.match(describeZodError(chat.error), /messages/);
  });

  it('builds vLLM error bodies with the status as the code', () => {
    assert.deepEqual(errorBody(404, 'gone', 'model'), { error: { message: 'gone', type: 'NotFoundError', param: 'model', code: 404 } });
  });
});
