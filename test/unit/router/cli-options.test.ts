import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { checkedBy, intIn, numberIn, oneOf, parsePort, tierList, validatedBy } from '../../../router/cli/options.js';

const refuses = (parse: (v: string) => unknown, value: string, message: RegExp) =>
  assert.throws(() => parse(value), (err: unknown) => err instanceof InvalidArgumentError && message.test(err.message));

test('numberIn and intIn: bounds, integers, an exclusive minimum, and empty text', () => {
  assert.equal(numberIn(0, 1)('0.25'), 0.25);
  refuses(numberIn(0, 1), '1.5', /must be a number from 0 to 1\./);
  refuses(numberIn(0, 1), ' ', /must be a number/);
  refuses(numberIn(0, 10, { minExclusive: true }), '0', /must be a number greater than 0 and at most 10\./);
  assert.equal(intIn(1, 3)('3'), 3);
  refuses(intIn(1, 3), '2.5', /must be an integer from 1 to 3\./);
  assert.equal(parsePort('0'), 0);
  refuses(parsePort, '65536', /must be an integer from 0 to 65535/);
});

test('tierList, oneOf, checkedBy and validatedBy', () => {
  assert.deepEqual(tierList(2)(' a, b ,c'), ['a', 'b', 'c']);
  refuses(tierList(2), 'a', /must list at least 2 model names/);
  refuses(tierList(1, 2), 'a,b,c', /must list 1 to 2 model names/);
  refuses(tierList(1), 'a,,b', /must list/);
  assert.equal(oneOf('x', 'y')('y'), 'y');
  refuses(oneOf('kubernetes', 'local'), 'cloud', /^must be kubernetes or local\.$/);
  refuses(oneOf('a', 'b', 'c'), 'd', /^must be a, b or c\.$/);
  const parse = (v: string) => {
    if (v !== 'ok') throw new Error(`bad spec "${v}"`);
    return 42;
  };
  assert.equal(checkedBy(parse)('ok'), 42);
  assert.equal(validatedBy(parse)('ok'), 'ok');
  refuses(validatedBy(parse, ' (or "none")'), 'no', /^bad spec "no" \(or "none"\)$/);
});
