// Generated text for prompts the simulator does not recognise, and for recognised questions that have no
// real output for this model. Deterministic from the random source the caller seeds with a hash of the
// prompt. The sentences are generic on purpose: they read as an answer without claiming facts.
import { pick, intBetween, type Rng } from './rng.js';

const STOPWORDS = new Set(
  'about above after again against answer because before being below between both could during each following from further having into itself more most other options question should since some such than that their them then there these they this those through under until very what when where which while whom with would your'.split(
    ' ',
  ),
);

/** A few distinctive words of the prompt, to make the text about something. */
export function keywords(prompt: string, rng: Rng, count = 3): string[] {
  const words = [...new Set((prompt.match(/[A-Za-z][a-z]{5,}/g) ?? []).map((w) => w.toLowerCase()))].filter(
    (w) => !STOPWORDS.has(w),
  );
  const out: string[] = [];
  while (out.length < count && words.length > 0) out.push(words.splice(Math.floor(rng() * words.length), 1)[0]!);
  return out;
}

const OPENERS = [
  'Let us work through this step by step.',
  'We start from what the question gives us.',
  'First, restate what is being asked.',
  'To answer this, consider the facts that matter here.',
  'The question can be settled by reasoning from the basics.',
];

const MIDDLES = [
  'The key idea here is {w}.',
  'Each part of the question has to be taken into account.',
  'The definitions involved settle most of the difficulty.',
  'It helps to recall how {w} is usually defined.',
  'Both {w} and {v} play a part, but {w} decides the matter.',
  'A common mistake is to confuse {w} with {v}.',
  'Looking at {w} closely narrows the possibilities.',
  'Checking the reasoning a second time gives the same result.',
  'The other considerations do not change this conclusion.',
];

const CLOSERS = [
  'Taken together, this is the most reasonable conclusion.',
  'So the answer follows from {w}, as set out above.',
  'In short, the evidence points one way.',
];

function fill(template: string, words: string[]): string {
  const w = words[0] ?? 'the main principle';
  const v = words[1] ?? 'a related idea';
  return template.replace(/\{w\}/g, w).replace(/\{v\}/g, v);
}

/** Answer letters a prompt offers ("A. ...", "(B) ...", "C) ..." at line starts), at least two, else null. */
export function offeredLetters(prompt: string): string[] | null {
  const letters = new Set<string>();
  for (const m of prompt.matchAll(/^\s*\(?([A-J])[.)]\s+\S/gm)) letters.add(m[1]!);
  return letters.size >= 2 ? [...letters].sort() : null;
}

export interface ProseOptions {
  /** The letter to conclude with ("The answer is (X)."), or null for none. */
  letter: string | null;
  /** Completions continue the prompt (leading space, blank line at the end, as the data's texts do). */
  style: 'completion' | 'chat';
}

export function generatedProse(prompt: string, rng: Rng, opts: ProseOptions): string {
  const words = keywords(prompt, rng);
  const sentences = [pick(rng, OPENERS)];
  // Without usable words, keep to the sentences that do not need one, so the text does not repeat itself.
  const middles = words.length >= 2 ? [...MIDDLES] : MIDDLES.filter((m) => !m.includes('{'));
  for (let i = intBetween(rng, 2, 4); i > 0 && middles.length > 0; i--) {
    sentences.push(fill(middles.splice(Math.floor(rng() * middles.length), 1)[0]!, words));
  }
  const closers = words.length > 0 ? CLOSERS : CLOSERS.filter((c) => !c.includes('{'));
  sentences.push(opts.letter ? `The answer is (${opts.letter}).` : fill(pick(rng, closers), words));
  const body = sentences.join(' ');
  return opts.style === 'completion' ? ` ${body}\n\n` : body;
}

/** Reasoning for a recognised question: ends with the letter, or trails off when the model gave none. */
export function reasonedAnswer(question: string, letter: string | null, rng: Rng, style: ProseOptions['style']): string {
  const words = keywords(question, rng, 2);
  const sentences = [
    pick(rng, OPENERS),
    fill(pick(rng, MIDDLES), words),
    'We compare this with each of the options in turn.',
  ];
  if (letter) sentences.push(`The answer is (${letter}).`);
  else sentences.push(fill('Working this out needs more about {w} than is given here', words));
  const body = sentences.join(' ');
  return style === 'completion' ? ` ${body}\n\n` : body;
}
