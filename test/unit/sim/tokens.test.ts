// The hand-written token scanner against the regular expression it replaced (TOKEN_PATTERN, the spec).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countTokens, leadingTokens, prefixAwareTokenCounter, splitTokens, TOKEN_PATTERN } from '../../../router/sim/tokens.js';
import { buildVerificationPrompt, VERIFY_PROMPT_PREFIX } from '../../../router/verify/prompt.js';
import { seededRng } from '../../../router/sim/rng.js';

const byPattern = (text: string) => text.match(new RegExp(TOKEN_PATTERN.source, TOKEN_PATTERN.flags)) ?? [];

function agree(text: string): void {
  const want = byPattern(text);
  assert.deepEqual(splitTokens(text), want, JSON.stringify(text));
  assert.equal(countTokens(text), want.length, JSON.stringify(text));
}

describe('token scanner', () => {
  it('cuts every UTF-16 code unit as the pattern does, alone and after a space, a letter and a digit', () => {
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      for (const text of [ch, ` ${ch}`, `a${ch}b`, `7${ch}`, ` ${ch} `, `${ch}${ch}`]) {
        const want = byPattern(text);
        const got = splitTokens(text);
        if (got.length !== want.length || got.some((p, i) => p !== want[i])) assert.fail(`code unit ${c.toString(16)} in ${JSON.stringify(text)}`);
      }
    }
  });

  it('agrees on random text of letters, digits, white space, symbols, surrogate pairs and lone surrogates', () => {
    const alphabet = ['a', 'Z', 'q', '5', '0', ' ', ' ', '\n', '\t', '\r', '\u00a0', '\u2028', '.', '(', '$', 'é', '«', '😀', '\ud83d', '\ude00', '\ufeff', '-'];
    const rng = seededRng(7);
    for (let k = 0; k < 3000; k++) {
      let text = '';
      const length = Math.floor(rng() * 40);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(rng() * alphabet.length)]!;
      agree(text);
    }
  });

  it('agrees on long runs and on the self-verification prompt', () => {
    agree('abcdefghijklmnopqrstuvwxyz 1234567890123 ' + 'x'.repeat(13) + ' ' + '9'.repeat(7));
    agree(VERIFY_PROMPT_PREFIX);
    agree(' The answer conflicts with what is known about the subject of the question.\nVerification Decision: The AI generated answer is Correct.\n\n');
  });

  it('counts a fixed prefix once and gives countTokens of every text', () => {
    const count = prefixAwareTokenCounter(VERIFY_PROMPT_PREFIX);
    const texts = [
      buildVerificationPrompt({ context: '', question: 'Name one use of a suspension bridge.', answer: ' It carries a road.' }),
      buildVerificationPrompt({ context: 'Some context.', question: 'Q?', answer: '42' }),
      VERIFY_PROMPT_PREFIX,
      VERIFY_PROMPT_PREFIX.slice(0, -1),
      `${VERIFY_PROMPT_PREFIX} leading space`,
      'Name one use of a suspension bridge.',
      '',
    ];
    for (const text of texts) assert.equal(count(text), countTokens(text), JSON.stringify(text.slice(-40)));
    assert.throws(() => prefixAwareTokenCounter('no newline at the end'), /newline/);
  });

  it('finds where the first max tokens end', () => {
    const text = ' It is blue.\nMore text';
    assert.deepEqual(leadingTokens(text, 3), { count: 3, end: ' It is blue'.length });
    assert.deepEqual(leadingTokens(text, 100), { count: countTokens(text), end: text.length });
    assert.deepEqual(leadingTokens('', 5), { count: 0, end: 0 });
    assert.deepEqual(leadingTokens('abc', 0), { count: 0, end: 0 });
  });
});
