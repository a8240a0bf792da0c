// Scale from zero: which tier serves a request whose tier has no replica once the hold is over. Pure.
//
// Prefer the largest warm tier below the one asked: it is the closest in quality among those that cost less, and
// the request would have reached the asked tier only through (or instead of) the smaller ones anyway. With none
// below, the smallest warm tier above: the cheapest that is at least as good.

/**
 * @param warm   per tier (smallest first): has endpoints now
 * @param asked  the tier that has none
 * @param floor  tiers at or below this index are not candidates (a routed request never asks a tier twice)
 * @param skip   tiers known to have no replica for this request
 * @returns the tier index, or -1 when no tier qualifies
 */
export function nearestWarmTier(warm: readonly boolean[], asked: number, floor = -1, skip: ReadonlySet<number> = new Set()): number {
  const ok = (i: number) => i > floor && i !== asked && warm[i] === true && !skip.has(i);
  for (let i = asked - 1; i > floor; i--) if (ok(i)) return i;
  for (let i = asked + 1; i < warm.length; i++) if (ok(i)) return i;
  return -1;
}
