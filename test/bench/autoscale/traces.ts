// Request traces for the autoscaling simulation, deterministic from a seed: an arrival-rate function over time
// (requests per second) turned into Poisson arrivals by thinning. Bursts are recorded so the report can count
// SLO violations during them.
import { seededRng, type Rng } from '../../../router/sim/rng.js';

export type TraceName = 'steady' | 'diurnal' | 'bursty';

export interface Trace {
  name: TraceName;
  description: string;
  /** Seconds of trace (after the warm-up). */
  durationS: number;
  /** Requests per second at time t (0 <= t < durationS). */
  rate: (t: number) => number;
  peakRate: number;
  /** [start, end) seconds of each burst (bursty only). */
  bursts: [number, number][];
}

export interface TraceSettings {
  steadyRate: number;
  steadyHours: number;
  diurnalMin: number;
  diurnalMax: number;
  diurnalHours: number;
  burstyBase: number;
  burstyHours: number;
  /** Mean gap between burst starts (minutes), burst length range (minutes) and height range (x base). */
  burstGapMin: number;
  burstMinutes: [number, number];
  burstHeight: [number, number];
}

export const DEFAULT_TRACES: TraceSettings = {
  steadyRate: 8,
  steadyHours: 2,
  diurnalMin: 2,
  diurnalMax: 16,
  diurnalHours: 24,
  burstyBase: 5,
  burstyHours: 6,
  burstGapMin: 30,
  burstMinutes: [4, 15],
  burstHeight: [2.5, 4],
};

export function makeTrace(name: TraceName, seed: number, s: TraceSettings = DEFAULT_TRACES): Trace {
  switch (name) {
    case 'steady':
      return { name, description: `Poisson at ${s.steadyRate} req/s for ${s.steadyHours} h`, durationS: s.steadyHours * 3600, rate: () => s.steadyRate, peakRate: s.steadyRate, bursts: [] };
    case 'diurnal': {
      const mid = (s.diurnalMax + s.diurnalMin) / 2;
      const amp = (s.diurnalMax - s.diurnalMin) / 2;
      // Starts at the trough (night), peaks half-way through the day.
      const rate = (t: number) => mid - amp * Math.cos((2 * Math.PI * t) / (s.diurnalHours * 3600));
      return { name, description: `Poisson, rate ${s.diurnalMin}-${s.diurnalMax} req/s on a ${s.diurnalHours} h sinusoid (trough at start)`, durationS: s.diurnalHours * 3600, rate, peakRate: s.diurnalMax, bursts: [] };
    }
    case 'bursty': {
      const rng = seededRng(seed ^ 0x5eed);
      const durationS = s.burstyHours * 3600;
      const bursts: { start: number; end: number; height: number }[] = [];
      let t = 10 * 60 + expo(rng, s.burstGapMin * 60);
      while (t < durationS - 20 * 60) {
        const len = (s.burstMinutes[0] + rng() * (s.burstMinutes[1] - s.burstMinutes[0])) * 60;
        const height = s.burstHeight[0] + rng() * (s.burstHeight[1] - s.burstHeight[0]);
        bursts.push({ start: t, end: Math.min(t + len, durationS), height });
        t += len + 5 * 60 + expo(rng, s.burstGapMin * 60);
      }
      const rate = (x: number) => s.burstyBase * (bursts.find((b) => x >= b.start && x < b.end)?.height ?? 1);
      return {
        name,
        description: `Poisson at ${s.burstyBase} req/s for ${s.burstyHours} h with ${bursts.length} step bursts of ${s.burstHeight[0]}-${s.burstHeight[1]}x lasting ${s.burstMinutes[0]}-${s.burstMinutes[1]} min (gaps: 5 min + exponential, mean ${s.burstGapMin} min)`,
        durationS,
        rate,
        peakRate: s.burstyBase * Math.max(1, ...bursts.map((b) => b.height)),
        bursts: bursts.map((b) => [b.start, b.end]),
      };
    }
  }
}

const expo = (rng: Rng, mean: number) => -Math.log(1 - rng()) * mean;

/** Arrival times in [from, to) of a Poisson process with the given rate function (thinning against maxRate). */
export function arrivals(rate: (t: number) => number, maxRate: number, from: number, to: number, rng: Rng): number[] {
  const out: number[] = [];
  let t = from;
  for (;;) {
    t += expo(rng, 1 / maxRate);
    if (t >= to) return out;
    if (rng() * maxRate < rate(t)) out.push(t);
  }
}

/** The same process as a lazy sequence (one pending event at a time in the simulation). */
export function* arrivalStream(rate: (t: number) => number, maxRate: number, from: number, to: number, rng: Rng): Generator<number> {
  let t = from;
  for (;;) {
    t += expo(rng, 1 / maxRate);
    if (t >= to) return;
    if (rng() * maxRate < rate(t)) yield t;
  }
}
