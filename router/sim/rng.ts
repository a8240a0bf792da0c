// Deterministic randomness for the simulator. Answers, verdicts and logprobs are functions of the prompt
// (through a hash) so that replicas of one model agree with each other and tests can pin outcomes.
import { hasPrefix } from '../verify/prompt.js';

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function addChars(h: number, s: string, from = 0): number {
  for (let i = from; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

/** The separator after each part. */
function endPart(h: number): number {
  h ^= 0x1f;
  return Math.imul(h, FNV_PRIME);
}

function addParts(h: number, parts: readonly (string | number)[]): number {
  for (const part of parts) h = endPart(addChars(h, String(part)));
  return h;
}

/** 32-bit FNV-1a over the UTF-16 code units of each part; parts are separated so ("ab","c") != ("a","bc"). */
export function hashString(...parts: readonly (string | number)[]): number {
  return addParts(FNV_OFFSET, parts) >>> 0;
}

/**
 * hashString(...head, text, ...tail), for texts that often begin with a long fixed prefix (the 2 KB of the
 * self-verification prompt): the state after `head` and the prefix is computed once. Same values.
 */
export function prefixedHash(head: readonly (string | number)[], prefix: string): (text: string, ...tail: (string | number)[]) => number {
  const afterHead = addParts(FNV_OFFSET, head);
  const afterPrefix = addChars(afterHead, prefix);
  return (text, ...tail) => {
    const h = hasPrefix(text, prefix) ? addChars(afterPrefix, text, prefix.length) : addChars(afterHead, text);
    return addParts(endPart(h), tail) >>> 0;
  };
}

/** Small, fast seeded generator (mulberry32); good enough for simulation, not for cryptography. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[Math.floor(rng() * items.length)]!;
}

/** Integer in [lo, hi] inclusive. */
export function intBetween(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/** Standard normal by Box-Muller. */
export function gaussian(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}
