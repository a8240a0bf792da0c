// A small, deterministic stand-in for MMLU-Pro when ../shared/data is absent: arithmetic-style questions
// whose gold answers are computed, with 10 options like MMLU-Pro, and per-model outcomes drawn so that
// each data model has its real overall accuracy (README of the data) and the models agree with each other
// through a shared per-question difficulty (a Gaussian copula). Question i for a seed does not depend on n,
// so a simulator and a demo that use the same seed see the same questions.
import type { MmluQuestion, ModelOutcome } from './dataset.js';
import { gaussian, intBetween, pick, seededRng, type Rng } from './rng.js';

const LETTERS = 'ABCDEFGHIJ';

/** Overall MMLU-Pro accuracy of the data models (null = wrong), from the data README. */
export const GENERATED_MODEL_ACCURACY: Readonly<Record<string, number>> = {
  'Llama-2-7b-hf': 0.183,
  'Mistral-7B-v0.1': 0.298,
  'Llama-2-13b-hf': 0.235,
  'Mixtral-8x7B-v0.1': 0.399,
  'Llama-2-70b-hf': 0.363,
  gpt4o: 0.721,
};

/** Ids of generated questions start here, far above MMLU-Pro's 12,032. */
export const GENERATED_ID_BASE = 1_000_000;

/** Correlation of model outcomes through the shared question difficulty. */
const SHARED_DIFFICULTY = 0.5;

interface Draft {
  category: string;
  question: string;
  correct: number;
  format: (n: number) => string;
}

const plain = (n: number) => String(n);

const TEMPLATES: ((rng: Rng) => Draft)[] = [
  (rng) => {
    const a = intBetween(rng, 12, 989);
    const b = intBetween(rng, 12, 989);
    return { category: 'math', question: `What is ${a} + ${b}?`, correct: a + b, format: plain };
  },
  (rng) => {
    const a = intBetween(rng, 12, 99);
    const b = intBetween(rng, 3, 49);
    return { category: 'math', question: `What is the product of ${a} and ${b}?`, correct: a * b, format: plain };
  },
  (rng) => {
    const v = intBetween(rng, 30, 120);
    const t = intBetween(rng, 2, 6);
    return {
      category: 'physics',
      question: `A train covers ${v * t} km in ${t} hours at a constant speed. What is its speed?`,
      correct: v,
      format: (n) => `${n} km/h`,
    };
  },
  (rng) => {
    const p = 500 * intBetween(rng, 2, 18);
    const r = intBetween(rng, 2, 9);
    const y = intBetween(rng, 2, 6);
    return {
      category: 'business',
      question: `A deposit of $${p} earns simple interest of ${r}% per year. How much interest does it earn in ${y} years?`,
      correct: (p * r * y) / 100,
      format: (n) => `$${n}`,
    };
  },
  (rng) => {
    const n = intBetween(rng, 20, 255);
    return {
      category: 'computer science',
      question: `What is the decimal value of the binary number ${n.toString(2)}?`,
      correct: n,
      format: plain,
    };
  },
  (rng) => {
    const a = 20 * intBetween(rng, 1, 10);
    const pct = pick(rng, [5, 10, 15, 20, 25, 30, 40, 50]);
    return {
      category: 'economics',
      question: `The price of a good rises from $${a} to $${a + (a * pct) / 100}. By what percentage did the price rise?`,
      correct: pct,
      format: (n) => `${n}%`,
    };
  },
  (rng) => {
    const k = intBetween(rng, 2, 40);
    return {
      category: 'chemistry',
      question: `How many moles of water are in ${18 * k} g of water (molar mass 18 g/mol)?`,
      correct: k,
      format: (n) => `${n} mol`,
    };
  },
  (rng) => {
    const a = intBetween(rng, 3, 60);
    const b = intBetween(rng, 3, 60);
    return {
      category: 'math',
      question: `What is the area of a rectangle with sides of ${a} cm and ${b} cm?`,
      correct: a * b,
      format: (n) => `${n} square centimetres`,
    };
  },
];

/** Nine distinct positive wrong values near the correct one. */
function distractors(correct: number, rng: Rng): number[] {
  const out = new Set<number>();
  const spread = Math.max(10, Math.round(correct * 0.25)); // >= 9 positive candidates above the answer
  while (out.size < 9) {
    const delta = intBetween(rng, 1, spread) * (rng() < 0.5 ? -1 : 1);
    const v = correct + delta;
    if (v > 0 && v !== correct) out.add(v);
  }
  return [...out];
}

function erf(x: number): number {
  // Abramowitz and Stegun 7.1.26 (absolute error < 1.5e-7).
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return sign * y;
}

/** Inverse of the standard normal CDF, by bisection (called once per model). */
function normalQuantile(p: number): number {
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (0.5 * (1 + erf(mid / Math.SQRT2)) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * n generated questions for `seed` (the first n of an endless deterministic sequence), with outcomes for
 * the given models (default: the data models at their real accuracies).
 */
export function generatedQuestions(
  n: number,
  seed = 1,
  accuracy: Readonly<Record<string, number>> = GENERATED_MODEL_ACCURACY,
): MmluQuestion[] {
  const rng = seededRng(seed);
  const thresholds = Object.entries(accuracy).map(([m, acc]) => [m, normalQuantile(acc)] as const);
  const seen = new Set<string>();
  const out: MmluQuestion[] = [];
  while (out.length < n) {
    const draft = pick(rng, TEMPLATES)(rng);
    const wrong = distractors(draft.correct, rng);
    // Keep the draws per question fixed whether or not it is a duplicate, so sequences stay aligned.
    const slot = intBetween(rng, 0, 9);
    const difficulty = gaussian(rng);
    const noise = thresholds.map(() => gaussian(rng));
    const nullDraws = thresholds.map(() => rng());
    const otherDraws = thresholds.map(() => rng());
    if (seen.has(draft.question)) continue;
    seen.add(draft.question);
    const values = [...wrong];
    values.splice(slot, 0, draft.correct);
    const answer = LETTERS[slot]!;
    const perModel: Record<string, ModelOutcome> = {};
    thresholds.forEach(([model, threshold], i) => {
      const z = Math.sqrt(SHARED_DIFFICULTY) * difficulty + Math.sqrt(1 - SHARED_DIFFICULTY) * noise[i]!;
      if (z < threshold) {
        perModel[model] = { pred: answer, correct: true };
        return;
      }
      // About one wrong answer in ten has no extractable letter, as in the data.
      const others = LETTERS.split('').filter((l) => l !== answer);
      const pred = nullDraws[i]! < 0.1 ? null : others[Math.floor(otherDraws[i]! * others.length)]!;
      perModel[model] = { pred, correct: false };
    });
    out.push({
      id: GENERATED_ID_BASE + out.length,
      category: draft.category,
      src: 'generated',
      question: draft.question,
      options: values.map(draft.format),
      answer,
      perModel,
    });
  }
  return out;
}
