// With the real MMLU-Pro data (skipped when it is absent): real model outputs and verification outcomes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { formatMmluPrompt, loadMmluPro, loadModelOutputs, LETTERS, type MmluQuestion, type ModelOutput } from '../../../router/sim/dataset.js';
import { startSimulator, type RunningSimulator } from '../../../router/sim/server.js';
import { buildVerificationPrompt, VERIFY_STOP } from '../../../router/verify/prompt.js';
import { NO_DATA, realDataDir } from '../../unit/sim/data-dir.js';

const dir = realDataDir();
const MODEL = 'mistralai/Mistral-7B-v0.1';

describe('simulator with the real MMLU-Pro data', { skip: dir ? false : NO_DATA }, () => {
  let sim: RunningSimulator;
  let client: OpenAI;
  let questions: MmluQuestion[];
  let outputs: Map<number, ModelOutput>;

  before(async () => {
    sim = await startSimulator({ model: MODEL, dataDir: dir!, timeScale: 0 });
    client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 0 });
    questions = (await loadMmluPro(dir!, { split: 'test', models: ['Mistral-7B-v0.1'], limit: 40 })).slice(20);
    outputs = await loadModelOutputs(dir!, 'Mistral-7B-v0.1');
  });
  after(() => sim?.close());

  it("returns the model's real output text for a known question", async () => {
    for (const q of questions.slice(0, 5)) {
      const res = await client.completions.create({ model: MODEL, prompt: formatMmluPrompt(q), max_tokens: 2000 }).withResponse();
      assert.equal(res.response.headers.get('x-tiermix-sim-source'), 'mmlu-data');
      assert.equal(res.data.choices[0]!.text, outputs.get(q.id)!.text);
      const chat = await client.chat.completions.create({
        model: MODEL,
        messages: [
          { role: 'system', content: 'You are a careful expert.' },
          { role: 'user', content: `Please answer.\n\n${formatMmluPrompt(q)}` },
        ],
      });
      assert.equal(chat.choices[0]!.message.content, outputs.get(q.id)!.text.trim());
    }
  });

  it('verifies answers against the gold letter', async () => {
    let correctShare = 0;
    let wrongShare = 0;
    for (const q of questions) {
      const share = async (letter: string) => {
        const prompt = buildVerificationPrompt({ context: '', question: formatMmluPrompt(q), answer: `So the answer is (${letter}).` });
        const res = await client.completions.create({ model: MODEL, prompt, n: 8, temperature: 0.7, max_tokens: 80, stop: VERIFY_STOP });
        return res.choices.filter((c) => /answer is Correct\./.test(c.text)).length / 8;
      };
      correctShare += await share(q.answer);
      wrongShare += await share(LETTERS[(LETTERS.indexOf(q.answer) + 1) % q.options.length]!);
    }
    // Means of Beta(0.7) and Beta(0.4) judging probabilities, over 20 questions each.
    assert.ok(correctShare / questions.length > wrongShare / questions.length + 0.1, `${correctShare} vs ${wrongShare}`);
  });
});
