// Which rows are train and which are test. The default is the id rule (test when the id's trailing integer
// is divisible by 5, parsed in rows.ts). The out-of-domain split holds whole subject categories out: test =
// every row of the listed categories, train = every row of the others, so nothing fitted (classifier,
// POMDP, policy knobs) has seen a question of a test category.
import { DataError, type EvalRow } from './rows.js';

export type SplitSpec = { kind: 'id' } | { kind: 'categories'; test: string[] };

export const ID_SPLIT: SplitSpec = { kind: 'id' };

export function describeSplit(s: SplitSpec): string {
  return s.kind === 'id'
    ? 'train: id % 5 != 0; test: id % 5 == 0'
    : `out of domain: test = categories ${s.test.join(', ')}; train = every other category`;
}

/** Parse "c1,c2,..." (trimmed, case kept; at least one). */
export function parseCategoryList(value: string): string[] {
  const cats = value.split(',').map((s) => s.trim());
  if (cats.length === 0 || cats.some((c) => c === '')) throw new DataError('expected a comma-separated list of category names, e.g. law,history');
  if (new Set(cats).size !== cats.length) throw new DataError(`a category is listed twice in ${value}`);
  return cats;
}

/** The rows with their `test` flag set by the split (new objects; the input is not changed). */
export function applySplit<T extends EvalRow>(rows: readonly T[], split: SplitSpec): T[] {
  if (split.kind === 'id') return [...rows];
  const present = new Map<string, number>();
  for (const r of rows) {
    if (r.category === undefined) throw new DataError(`row ${r.key} has no category; an out-of-domain split needs a category on every row`);
    present.set(r.category, (present.get(r.category) ?? 0) + 1);
  }
  const unknown = split.test.filter((c) => !present.has(c));
  if (unknown.length > 0) {
    throw new DataError(`unknown categor${unknown.length > 1 ? 'ies' : 'y'} ${unknown.join(', ')}; the data has ${[...present.keys()].sort().join(', ')}`);
  }
  if (split.test.length >= present.size) throw new DataError(`every category of the data is a test category; leave at least one for training`);
  const test = new Set(split.test);
  return rows.map((r) => ({ ...r, test: test.has(r.category!) }));
}
