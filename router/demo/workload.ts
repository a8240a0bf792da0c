// The demo's workload, as pure functions: which questions to send (a seeded sample), the chat body for
// each, whether an answer is right, and the recorded accuracy of fixed strategies on the same sample.
import { extractAnswerLetter, formatMmluPrompt, isTestSplit, type MmluQuestion } from '../sim/dataset.js';
import { seededRng } from '../sim/rng.js';

/**
 * n questions from the pool in a seeded random order. Beyond the pool size the order starts again with a
 * fresh shuffle, so every question is used once before any repeats.
 */
export function sampleQuestions(pool: readonly MmluQuestion[], n: number, seed: number): MmluQuestion[] {
  if (pool.length === 0) throw new Error('no questions to sample from');
  const rng = seededRng(seed);
  const out: MmluQuestion[] = [];
  while (out.length < n) {
    const round = [...pool];
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [round[i], round[j]] = [round[j]!, round[i]!];
    }
    out.push(...round.slice(0, n - out.length));
  }
  return out;
}

/** The MMLU-Pro test split (question_id % 5 == 0): the demo reports on held-out questions only. */
export function testSplit(questions: readonly MmluQuestion[]): MmluQuestion[] {
  return questions.filter((q) => isTestSplit(q.id));
}

/** The chat request body for one question: the MMLU-Pro prompt as the only user message. */
export function chatBody(model: string, q: MmluQuestion): Record<string, unknown> {
  // Greedy decoding, as the dataset's outputs were produced; no max_tokens so long reasoning is not cut.
  return { model, messages: [{ role: 'user', content: formatMmluPrompt(q) }], temperature: 0 };
}

/**
 * Whether a returned text answers the gold letter. 'strict' extraction is the rule the data's correct__
 * columns were made with, so routed accuracy and the recorded baselines are scored the same way.
 */
export function isCorrect(text: string, q: Pick<MmluQuestion, 'answer'>): boolean {
  return extractAnswerLetter(text, 'strict') === q.answer;
}

/** Share of the sample a model got right in the data (or in the generated set's drawn outcomes). */
export function recordedAccuracy(sample: readonly MmluQuestion[], model: string): number | null {
  const known = sample.map((q) => q.perModel[model]).filter((o) => o !== undefined);
  if (known.length === 0 || known.length < sample.length) return null;
  return known.filter((o) => o.correct).length / known.length;
}

/** Share of the sample that at least one of the models got right (what a perfect router could reach). */
export function oracleAccuracy(sample: readonly MmluQuestion[], models: readonly string[]): number | null {
  if (sample.length === 0 || sample.some((q) => models.some((m) => !q.perModel[m]))) return null;
  return sample.filter((q) => models.some((m) => q.perModel[m]!.correct)).length / sample.length;
}

export const distinctCount = (sample: readonly MmluQuestion[]) => new Set(sample.map((q) => q.id)).size;
