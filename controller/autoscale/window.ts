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

/**
 * Like pushSample, but also keeps the newest sample from before the window: it was still in effect at the window's
 * start. So the samples cover the whole window even when ticks arrive a little late or the window is not a whole
 * number of ticks (with pushSample, a 60 s window over 10 s ticks that each come 3 ms late never reaches 60 s).
 */
export function pushSampleCoveringWindow(samples: readonly Sample[], value: number, nowMs: number, windowMs: number): Sample[] {
  if (samples.some((s) => s.atMs > nowMs)) return [{ atMs: nowMs, value }];
  const all = [...samples, { atMs: nowMs, value }];
  const start = nowMs - windowMs;
  let from = 0; // the newest sample at or before the window's start (the new one itself for a zero window)
  all.forEach((s, i) => {
    if (s.atMs <= start) from = i;
  });
  return all.slice(from);
}

/** The samples taken at or after `fromMs`. */
export const since = (samples: readonly Sample[], fromMs: number): Sample[] => samples.filter((x) => x.atMs >= fromMs);

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
