import assert from 'node:assert/strict';
import { test } from 'node:test';
import { confidenceFrom, parseVerdict } from '../../../router/verify/confidence.js';
import { VERIFY_PROMPT_PREFIX, buildVerificationPrompt, parseVerificationPrompt, verdictLine } from '../../../router/verify/prompt.js';

test('verdicts are read case-insensitively and "incorrect" is not taken for "correct"', () => {
  assert.equal(parseVerdict(' The answer matches.\nVerification Decision: The AI generated answer is Correct.'), 'correct');
  assert.equal(parseVerdict('verification decision: the ai generated answer is incorrect.'), 'incorrect');
  assert.equal(parseVerdict('The AI generated answer is  INCORRECT'), 'incorrect');
  assert.equal(parseVerdict('I am not sure.'), 'unreadable');
  assert.equal(parseVerdict('The AI generated answer is correctly formatted?'), 'unreadable');
});

test('confidence is the share of readable verdicts that say correct', () => {
  const c = verdictLine(true);
  const w = verdictLine(false);
  assert.deepEqual(confidenceFrom([c, c, w, 'garbage']), { confidence: 2 / 3, correct: 2, incorrect: 1, unreadable: 1 });
  assert.equal(confidenceFrom([]).confidence, null);
  assert.equal(confidenceFrom(['??', '']).confidence, null);
  assert.equal(confidenceFrom([w, w]).confidence, 0);
});

test('the prompt is few-shot with balanced demonstrations and round-trips its item', () => {
  const prompt = buildVerificationPrompt({ context: 'user: hi', question: 'Question: 2+2?\nOptions:\nA. 4', answer: 'the answer is (A)' });
  assert.ok(prompt.startsWith(VERIFY_PROMPT_PREFIX));
  assert.equal((VERIFY_PROMPT_PREFIX.match(/is Correct\./g) ?? []).length, 2 + 1); // two demos + the instruction
  assert.equal((VERIFY_PROMPT_PREFIX.match(/is Incorrect\./g) ?? []).length, 2 + 1);
  assert.ok(prompt.endsWith('\nEvaluation:'));
  assert.deepEqual(parseVerificationPrompt(prompt), { context: 'user: hi', question: 'Question: 2+2?\nOptions:\nA. 4', answer: 'the answer is (A)' });
});

test('an empty context is marked and parsed back as empty', () => {
  const p = buildVerificationPrompt({ context: '  ', question: 'q', answer: 'a' });
  assert.match(p, /Context: \(none given/);
  assert.deepEqual(parseVerificationPrompt(p), { context: '', question: 'q', answer: 'a' });
});

test('other prompts are not taken for verification prompts', () => {
  assert.equal(parseVerificationPrompt('Question: what?\nAnswer:'), null);
  assert.equal(parseVerificationPrompt(VERIFY_PROMPT_PREFIX + 'garbage'), null);
});
