// The query featurizer: one function from prompt text to a sparse vector, used unchanged at training time
// (tiermix train) and at serving time (the router / tiermix eval). Hashed word unigrams and bigrams, hashed
// character 3- and 4-grams, plus a few length and structure features in fixed slots after the hash space.
//
// Any change to what this file computes must bump FEATURE_VERSION: a trained model records the version it
// was trained with and loading refuses a mismatch (see runtime.ts).
import { formatMmluPrompt } from '../sim/dataset.js';
import type { EvalRow } from '../train/rows.js';

export const FEATURE_VERSION = 'hash-ngram-v1';

/** Length and structure features, in slots [2^hashBits, 2^hashBits + DENSE_FEATURES). */
export const DENSE_FEATURE_NAMES = [
  'log_chars',
  'log_words',
  'option_lines',
  'digit_share',
  'upper_share',
  'math_symbol_share',
  'non_ascii_share',
  'log_numbers',
  'log_lines',
  'question_marks',
  'latex_markers',
  'mean_option_log_chars',
] as const;
export const DENSE_FEATURES = DENSE_FEATURE_NAMES.length;

export interface FeatureSpec {
  version: string;
  hashBits: number;
}

export function featureDim(spec: Pick<FeatureSpec, 'hashBits'>): number {
  return 2 ** spec.hashBits + DENSE_FEATURES;
}

/** Sparse features: strictly increasing indices into [0, featureDim). */
export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

// FNV-1a, 32 bits, over UTF-16 code units; a namespace seed keeps word, bigram and char-gram hashes apart.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnvString(h: number, s: string, from = 0, to = s.length): number {
  for (let i = from; i < to; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

const SEED_WORD = fnvString(FNV_OFFSET, 'w:');
const SEED_BIGRAM = fnvString(FNV_OFFSET, 'b:');
const SEED_CHAR3 = fnvString(FNV_OFFSET, 'c3:');
const SEED_CHAR4 = fnvString(FNV_OFFSET, 'c4:');

/** Lower case, every digit to 0 (numbers generalise by shape), whitespace runs to one space. */
export function normalizeText(text: string): string {
  return text.toLowerCase().replace(/[0-9]/g, '0').replace(/\s+/g, ' ').trim();
}

const TOKEN_RE = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;
const OPTION_LINE_RE = /^\s*\(?[A-J][.)]\s/gm;

function share(count: number, total: number): number {
  return total === 0 ? 0 : count / total;
}

/** Length and structure of the raw (unnormalised) text. */
export function denseFeatures(text: string): number[] {
  const chars = text.length;
  let digits = 0;
  let upper = 0;
  let math = 0;
  let nonAscii = 0;
  let qmarks = 0;
  for (let i = 0; i < chars; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c >= 65 && c <= 90) upper++;
    else if (c > 127) nonAscii++;
    if (c === 63) qmarks++;
    // = + - * / ^ \ $ < > % ( )
    if (c === 61 || c === 43 || c === 45 || c === 42 || c === 47 || c === 94 || c === 92 || c === 36 || c === 60 || c === 62 || c === 37 || c === 40 || c === 41) math++;
  }
  const words = text.match(/\S+/g)?.length ?? 0;
  const numbers = text.match(/\d+(?:[.,]\d+)*/g)?.length ?? 0;
  const lines = text.split('\n').length;
  const optionLines = [...text.matchAll(OPTION_LINE_RE)];
  let optionChars = 0;
  for (const m of optionLines) {
    const start = m.index + m[0].length;
    const end = text.indexOf('\n', start);
    optionChars += (end < 0 ? chars : end) - start;
  }
  const latex = text.match(/\\[a-zA-Z]+|\$|\^|_\{/g)?.length ?? 0;
  return [
    Math.log1p(chars) / 8,
    Math.log1p(words) / 6,
    Math.min(optionLines.length, 12) / 10,
    share(digits, chars) * 4,
    share(upper, chars) * 4,
    share(math, chars) * 4,
    share(nonAscii, chars) * 4,
    Math.log1p(numbers) / 4,
    Math.log1p(lines) / 3,
    Math.min(qmarks, 5) / 5,
    Math.log1p(latex) / 3,
    optionLines.length === 0 ? 0 : Math.log1p(optionChars / optionLines.length) / 5,
  ];
}

// Scratch for featurize(): counts per hash bucket and the buckets touched, reused across calls (featurize is
// synchronous, so one set per process is enough); a Map and an array of entries per call cost more than the
// hashing itself.
let scratchCounts = new Float64Array(0);
let scratchTouched = new Int32Array(0);

/**
 * Featurize one prompt. Hashed part: counts of word unigrams and bigrams and char 3/4-grams of the
 * normalised text, each log1p-damped, the whole hashed block scaled to unit L2 norm. Dense part: denseFeatures.
 */
export function featurize(text: string, spec: Pick<FeatureSpec, 'hashBits'>): SparseVector {
  const size = 2 ** spec.hashBits;
  const mask = size - 1;
  if (scratchCounts.length < size) scratchCounts = new Float64Array(size);
  const counts = scratchCounts;
  const norm = normalizeText(text);
  // Buckets touched: at most one per token, bigram, char 3-gram and char 4-gram, each fewer than the characters.
  const most = 4 * (norm.length + 2);
  if (scratchTouched.length < most) scratchTouched = new Int32Array(Math.max(most, 2 * scratchTouched.length));
  const touched = scratchTouched;
  let nTouched = 0;
  const add = (h: number): void => {
    const idx = h & mask;
    if (counts[idx] === 0) touched[nTouched++] = idx;
    counts[idx]!++;
  };
  const tokens = norm.match(TOKEN_RE) ?? [];
  let prev: string | null = null;
  for (const t of tokens) {
    add(fnvString(SEED_WORD, t));
    if (prev !== null) add(fnvString(fnvString(fnvString(SEED_BIGRAM, prev), ' '), t));
    prev = t;
  }
  const padded = ` ${norm} `;
  for (let i = 0; i + 3 <= padded.length; i++) add(fnvString(SEED_CHAR3, padded, i, i + 3));
  for (let i = 0; i + 4 <= padded.length; i++) add(fnvString(SEED_CHAR4, padded, i, i + 4));

  const order = touched.subarray(0, nTouched).sort();
  const damped = new Float64Array(nTouched);
  let sq = 0;
  for (let k = 0; k < nTouched; k++) {
    const v = Math.log1p(counts[order[k]!]!);
    damped[k] = v;
    sq += v * v;
  }
  const scale = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  const dense = denseFeatures(text);
  const indices = new Int32Array(nTouched + dense.length);
  const values = new Float32Array(nTouched + dense.length);
  for (let k = 0; k < nTouched; k++) {
    const idx = order[k]!;
    indices[k] = idx;
    values[k] = damped[k]! * scale;
    counts[idx] = 0; // leave the scratch clean for the next call
  }
  dense.forEach((v, k) => {
    indices[nTouched + k] = size + k;
    values[nTouched + k] = v;
  });
  return { indices, values };
}

/** The sparse vector as the dense float row the ONNX model takes. */
export function toDense<T extends Float32Array>(x: SparseVector, dim: number, out: T): T {
  out.fill(0);
  for (let k = 0; k < x.indices.length; k++) out[x.indices[k]!] = x.values[k]!;
  return out;
}

/**
 * The text the classifier sees for a data row, the same text the router featurizes when that prompt arrives
 * (the last user message of a chat request, or a completion's prompt), so that training and serving agree:
 *   - a multiple-choice row (options given): the prompt a tier is sent, formatMmluPrompt (question and lettered
 *     options), which is what the demo and an MMLU-style client send as the user message;
 *   - a row without options (logged chat traffic): the question text as it is.
 */
export function rowText(row: Pick<EvalRow, 'question' | 'options' | 'key'>): string {
  if (typeof row.question !== 'string') throw new Error(`row ${row.key}: no question text; the classifier needs question (and options)`);
  if (!row.options || row.options.length === 0) return row.question;
  return formatMmluPrompt({ question: row.question, options: row.options });
}
