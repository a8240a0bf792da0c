// Up at once; down only once every recommendation of the hold window was lower, and then to their maximum
// (no flapping, one step to what the whole window needed). The hold window is the tier's
// scaleDownDelaySeconds, or its measured cold start when that is longer: a replica released and needed again
// within its cold start costs a whole cold start of loading GPUs (and the requests queued meanwhile), so
// holding an idle replica for as long as a new one takes to load is the ski-rental rule (never worse than
// twice the better choice in hindsight).
import type { ColdStart } from './types.js';
import { coveredMs, maxOf, pushSampleCoveringWindow, type Sample } from './window.js';

/**
 * The cold start as the autoscaler sees it: from the tick more replicas were asked for than were Ready until
 * the first of them is Ready. A scale-up cancelled before any replica was Ready measures nothing; after a
 * measurement, the next one starts once every replica asked for is Ready (replicas asked for one after another
 * would otherwise add up into one long "cold start").
 */
export function observeColdStart(prev: ColdStart | undefined, current: number, ready: number, nowMs: number): ColdStart {
  let c: ColdStart = prev ?? { loadingSinceMs: null, readyAtStart: 0, measured: false, seconds: null };
  if (c.loadingSinceMs !== null && !c.measured && ready > c.readyAtStart) {
    const seen = (nowMs - c.loadingSinceMs) / 1000;
    // Halfway towards each new measurement: follows a slower image or node pool within a few scale-ups.
    c = { ...c, measured: true, seconds: c.seconds === null ? seen : (c.seconds + seen) / 2 };
  }
  if (current <= ready) return { ...c, loadingSinceMs: null, measured: false };
  if (c.loadingSinceMs === null) return { ...c, loadingSinceMs: nowMs, readyAtStart: ready, measured: false };
  return c;
}

export interface Stabilised {
  desired: number;
  recommendations: Sample[];
  reason: string[];
}

export function stabilise(a: { current: number; recommended: number; previous: readonly Sample[]; delaySeconds: number; coldStartSeconds: number | null; nowMs: number }): Stabilised {
  const cold = a.coldStartSeconds !== null && a.coldStartSeconds > a.delaySeconds;
  const holdS = cold ? Math.round(a.coldStartSeconds!) : a.delaySeconds;
  const what = cold ? `${holdS}s (the tier's measured cold start)` : `${holdS}s`;
  const holdMs = holdS * 1000;
  const recommendations = pushSampleCoveringWindow(a.previous, a.recommended, a.nowMs, holdMs);
  if (a.recommended > a.current) return { desired: a.recommended, recommendations, reason: [`scale up ${a.current} -> ${a.recommended}`] };
  if (a.recommended === a.current) return { desired: a.current, recommendations, reason: [] };
  const covered = coveredMs(recommendations, a.nowMs);
  const peak = maxOf(recommendations);
  if (covered >= holdMs && peak < a.current) return { desired: peak, recommendations, reason: [`scale down ${a.current} -> ${peak}: lower for ${what}`] };
  return {
    desired: a.current,
    recommendations,
    reason: [`holding ${a.current}: scale down after ${what} of lower recommendations (${Math.round(Math.min(covered, holdMs) / 1000)}s so far${peak >= a.current ? `, up to ${peak} in the window` : ''})`],
  };
}
