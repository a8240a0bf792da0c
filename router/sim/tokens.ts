// Approximate tokenisation. The simulator has no real tokenizer, so it splits text into word pieces that
// behave roughly like a Llama/Mistral BPE on English: a leading space attaches to the word, words are cut
// into pieces of at most 6 letters, numbers into groups of at most 3 digits, every other symbol and
// every newline is its own token. On the MMLU-Pro outputs this gives about 3.9 characters per token, close
// to the usual rule of thumb of 4. Pieces concatenate back to the exact text, so streaming and logprobs
// stay consistent with `usage`.
import { hasPrefix } from '../verify/prompt.js';

/**
 * The rule, as a regular expression. It is the specification: the scanner below cuts the same pieces
 * without allocating a match per token (several times faster on the 2 KB prompts of self-verification),
 * and a unit test holds the two together.
 */
export const TOKEN_PATTERN = /\n| ?[A-Za-z]{1,6}| ?\d{1,3}| ?[^\sA-Za-z\d]|\s/gu;

const SPACE = 0x20;
const NEWLINE = 0x0a;

const isLetter = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** JavaScript's \s: ASCII and Unicode white space and line terminators. */
function isWhiteSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/** Index just after the token that starts at `i` (i < text.length). */
function tokenEnd(text: string, i: number): number {
  let c = text.charCodeAt(i);
  if (c === NEWLINE) return i + 1;
  let at = i;
  if (c === SPACE) {
    // A space joins the piece that follows it, unless white space (or nothing) follows.
    if (i + 1 >= text.length || isWhiteSpace(text.charCodeAt(i + 1))) return i + 1;
    at = i + 1;
    c = text.charCodeAt(at);
  } else if (isWhiteSpace(c)) {
    return i + 1;
  }
  if (isLetter(c)) {
    let end = at + 1;
    while (end < text.length && end - at < 6 && isLetter(text.charCodeAt(end))) end++;
    return end;
  }
  if (isDigit(c)) {
    let end = at + 1;
    while (end < text.length && end - at < 3 && isDigit(text.charCodeAt(end))) end++;
    return end;
  }
  // Any other symbol is one code point: a surrogate pair counts once, as with the regular expression's u flag.
  if (c >= 0xd800 && c <= 0xdbff && at + 1 < text.length) {
    const low = text.charCodeAt(at + 1);
    if (low >= 0xdc00 && low <= 0xdfff) return at + 2;
  }
  return at + 1;
}

export function splitTokens(text: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; ) {
    const end = tokenEnd(text, i);
    pieces.push(text.slice(i, end));
    i = end;
  }
  return pieces;
}

export function countTokens(text: string, from = 0): number {
  let n = 0;
  for (let i = from; i < text.length; i = tokenEnd(text, i)) n++;
  return n;
}

/**
 * countTokens for texts that often begin with one fixed prefix (the 2 KB of instructions and examples of
 * the self-verification prompt): the prefix is counted once, here. Exact, because no token spans a
 * newline (white space is never inside a piece, and a space joins only what follows it on its line) and
 * the prefix ends with one.
 */
export function prefixAwareTokenCounter(prefix: string): (text: string) => number {
  if (!prefix.endsWith('\n')) throw new Error('the prefix must end with a newline');
  const prefixTokens = countTokens(prefix);
  return (text) => (hasPrefix(text, prefix) ? prefixTokens + countTokens(text, prefix.length) : countTokens(text));
}

/** The first `max` tokens of a text: how many there are (at most max) and where they end. */
export function leadingTokens(text: string, max: number): { count: number; end: number } {
  let count = 0;
  let i = 0;
  while (i < text.length && count < max) {
    i = tokenEnd(text, i);
    count++;
  }
  return { count, end: i };
}
