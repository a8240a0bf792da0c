// Time windows over (time, value) samples: the moving average of in-flight requests and the scale-down
// stabilisation window of recommendations. Pure; arrays are copied, never mutated.

export interface Sample {
  atMs: number;
  value: number;
}

/** Samples with `value` appended at `nowMs`, keeping those at most `windowMs` old (a clock step back restarts). */
export function pushSample(samples: readonly Sample[], value: number, nowMs: number, windowMs: number): Sample[] {
  if (samples.some((s) => s.atMs > nowMs)) return [{ atMs: nowMs, value }];
  return [...samples.filter((s) => s.atMs >= nowMs - windowMs), { atMs: nowMs, value }];
}

/** Plain mean of the samples (ticks are regular); 0 for none. */
export function mean(samples: readonly Sample[]): number {
  return samples.length === 0 ? 0 : samples.reduce((s, x) => s + x.value, 0) / samples.length;
}

export function maxOf(samples: readonly Sample[]): number {
  return samples.reduce((m, x) => Math.max(m, x.value), -Infinity);
}

/** How long the samples reach back from nowMs, in ms (0 for none). */
export function coveredMs(samples: readonly Sample[], nowMs: number): number {
  return samples.length === 0 ? 0 : nowMs - samples[0]!.atMs;
}
