import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMmluPrompt, generatedQuestions, LETTERS } from '../../../router/sim/dataset.js';
import { QuestionIndex } from '../../../router/sim/question-index.js';
import { Responder } from '../../../router/sim/responder.js';
import { confidenceFrom } from '../../../router/verify/confidence.js';
import { buildVerificationPrompt, VERIFY_STOP } from '../../../router/verify/prompt.js';
import { DEFAULT_SIMULATED_VERIFIER } from '../../../router/verify/simulated-verifier.js';
import { auroc } from '../../../router/verify/simulated-verifier.js';

const questions = generatedQuestions(400, 1);
const responder = new Responder({
  servedModel: 'Mistral-7B-v0.1',
  dataModel: 'Mistral-7B-v0.1',
  index: new QuestionIndex(questions),
  outputs: new Map(),
  accuracy: 0.298,
  verifier: DEFAULT_SIMULATED_VERIFIER,
});

const ask = (prompt: string, n = 1, temperature = 1, style: 'completion' | 'chat' = 'completion') =>
  responder.respond({ prompt, style, n, temperature });

describe('responder: answers', () => {
  it("answers a known question with the model's recorded letter", () => {
    for (const q of questions.slice(0, 30)) {
      const r = ask(formatMmluPrompt(q));
      assert.equal(r.source, 'mmlu-generated');
      assert.equal(r.questionId, q.id);
      const pred = q.perModel['Mistral-7B-v0.1']!.pred;
      if (pred) assert.ok(r.texts[0]!.includes(`The answer is (${pred}).`), r.texts[0]);
      else assert.ok(!/answer is/.test(r.texts[0]!));
    }
  });

  it('answers unknown prompts with deterministic prose, ending with a letter when options are offered', () => {
    const prompt = 'Question: Which planet has the most moons?\nOptions:\nA. Mars\nB. Saturn\nC. Venus\nAnswer:';
    const a = ask(prompt);
    assert.equal(a.source, 'generated');
    assert.deepEqual(a.texts, ask(prompt).texts);
    assert.match(a.texts[0]!, /The answer is \([ABC]\)\.\n\n$/);
    assert.match(a.texts[0]!, /^ /, 'a completion continues the prompt');
    const chat = ask('Tell me about the history of navigation.', 1, 1, 'chat');
    assert.ok(!/answer is/.test(chat.texts[0]!) && !chat.texts[0]!.startsWith(' '));
  });

  it('varies samples at temperature > 0 and repeats them at temperature 0', () => {
    const prompt = 'Write something about rivers and mountains.';
    const hot = ask(prompt, 4, 0.8).texts;
    assert.ok(new Set(hot).size > 1);
    const greedy = ask(prompt, 4, 0).texts;
    assert.equal(new Set(greedy).size, 1);
  });
});

describe('responder: self-verification (simulated)', () => {
  const verify = (q: (typeof questions)[number], letter: string, k = 8, temperature = 0.7) =>
    ask(buildVerificationPrompt({ context: '', question: formatMmluPrompt(q), answer: `We compute it. The answer is (${letter}).` }), k, temperature);

  it('returns k completions, each an evaluation and a verdict line, cut by the router stop sequence', () => {
    const r = verify(questions[0]!, questions[0]!.answer);
    assert.equal(r.source, 'verification');
    assert.equal(r.answerCorrect, true);
    assert.equal(r.texts.length, 8);
    for (const [i, t] of r.texts.entries()) {
      assert.match(t, /^ .+\nVerification Decision: The AI generated answer is (Correct|Incorrect)\.\n\n---/);
      assert.equal(/is Correct\./.test(t), r.verdicts![i]);
      assert.ok(t.indexOf(VERIFY_STOP) > 0);
    }
  });

  it('judges correct answers correct more often than wrong ones, with an AUROC near the stated model', () => {
    const pos: number[] = [];
    const neg: number[] = [];
    for (const q of questions) {
      const wrong = LETTERS[(LETTERS.indexOf(q.answer) + 1) % 10]!;
      const texts = (letter: string) => verify(q, letter).texts.map((t) => t.slice(0, t.indexOf(VERIFY_STOP)));
      pos.push(confidenceFrom(texts(q.answer)).confidence!);
      neg.push(confidenceFrom(texts(wrong)).confidence!);
    }
    const area = auroc(pos, neg);
    assert.ok(area > 0.68 && area < 0.82, `AUROC ${area}`);
  });

  it('gives identical verdicts at temperature 0 and is deterministic', () => {
    const q = questions[1]!;
    const greedy = verify(q, 'A', 8, 0);
    assert.equal(new Set(greedy.texts).size, 1);
    assert.deepEqual(verify(q, 'A').texts, verify(q, 'A').texts);
  });

  it('uses the model accuracy as P(correct) when the question is unknown', () => {
    let correct = 0;
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const prompt = buildVerificationPrompt({ context: '', question: `Unknown question number ${i}?`, answer: 'Perhaps.' });
      if (ask(prompt, 1).answerCorrect) correct++;
    }
    assert.ok(Math.abs(correct / n - 0.298) < 0.04, `share treated as correct: ${correct / n}`);
  });
});
