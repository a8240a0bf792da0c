import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sseFramesFromResponse, textPieces } from '../../../router/cascade/sse-replay.js';

const parse = (frames: string[]) => frames.filter((f) => f !== 'data: [DONE]\n\n').map((f) => JSON.parse(f.slice('data: '.length)));

test('text pieces keep every character', () => {
  const text = 'The answer is (C).\n\nBecause  two plus two is four, and nothing else.';
  assert.equal(textPieces(text, 3).join(''), text);
  assert.deepEqual(textPieces(''), []);
});

test('a chat response becomes role, content and closing chunks, then usage and [DONE]', () => {
  const body = { id: 'c1', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'It is four.' }, finish_reason: 'stop' }], usage: { total_tokens: 9 } };
  const frames = sseFramesFromResponse('chat', body, { includeUsage: true, tiermix: { tier: 't0' } });
  assert.equal(frames.at(-1), 'data: [DONE]\n\n');
  const chunks = parse(frames);
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'It is four.');
  const closing = chunks.at(-2);
  assert.equal(closing.choices[0].finish_reason, 'stop');
  assert.deepEqual(closing.tiermix, { tier: 't0' });
  assert.deepEqual(chunks.at(-1).usage, { total_tokens: 9 });
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === 'c1'));
});

test('a completion response streams its text; no usage chunk unless asked', () => {
  const body = { id: 'k', created: 1, model: 'm', choices: [{ index: 0, text: 'four', finish_reason: 'length' }], usage: { total_tokens: 2 } };
  const chunks = parse(sseFramesFromResponse('completion', body, { includeUsage: false, tiermix: {} }));
  assert.equal(chunks.map((c) => c.choices[0].text).join(''), 'four');
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'length');
  assert.ok(chunks.every((c) => c.object === 'text_completion' && !('usage' in c)));
});
