import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  extractAnswerLetter,
  formatMmluPrompt,
  generatedQuestions,
  GENERATED_MODEL_ACCURACY,
  listDataModels,
  loadMmluPro,
  loadModelOutputs,
  readJsonLinesGz,
  resolveDataModel,
} from '../../../router/sim/dataset.js';
import { QuestionIndex } from '../../../router/sim/question-index.js';
import { NO_DATA, realDataDir } from './data-dir.js';

const q = { question: 'Which gas do plants take in for photosynthesis?', options: ['Oxygen', 'Carbon dioxide', 'Nitrogen'] };

describe('MMLU-Pro prompt and extraction', () => {
  it('formats the chain-of-thought prompt', () => {
    assert.equal(
      formatMmluPrompt(q),
      "Question: Which gas do plants take in for photosynthesis?\nOptions:\nA. Oxygen\nB. Carbon dioxide\nC. Nitrogen\nAnswer: Let's think step by step.",
    );
  });

  it('extracts the answer letter as MMLU-Pro does', () => {
    assert.equal(extractAnswerLetter(' Plants use CO2. The answer is (B).\n\n'), 'B');
    assert.equal(extractAnswerLetter('the answer is C because'), 'C');
    assert.equal(extractAnswerLetter('First answer is (D), no wait, the answer is (E)'), 'D', 'the first statement, as re.search');
    assert.equal(extractAnswerLetter('Reasoning...\nAnswer: F'), 'F');
    assert.equal(extractAnswerLetter('I would pick G here.'), 'G');
    assert.equal(extractAnswerLetter('no letter at all'), null);
    assert.equal(extractAnswerLetter('I would pick G here.', 'strict'), null);
    assert.equal(extractAnswerLetter('Answer: F', 'strict'), null);
  });

  it('matches data model names by the part after the last slash', () => {
    const models = ['Mistral-7B-v0.1', 'Llama-2-7b-hf'];
    assert.equal(resolveDataModel(models, 'mistralai/Mistral-7B-v0.1'), 'Mistral-7B-v0.1');
    assert.equal(resolveDataModel(models, 'meta-llama/llama-2-7b-hf'), 'Llama-2-7b-hf');
    assert.equal(resolveDataModel(models, 'gpt-5'), null);
  });
});

describe('generated questions', () => {
  it('are deterministic, and the first n do not depend on n', () => {
    const a = generatedQuestions(50, 3);
    assert.deepEqual(a, generatedQuestions(50, 3));
    assert.deepEqual(generatedQuestions(10, 3), a.slice(0, 10));
    assert.notDeepEqual(generatedQuestions(10, 4), a.slice(0, 10));
  });

  it('look like MMLU-Pro: ten distinct options, a gold letter, unique texts', () => {
    const qs = generatedQuestions(300, 1);
    assert.equal(new Set(qs.map((x) => x.question)).size, 300);
    for (const x of qs) {
      assert.equal(x.options.length, 10);
      assert.equal(new Set(x.options).size, 10);
      assert.match(x.answer, /^[A-J]$/);
      for (const [m, o] of Object.entries(x.perModel)) {
        assert.equal(o.correct, o.pred === x.answer, m);
      }
    }
  });

  it('give each data model about its real accuracy, with correlated outcomes', () => {
    const qs = generatedQuestions(4000, 1);
    for (const [model, acc] of Object.entries(GENERATED_MODEL_ACCURACY)) {
      const got = qs.filter((x) => x.perModel[model]!.correct).length / qs.length;
      assert.ok(Math.abs(got - acc) < 0.03, `${model}: ${got} vs ${acc}`);
    }
    // Shared difficulty: the big model is right more often where the small one is right.
    const small = qs.filter((x) => x.perModel['Mistral-7B-v0.1']!.correct);
    const bigGivenSmall = small.filter((x) => x.perModel['Llama-2-70b-hf']!.correct).length / small.length;
    assert.ok(bigGivenSmall > GENERATED_MODEL_ACCURACY['Llama-2-70b-hf']! + 0.1, `P(70b | 7b right) = ${bigGivenSmall}`);
  });
});

describe('question recognition', () => {
  const qs = generatedQuestions(500, 1);
  const index = new QuestionIndex(qs);
  const target = qs[123]!;

  it('finds the question in the project prompt format', () => {
    assert.equal(index.find(formatMmluPrompt(target))?.id, target.id);
  });

  it('finds it anywhere on its own line, with other whitespace and case', () => {
    const text = `Please help.\n\n   ${target.question.toUpperCase().replace(/ /g, '  ')}\nThanks`;
    assert.equal(index.find(text)?.id, target.id);
  });

  it('takes the last question of a few-shot prompt', () => {
    const fewShot = [qs[5]!, qs[6]!, target].map((x) => formatMmluPrompt(x)).join('\n\n');
    assert.equal(index.find(fewShot)?.id, target.id);
  });

  it('recognises a truncated question by its longest shared prefix', () => {
    const long = qs.find((x) => x.question.length > 90)!;
    assert.equal(index.find(`Question: ${long.question.slice(0, long.question.length - 6)}`)?.id, long.id);
    // Cut before the part that tells it apart from its siblings, it is ambiguous: no answer beats a wrong one.
    assert.equal(index.find(`Question: ${long.question.slice(0, 70)}`), null);
  });

  it('returns null for text it does not know', () => {
    assert.equal(index.find('Question: What is the airspeed velocity of an unladen swallow in the wet season?'), null);
    assert.equal(index.find(''), null);
  });

  it('is fast', () => {
    const prompt = 'x '.repeat(3000) + formatMmluPrompt(target);
    const start = performance.now();
    for (let i = 0; i < 200; i++) index.find(prompt);
    const perCall = (performance.now() - start) / 200;
    assert.ok(perCall < 20, `${perCall.toFixed(3)} ms per lookup`);
  });
});

describe('real MMLU-Pro data', () => {
  const dir = realDataDir();

  it('loads all questions with outcomes, and the splits partition them', { timeout: 60_000 }, async (t) => {
    if (!dir) return t.skip(NO_DATA);
    const models = await listDataModels(dir);
    assert.ok(models.includes('Mistral-7B-v0.1') && models.includes('Llama-2-70b-hf'));
    const all = await loadMmluPro(dir, { models: ['mistralai/Mistral-7B-v0.1'] });
    assert.equal(all.length, 12032);
    assert.deepEqual(Object.keys(all[0]!.perModel), ['Mistral-7B-v0.1']);
    const acc = all.filter((x) => x.perModel['Mistral-7B-v0.1']!.correct).length / all.length;
    assert.ok(Math.abs(acc - 0.298) < 0.002, `accuracy ${acc}`);
    const test = await loadMmluPro(dir, { split: 'test', models: [] });
    assert.equal(test.length, 2409);
    assert.equal((await loadMmluPro(dir, { limit: 5 })).length, 5);
  });

  it('strict extraction reproduces the data pred column exactly', { timeout: 60_000 }, async (t) => {
    if (!dir) return t.skip(NO_DATA);
    let rows = 0;
    await readJsonLinesGz(`${dir}/outputs/Llama-2-13b-hf.jsonl.gz`, (row) => {
      rows++;
      assert.equal(extractAnswerLetter(row.text as string, 'strict'), row.pred, `question ${String(row.question_id)}`);
    });
    assert.equal(rows, 12032);
  });

  it('recognises every test-split question from the project prompt', { timeout: 60_000 }, async (t) => {
    if (!dir) return t.skip(NO_DATA);
    const all = await loadMmluPro(dir, { models: [] });
    const index = new QuestionIndex(all);
    const test = all.filter((x) => x.id % 5 === 0);
    let right = 0;
    for (const x of test) {
      const found = index.find(formatMmluPrompt(x));
      // Duplicated question texts may resolve to a twin with the same gold answer.
      if (found && (found.id === x.id || (found.question === x.question && found.answer === x.answer))) right++;
    }
    assert.equal(right, test.length);
    const outputs = await loadModelOutputs(dir, 'Mistral-7B-v0.1');
    assert.equal(outputs.size, 12032);
  });
});
