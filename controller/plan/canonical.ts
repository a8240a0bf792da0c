// Deterministic output: objects with their keys sorted and undefined fields dropped, so the same plan serializes to
// the same bytes (server-side apply of an unchanged plan is a no-op; a rendered file changes only when its content
// does). Array order is kept: it is meaningful (args, env, tiers) and the builders sort the lists that are sets.
export function canonical<T>(value: T): T {
  return sortDeep(value) as T;
}

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortDeep(v);
  }
  return out;
}

/** Deep equality of two JSON-like values, ignoring key order and undefined fields. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
