import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guessProfile, interTokenMs, loadFactor, prefillMs, PROFILES, serviceMs, type StepContext } from '../../../router/sim/latency.js';

const ctx = (over: Partial<StepContext> = {}): StepContext => ({
  profile: PROFILES['7b'],
  maxNumSeqs: 64,
  running: 1,
  timeScale: 1,
  slowFactor: 1,
  ...over,
});

describe('latency model', () => {
  it('load factor is 1 alone and the profile factor at max-num-seqs, linear between', () => {
    assert.equal(loadFactor(1, 64, 2), 1);
    assert.equal(loadFactor(64, 64, 2), 2);
    assert.equal(loadFactor(500, 64, 2), 2);
    assert.ok(Math.abs(loadFactor(32.5, 64, 2) - 1.5) < 1e-9);
    assert.equal(loadFactor(5, 1, 3), 1, 'max-num-seqs 1 has no batch to slow down');
    assert.equal(loadFactor(10, 64, 1), 1);
  });

  it('time to first token is overhead plus per-prompt-token time, scaled by load, slowness and time scale', () => {
    const p = PROFILES['7b'];
    assert.equal(prefillMs(100, ctx()), p.prefillOverheadMs + 100 * p.prefillPerTokenMs);
    assert.equal(prefillMs(100, ctx({ running: 64 })), 2 * (p.prefillOverheadMs + 100 * p.prefillPerTokenMs));
    assert.equal(prefillMs(100, ctx({ slowFactor: 3 })), 3 * (p.prefillOverheadMs + 100 * p.prefillPerTokenMs));
    assert.ok(Math.abs(prefillMs(100, ctx({ timeScale: 0.1 })) - 0.1 * (p.prefillOverheadMs + 100 * p.prefillPerTokenMs)) < 1e-9);
    assert.equal(prefillMs(100, ctx({ timeScale: 0 })), 0);
  });

  it('inter-token latency grows with the batch and bigger models are slower', () => {
    assert.equal(interTokenMs(ctx()), PROFILES['7b'].interTokenMs);
    assert.ok(interTokenMs(ctx({ running: 40 })) > interTokenMs(ctx({ running: 2 })));
    const big = ctx({ profile: PROFILES['70b'], maxNumSeqs: 32 });
    const mid = ctx({ profile: PROFILES['13b'], maxNumSeqs: 48 });
    assert.ok(interTokenMs(big) > interTokenMs(mid) && interTokenMs(mid) > interTokenMs(ctx()));
    assert.equal(interTokenMs(ctx({ profile: PROFILES.zero })), 0);
  });

  it('service time is prefill plus (n - 1) steps', () => {
    assert.equal(serviceMs(200, 1, ctx()), prefillMs(200, ctx()));
    assert.equal(serviceMs(200, 101, ctx()), prefillMs(200, ctx()) + 100 * interTokenMs(ctx()));
  });

  it('guesses the size class from the model name', () => {
    assert.equal(guessProfile('mistralai/Mistral-7B-v0.1'), '7b');
    assert.equal(guessProfile('Llama-2-7b-hf'), '7b');
    assert.equal(guessProfile('meta-llama/Llama-2-13b-hf'), '13b');
    assert.equal(guessProfile('Llama-2-70b-hf'), '70b');
    assert.equal(guessProfile('Mixtral-8x7B-v0.1'), '13b');
    assert.equal(guessProfile('Llama-3.1-8B-Instruct'), '7b');
    assert.equal(guessProfile('gpt4o'), '7b');
  });
});
