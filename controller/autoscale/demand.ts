// What a tier's load will be once it has enough replicas, from a short window of readings, so that a burst
// scales the tier for its new arrival rate and not for the backlog that piles up while new replicas load.
//
// In-flight requests at a tier are running (in a vLLM batch), waiting (vLLM's queue) or held (the router,
// no ready replica). Over a window of length T with C calls completed (the router's upstream call counter):
//   arrival rate     lambda = (C + L_end - L_start) / T          (conservation: in = out + growth)
//   service time     S = mean(running) x T / C                  (Little's law on the running part)
//   demand           D = lambda x S                             (in flight at this rate without queueing)
//   backlog          B = waiting + held now;  drained within drainSeconds it adds B x S / drainSeconds
// Without a queue, running = in flight and D equals the average in-flight (plus the trend): the plain rule.
// With one, the plain rule would size the tier for the backlog, which keeps growing until the replicas it
// asked for are Ready, and overshoot (measured in docs/benchmarks/autoscaling-*.md).
import type { Sample } from './window.js';

export interface DemandEstimate {
  /** Calls per second arriving at the tier. */
  rate: number;
  /** Seconds a call runs (in its batch). */
  serviceS: number;
  /** In flight at this rate without queueing. */
  demand: number;
  backlog: number;
  /** demand + the backlog's share: what to size the tier for. */
  load: number;
}

export interface DemandInput {
  /** In-flight samples of the window, oldest first (the first one is the window's start). */
  inFlight: readonly Sample[];
  /** vLLM waiting at the same moments (missing = unknown, counted as 0). */
  waiting: readonly Sample[];
  /** Completed upstream calls (cumulative) at the window's start and now; null = unknown. */
  callsAtStart: number | null;
  callsNow: number | null;
  ready: number;
  /** The last service time measured (used while nothing completes, e.g. while all replicas load). */
  previousServiceS: number | null;
  drainSeconds: number;
}

const MIN_CALLS = 3;

export function estimateDemand(d: DemandInput): DemandEstimate | null {
  const first = d.inFlight[0];
  const last = d.inFlight.at(-1);
  if (!first || !last || last.atMs <= first.atMs || d.callsAtStart === null || d.callsNow === null) return null;
  const T = (last.atMs - first.atMs) / 1000;
  const C = Math.max(0, d.callsNow - d.callsAtStart);
  const waitingAt = (at: number) => d.waiting.find((w) => w.atMs === at)?.value ?? 0;
  // With no ready replica everything in flight is held: nothing runs.
  const running = d.inFlight.map((s) => (d.ready === 0 ? 0 : Math.max(0, s.value - waitingAt(s.atMs))));
  const meanRunning = running.reduce((a, b) => a + b, 0) / running.length;
  const serviceS = C >= MIN_CALLS && meanRunning > 0 ? (meanRunning * T) / C : d.previousServiceS;
  if (serviceS === null || !(serviceS > 0)) return null;
  const rate = Math.max(0, (C + last.value - first.value) / T);
  const demand = rate * serviceS;
  const backlog = d.ready === 0 ? last.value : Math.min(last.value, waitingAt(last.atMs));
  return { rate, serviceS, demand, backlog, load: demand + (backlog * serviceS) / d.drainSeconds };
}
