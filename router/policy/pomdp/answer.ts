// The final answer of a tier's output, normalised so that two tiers' answers can be compared (agreement)
// and so that "no answer could be extracted" is an observation of its own.
//   letter: multiple-choice; the MMLU-Pro extraction of router/sim/dataset.ts (extractAnswerLetter), null if none.
//   text:   a lettered answer if the text states one ("the answer is (X)"), else the last non-empty line,
//           lower-cased, with "answer:"/"the answer is" and surrounding punctuation removed; null if empty.
import { extractAnswerLetter } from '../../sim/dataset.js';

export type AnswerFormat = 'letter' | 'text';

export function answerKey(text: string, format: AnswerFormat = 'letter'): string | null {
  if (format === 'letter') return extractAnswerLetter(text, 'mmlu-pro');
  const letter = extractAnswerLetter(text, 'strict');
  if (letter !== null) return letter;
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const last = lines.at(-1);
  if (last === undefined) return null;
  const norm = last
    .toLowerCase()
    .replace(/^(final answer|the answer is|answer)\s*[:\-]?\s*/, '')
    .replace(/\s+/g, ' ')
    .replace(/^[\s"'`*.,;:!?()[\]{}]+|[\s"'`*.,;:!?()[\]{}]+$/g, '');
  return norm.length > 0 ? norm : null;
}
