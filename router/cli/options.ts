// Option parsers shared by the tiermix subcommands. Each returns the parsed value or throws commander's
// InvalidArgumentError, whose message commander prints after the flag's name ("--x: must be ..."), then exits 2.
import { InvalidArgumentError } from 'commander';

/** Exit code for a usage error (bad flag, missing file named on the command line). */
export const USAGE_ERROR = 2;

/** A number in [min, max] (or (min, max] with minExclusive), optionally an integer. */
export function numberIn(min: number, max: number, opts: { integer?: boolean; minExclusive?: boolean } = {}) {
  return (value: string): number => {
    const n = Number(value);
    const kind = opts.integer ? 'an integer' : 'a number';
    const low = opts.minExclusive ? n <= min : n < min;
    if (value.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || low || n > max) {
      throw new InvalidArgumentError(`must be ${kind} ${opts.minExclusive ? `greater than ${min} and at most` : `from ${min} to`} ${max}.`);
    }
    return n;
  };
}

/** An integer in [min, max]. */
export const intIn = (min: number, max: number) => numberIn(min, max, { integer: true });

/** A TCP port, 0 (any free port) to 65535. */
export const parsePort = intIn(0, 65535);

/** Model names separated by commas, smallest tier first, between min and max of them. */
export function tierList(min: number, max = Infinity) {
  return (value: string): string[] => {
    const tiers = value.split(',').map((s) => s.trim());
    if (tiers.length < min || tiers.length > max || tiers.some((t) => t === '')) {
      const count = max === Infinity ? `at least ${min}` : `${min} to ${max}`;
      throw new InvalidArgumentError(`must list ${count} model names, smallest first, e.g. m1,m2,m3.`);
    }
    return tiers;
  };
}

/** One of the given words. */
export function oneOf<T extends string>(...values: readonly T[]) {
  return (value: string): T => {
    if (!(values as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`must be ${values.slice(0, -1).join(', ')}${values.length > 1 ? ' or ' : ''}${values.at(-1)}.`);
    }
    return value as T;
  };
}

/**
 * A flag checked by a parser the project already has (a verifier spec, a category list, ...): its error message
 * becomes the usage message, with `hint` appended.
 */
export function checkedBy<T>(parse: (value: string) => T, hint = ''): (value: string) => T {
  return (value: string): T => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError(`${(err as Error).message}${hint}`);
    }
  };
}

/** Like checkedBy, but the flag's value stays the text as given (parsed again later where it is used). */
export const validatedBy = (parse: (value: string) => unknown, hint = '') => (value: string): string => {
  checkedBy(parse, hint)(value);
  return value;
};
