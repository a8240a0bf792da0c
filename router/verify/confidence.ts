// Turning k verifier completions into a confidence, as AutoMix does: a sample counts when it states a
// verdict; confidence is the share of those that say "Correct". No readable verdict -> null (unknown),
// which the policy treats differently from a confident "Incorrect".

export type Verdict = 'correct' | 'incorrect' | 'unreadable';

const VERDICT = /the ai generated answer is\s+(correct|incorrect)\b/i;

export function parseVerdict(text: string): Verdict {
  const m = VERDICT.exec(text);
  if (!m) return 'unreadable';
  return m[1]!.toLowerCase() === 'correct' ? 'correct' : 'incorrect';
}

export interface VerifierResult {
  confidence: number | null;
  correct: number;
  incorrect: number;
  unreadable: number;
}

export function confidenceFrom(samples: readonly string[]): VerifierResult {
  let correct = 0;
  let incorrect = 0;
  let unreadable = 0;
  for (const s of samples) {
    const v = parseVerdict(s);
    if (v === 'correct') correct++;
    else if (v === 'incorrect') incorrect++;
    else unreadable++;
  }
  const readable = correct + incorrect;
  return { confidence: readable === 0 ? null : correct / readable, correct, incorrect, unreadable };
}
