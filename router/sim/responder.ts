// What text a prompt gets. In order: a self-verification prompt (router/verify/prompt.ts) gets k verdicts
// from the stated verifier model; a prompt containing a known MMLU-Pro question gets this model's real
// output from the data (or, for generated questions, reasoning that ends in this model's recorded letter);
// anything else gets generated prose. All of it is deterministic from a hash of the prompt (and the
// request's seed), so replicas of one model agree.
import { parseVerificationPrompt, verdictLine, VERIFY_PROMPT_PREFIX, VERIFY_STOP } from '../verify/prompt.js';
import { sampleJudgingProbability, type SimulatedVerifierModel } from '../verify/simulated-verifier.js';
import { extractAnswerLetter, LETTERS, type MmluQuestion, type ModelOutcome, type ModelOutput } from './dataset.js';
import { generatedProse, offeredLetters, reasonedAnswer } from './prose.js';
import type { QuestionIndex } from './question-index.js';
import { hashString, pick, prefixedHash, seededRng, type Rng } from './rng.js';

export type AnswerSource = 'verification' | 'mmlu-data' | 'mmlu-generated' | 'generated';

export interface ResponderSetup {
  servedModel: string;
  /** The data model whose outcomes and outputs this simulator plays, if any. */
  dataModel: string | null;
  index: QuestionIndex;
  outputs: ReadonlyMap<number, ModelOutput>;
  /** Overall accuracy of the model: P(correct) when a verified question is unknown. */
  accuracy: number;
  verifier: SimulatedVerifierModel;
}

export interface SampleRequest {
  /** The text to answer: a completion prompt, or the last user message of a chat. */
  prompt: string;
  style: 'completion' | 'chat';
  n: number;
  temperature: number;
  seed?: number | null;
}

export interface Samples {
  source: AnswerSource;
  /** Full texts before stop sequences and max_tokens are applied, one per sample. */
  texts: string[];
  questionId?: number;
  /** For verification: the correctness the verdicts were drawn for, and the verdicts. */
  answerCorrect?: boolean;
  verdicts?: boolean[];
}

const CORRECT_EVALUATIONS = [
  'The reasoning is consistent with the question and reaches a conclusion that fits the known facts.',
  'The answer follows from the question, and no step in it fails.',
  'The chosen option matches what the question requires.',
  'Each step holds up, so the answer is supported.',
];

const WRONG_EVALUATIONS = [
  'The reasoning skips a step, and the option it picks does not fit the question.',
  'The conclusion does not follow from the question; another option fits better.',
  'The answer conflicts with what is known about the subject of the question.',
  'A step in the reasoning is wrong, so the answer is not supported.',
];

/**
 * A verifier's completion: an evaluation and the verdict line. The model would go on to the next few-shot
 * item; the router's stop sequence cuts it there.
 */
function verdictText(evaluation: string, verdict: boolean, style: SampleRequest['style']): string {
  const text = `${evaluation}\n${verdictLine(verdict)}\n\n${VERIFY_STOP}\n\nContext:`;
  return style === 'completion' ? ` ${text}` : text;
}

/** Every completion a verification can get, built once: by style, then by verdict, one per evaluation. */
const VERDICT_TEXTS = Object.fromEntries(
  (['completion', 'chat'] as const).map((style) => [
    style,
    {
      correct: CORRECT_EVALUATIONS.map((e) => verdictText(e, true, style)),
      wrong: WRONG_EVALUATIONS.map((e) => verdictText(e, false, style)),
    },
  ]),
) as Record<SampleRequest['style'], { correct: string[]; wrong: string[] }>;

export class Responder {
  /** hashString('latent' | 'verdicts', servedModel, prompt, ...), with the verification prompt's fixed 2 KB hashed once. */
  private readonly latentHash: (prompt: string) => number;
  private readonly verdictsHash: (prompt: string, seed: string | number) => number;

  constructor(private readonly setup: ResponderSetup) {
    this.latentHash = prefixedHash(['latent', setup.servedModel], VERIFY_PROMPT_PREFIX);
    this.verdictsHash = prefixedHash(['verdicts', setup.servedModel], VERIFY_PROMPT_PREFIX);
  }

  /** This model's outcome on a question: recorded in the data, or drawn once from its accuracy. */
  outcome(q: MmluQuestion): ModelOutcome {
    const recorded = this.setup.dataModel ? q.perModel[this.setup.dataModel] : undefined;
    if (recorded) return recorded;
    const rng = seededRng(hashString('outcome', this.setup.servedModel, q.id));
    if (rng() < this.setup.accuracy) return { pred: q.answer, correct: true };
    const others = LETTERS.slice(0, Math.max(2, q.options.length)).replace(q.answer, '');
    return { pred: pick(rng, others.split('')), correct: false };
  }

  respond(req: SampleRequest): Samples {
    const verification = parseVerificationPrompt(req.prompt);
    if (verification) return this.verify(req, verification.question, verification.context, verification.answer);
    const q = this.setup.index.find(req.prompt);
    if (q) {
      const real = this.setup.outputs.get(q.id);
      if (real) {
        const text = req.style === 'chat' ? real.text.trim() : real.text;
        return { source: 'mmlu-data', texts: Array(req.n).fill(text) as string[], questionId: q.id };
      }
      const text = reasonedAnswer(q.question, this.outcome(q).pred, seededRng(hashString('reason', q.id)), req.style);
      return { source: 'mmlu-generated', texts: Array(req.n).fill(text) as string[], questionId: q.id };
    }
    const letters = offeredLetters(req.prompt);
    const texts = Array.from({ length: req.n }, (_, i) => {
      // Greedy decoding (temperature 0) gives every sample the same text.
      const variant = req.temperature > 0 ? i : 0;
      const rng = seededRng(hashString('prose', req.prompt, variant, req.seed ?? ''));
      const letter = letters ? pick(rng, letters) : null;
      return generatedProse(req.prompt, rng, { letter, style: req.style });
    });
    return { source: 'generated', texts };
  }

  private verify(req: SampleRequest, question: string, context: string, answer: string): Samples {
    const { index, verifier, accuracy } = this.setup;
    const q = index.find(question) ?? (context ? index.find(context) : null);
    // The latent judging probability belongs to the (query, answer) pair; the draws to the request.
    const latent = seededRng(this.latentHash(req.prompt));
    const answerCorrect = q ? extractAnswerLetter(answer, 'strict') === q.answer : latent() < accuracy;
    const p = sampleJudgingProbability(verifier, answerCorrect, latent);
    const draws: Rng = seededRng(this.verdictsHash(req.prompt, req.seed ?? ''));
    const verdicts: boolean[] = [];
    const texts: string[] = [];
    for (let i = 0; i < req.n; i++) {
      if (req.temperature === 0 && i > 0) {
        verdicts.push(verdicts[0]!);
        texts.push(texts[0]!);
        continue;
      }
      const verdict = draws() < p;
      verdicts.push(verdict);
      texts.push(pick(draws, verdict ? VERDICT_TEXTS[req.style].correct : VERDICT_TEXTS[req.style].wrong));
    }
    // questionId set apart rather than spread in: object spread is slow in node 20 (~3 µs).
    const samples: Samples = { source: 'verification', texts, answerCorrect, verdicts };
    if (q) samples.questionId = q.id;
    return samples;
  }
}
