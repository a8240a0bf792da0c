// Self-verification prompt in the manner of AutoMix (arXiv 2310.12963, §4.1): a few-shot, context-grounded
// entailment check that the same tier completes k times. The wording and the demonstrations are our own.
// The prompt is versioned: the distribution of verifier confidence depends on it, so any change to the
// text must come with a new id (and, later, refitted policy tables).

export const VERIFY_PROMPT_ID = 'tiermix-verify-v1';

/** Stop sequence that ends one verdict (the separator between demonstrations). */
export const VERIFY_STOP = '---';

const PREAMBLE =
  'Each item below gives a context, a question and an answer written by an AI system. ' +
  'Check the answer against the context and what is known to be true. Explain in one or two sentences, ' +
  'then give the verdict on its own line as "Verification Decision: The AI generated answer is Correct." ' +
  'or "Verification Decision: The AI generated answer is Incorrect."';

interface Demo {
  context: string;
  question: string;
  answer: string;
  evaluation: string;
  correct: boolean;
}

// Two correct and two incorrect demonstrations, so the few-shot prior is balanced.
const DEMOS: Demo[] = [
  {
    context: 'The Danube rises in the Black Forest in Germany and flows east for about 2,850 km into the Black Sea.',
    question: 'Into which sea does the Danube flow?',
    answer: 'The Black Sea.',
    evaluation: 'The context states that the Danube flows into the Black Sea, which matches the answer.',
    correct: true,
  },
  {
    context: 'A regular hexagon has six equal sides; its interior angles add up to 720 degrees.',
    question: 'What is the size of one interior angle of a regular hexagon?',
    answer: '108 degrees.',
    evaluation: 'Six equal angles summing to 720 degrees give 120 degrees each; 108 degrees is the angle of a pentagon.',
    correct: false,
  },
  {
    context: 'Marie Curie shared the 1903 Nobel Prize in Physics and won the 1911 Nobel Prize in Chemistry alone.',
    question: 'In which field did Marie Curie win her second Nobel Prize?',
    answer: 'Physics.',
    evaluation: 'Her second prize, in 1911, was in Chemistry; Physics was her first, so the answer is wrong.',
    correct: false,
  },
  {
    context: 'Water boils at a lower temperature at high altitude because the air pressure there is lower.',
    question: 'Why does water boil at a lower temperature on a mountain?',
    answer: 'Because the air pressure is lower at high altitude.',
    evaluation: 'The context gives lower air pressure as the reason, exactly as the answer says.',
    correct: true,
  },
];

export const NO_CONTEXT = '(none given; judge from the question itself)';

function renderItem(context: string, question: string, answer: string): string {
  return `Context: ${context}\nQuestion: ${question}\nAI Generated Answer: ${answer}\nEvaluation:`;
}

function verdict(correct: boolean): string {
  return `Verification Decision: The AI generated answer is ${correct ? 'Correct' : 'Incorrect'}.`;
}

/** Everything before the item under test: fixed for a prompt id. */
export const VERIFY_PROMPT_PREFIX =
  PREAMBLE +
  '\n\n' +
  DEMOS.map((d) => `${renderItem(d.context, d.question, d.answer)} ${d.evaluation}\n${verdict(d.correct)}`).join(
    `\n\n${VERIFY_STOP}\n\n`,
  ) +
  `\n\n${VERIFY_STOP}\n\n`;

export interface VerificationInput {
  /** Conversation or documents the question is asked against; empty when there is none. */
  context: string;
  question: string;
  answer: string;
}

export function buildVerificationPrompt(input: VerificationInput): string {
  const context = input.context.trim() === '' ? NO_CONTEXT : input.context.trim();
  return VERIFY_PROMPT_PREFIX + renderItem(context, input.question.trim(), input.answer.trim());
}

/**
 * text.startsWith(prefix), quicker for a long prefix: a slice compared with === is compared as memory, while
 * startsWith walks the prefix character by character (VERIFY_PROMPT_PREFIX, 2 KB: 4.6 µs vs 0.08 µs here). The
 * simulator checks every prompt it gets against it.
 */
export function hasPrefix(text: string, prefix: string): boolean {
  return text.length >= prefix.length && text.slice(0, prefix.length) === prefix;
}

/**
 * Recover the item from a verification prompt (the simulator reads prompts this way). Returns null when the
 * text is not a verification prompt of this id. The answer is taken from the last field marker, since the
 * context and the question may themselves contain lines like "Question:".
 */
export function parseVerificationPrompt(text: string): VerificationInput | null {
  if (!hasPrefix(text, VERIFY_PROMPT_PREFIX)) return null;
  const item = text.slice(VERIFY_PROMPT_PREFIX.length);
  const answerMarker = '\nAI Generated Answer: ';
  const end = '\nEvaluation:';
  const a = item.lastIndexOf(answerMarker);
  if (!item.startsWith('Context: ') || a < 0 || !item.endsWith(end)) return null;
  const head = item.slice('Context: '.length, a);
  const q = head.indexOf('\nQuestion: ');
  if (q < 0) return null;
  const context = head.slice(0, q);
  return {
    context: context === NO_CONTEXT ? '' : context,
    question: head.slice(q + '\nQuestion: '.length),
    answer: item.slice(a + answerMarker.length, item.length - end.length),
  };
}

/** The verdict line a verifier writes; the simulator uses it to speak the same format. */
export function verdictLine(correct: boolean): string {
  return verdict(correct);
}
