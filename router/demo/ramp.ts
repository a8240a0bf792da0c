// The demo's load shape (pure; tested): low -> high -> low requests in flight, so that the tiers visibly scale up
// and then down. Steps are counted in requests (the report's numbers stay per question); the concurrency of the
// step that the next request belongs to is what the load generator keeps in flight.

export interface RampStep {
  label: 'low' | 'high' | 'flat';
  /** Requests sent in this step. */
  requests: number;
  /** Requests in flight during it. */
  concurrency: number;
}

/** Shares of the requests sent at low, high and low concurrency. */
export const RAMP_SHARES = [0.25, 0.5, 0.25] as const;

/** The low concurrency for a peak: a quarter of it, at least 1. */
export const lowConcurrency = (peak: number) => Math.max(1, Math.round(peak / 4));

/**
 * low -> high -> low over `total` requests (RAMP_SHARES; rounding goes to the high step), or one flat step. A step
 * with no requests is left out.
 */
export function rampSchedule(total: number, peak: number, ramp: boolean, low = lowConcurrency(peak)): RampStep[] {
  if (!ramp) return [{ label: 'flat', requests: total, concurrency: peak }];
  const first = Math.floor(total * RAMP_SHARES[0]);
  const last = Math.floor(total * RAMP_SHARES[2]);
  const steps: RampStep[] = [
    { label: 'low', requests: first, concurrency: Math.min(low, peak) },
    { label: 'high', requests: total - first - last, concurrency: peak },
    { label: 'low', requests: last, concurrency: Math.min(low, peak) },
  ];
  return steps.filter((s) => s.requests > 0);
}

/** Index of the step that request `index` (0-based) belongs to; the last step beyond the end. */
export function stepOf(schedule: readonly RampStep[], index: number): number {
  let end = 0;
  for (let k = 0; k < schedule.length; k++) {
    end += schedule[k]!.requests;
    if (index < end) return k;
  }
  return schedule.length - 1;
}

/** One line for the report, e.g. "75 at 4 in flight -> 150 at 16 -> 75 at 4". */
export function describeRamp(schedule: readonly RampStep[]): string {
  return schedule.map((s, i) => `${s.requests} ${i === 0 ? `requests at ${s.concurrency} in flight` : `at ${s.concurrency}`}`).join(' -> ');
}
