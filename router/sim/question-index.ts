// Recognising an MMLU-Pro question inside a prompt, fast: questions are indexed by the first characters
// of their normalised text (lower case, whitespace collapsed), and a prompt is probed only at the places
// a question can start: the beginning, every line start, and after every "Question:" marker. The last
// match in the prompt wins, because few-shot prompts put their worked examples before the question asked.
import { LETTERS, type MmluQuestion } from './dataset.js';

const LONG_KEY = 64;
const SHORT_KEY = 16;

export function normalizeText(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

interface Probe {
  norm: string;
  /** Offsets in `norm` where a question may begin. */
  starts: number[];
}

/** Normalise line by line (native string operations, fast) and remember where each line begins. */
function probe(text: string): Probe {
  const parts: string[] = [];
  const starts: number[] = [0];
  let length = 0;
  for (const line of text.split('\n')) {
    const part = normalizeText(line);
    if (part === '') continue;
    if (parts.length > 0) length += 1; // the space that joins it to the previous line
    starts.push(length);
    parts.push(part);
    length += part.length;
  }
  const norm = parts.join(' ');
  for (const m of norm.matchAll(/question:\s?/g)) starts.push(m.index + m[0].length);
  return { norm, starts: [...new Set(starts)].sort((a, b) => a - b) };
}

interface Entry {
  question: MmluQuestion;
  norm: string;
  normOptions: string[];
}

function sharedLength(a: string, b: string, from: number): number {
  let i = 0;
  while (i < a.length && from + i < b.length && a[i] === b[from + i]) i++;
  return i;
}

function longestSharedPrefix(candidates: readonly Entry[], norm: string, at: number): Entry | null {
  let best: Entry | null = null;
  let bestLength = -1;
  let tied = false;
  for (const c of candidates) {
    const length = sharedLength(c.norm, norm, at);
    if (length > bestLength) [best, bestLength, tied] = [c, length, false];
    else if (length === bestLength && c.norm !== best!.norm) tied = true;
  }
  return tied ? null : best;
}

export class QuestionIndex {
  /** Questions of at least LONG_KEY characters, by their first LONG_KEY characters. */
  private readonly long = new Map<string, Entry[]>();
  /**
   * Shorter questions by their first SHORT_KEY characters, then by length, then by full text: templated
   * questions share prefixes ("what is the product of ..."), so a prefix alone would give long lists.
   */
  private readonly short = new Map<string, Map<number, Map<string, Entry[]>>>();
  /** Questions shorter than SHORT_KEY ("What is a cell?"): few, so scanned one by one. */
  private readonly tiny: Entry[] = [];
  private readonly byId = new Map<number, MmluQuestion>();

  constructor(questions: Iterable<MmluQuestion>) {
    for (const question of questions) {
      const norm = normalizeText(question.question);
      if (norm.length === 0) continue;
      const entry: Entry = { question, norm, normOptions: question.options.map(normalizeText) };
      this.byId.set(question.id, question);
      if (norm.length < SHORT_KEY) {
        this.tiny.push(entry);
        continue;
      }
      if (norm.length >= LONG_KEY) {
        const key = norm.slice(0, LONG_KEY);
        this.long.set(key, [...(this.long.get(key) ?? []), entry]);
        continue;
      }
      const key = norm.slice(0, SHORT_KEY);
      const byLength = this.short.get(key) ?? new Map<number, Map<string, Entry[]>>();
      this.short.set(key, byLength);
      const byText = byLength.get(norm.length) ?? new Map<string, Entry[]>();
      byLength.set(norm.length, byText);
      byText.set(norm, [...(byText.get(norm) ?? []), entry]);
    }
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: number): MmluQuestion | undefined {
    return this.byId.get(id);
  }

  /** The question the text asks (the last one it contains), or null. */
  find(text: string): MmluQuestion | null {
    const { norm, starts } = probe(text);
    let prefixOnly: Entry | null = null;
    for (let i = starts.length - 1; i >= 0; i--) {
      const s = starts[i]!;
      const long = this.long.get(norm.slice(s, s + LONG_KEY)) ?? [];
      const full = long.filter((c) => norm.startsWith(c.norm, s));
      for (const [length, byText] of this.short.get(norm.slice(s, s + SHORT_KEY)) ?? []) {
        const hit = byText.get(norm.slice(s, s + length));
        if (hit) full.push(...hit);
      }
      // A tiny question must end where a word ends, so "what is a cell?" does not match inside longer text.
      for (const t of this.tiny) {
        const after = norm[s + t.norm.length];
        if (norm.startsWith(t.norm, s) && (after === undefined || after === ' ')) full.push(t);
      }
      if (full.length > 0) return this.choose(full, norm, s).question;
      // A prompt may carry a truncated question: take the candidate sharing the longest prefix with the
      // text, when no other question text shares as much.
      if (!prefixOnly && long.length > 0) prefixOnly = longestSharedPrefix(long, norm, s);
    }
    return prefixOnly?.question ?? null;
  }

  /** Among matches at one place, prefer the longest text, then the one whose lettered options follow it. */
  private choose(matches: Entry[], norm: string, at: number): Entry {
    const longest = Math.max(...matches.map((m) => m.norm.length));
    const best = matches.filter((m) => m.norm.length === longest);
    if (best.length === 1) return best[0]!;
    // Duplicated questions differ in their options (often the same ones shuffled): count options found
    // under the same letter.
    const rest = norm.slice(at + longest);
    const score = (m: Entry) => m.normOptions.filter((o, i) => rest.includes(`${LETTERS[i]!.toLowerCase()}. ${o}`)).length;
    return best.reduce((a, b) => (score(b) > score(a) ? b : a));
  }
}
