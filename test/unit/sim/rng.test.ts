import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashString, prefixedHash } from '../../../router/sim/rng.js';
import { buildVerificationPrompt, VERIFY_PROMPT_PREFIX } from '../../../router/verify/prompt.js';

describe('hashing', () => {
  it('keeps FNV-1a values that answers and verdicts are drawn from', () => {
    // Pinned (values of the hash before it was split into parts): a change here changes every simulated
    // text, verdict and logprob.
    assert.equal(hashString(''), 437026350);
    assert.equal(hashString('latent', 'Mistral-7B-v0.1', 'x'), 1916473190);
    assert.notEqual(hashString('ab', 'c'), hashString('a', 'bc'));
  });

  it('gives hashString of the same parts when a prefix is hashed once', () => {
    const latent = prefixedHash(['latent', 'Mistral-7B-v0.1'], VERIFY_PROMPT_PREFIX);
    const prompts = [
      buildVerificationPrompt({ context: '', question: 'Name one use of a suspension bridge.', answer: 'It carries a road.' }),
      VERIFY_PROMPT_PREFIX,
      VERIFY_PROMPT_PREFIX.slice(0, 100),
      'not a verification prompt',
      '',
    ];
    for (const prompt of prompts) {
      assert.equal(latent(prompt), hashString('latent', 'Mistral-7B-v0.1', prompt));
      assert.equal(latent(prompt, 7, ''), hashString('latent', 'Mistral-7B-v0.1', prompt, 7, ''));
    }
  });
});
