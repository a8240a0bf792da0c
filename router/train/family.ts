// A policy family: one routing idea with a knob (threshold, mixing weight, lookup table, lambda). Its
// candidates are its operating points; the harness keeps those on the TRAIN Pareto frontier and reports
// them on TEST, so any fitting a family does must use `fit.train` only.
import type { Candidate, EvalContext } from './evaluate.js';
import type { ObservedRow } from './observe.js';

export interface FitContext extends EvalContext {
  /** Training rows: the only rows a family may look at when it builds its candidates. */
  train: readonly ObservedRow[];
}

export type SignalKind = 'none' | 'real' | 'verifier' | 'classifier' | 'mixed';

export interface PolicyFamily {
  name: string;
  description: string;
  /** What the policy looks at: nothing, real signals (agreement, extraction), verifier observations, a classifier. */
  signals: SignalKind;
  /** always-smallest and always-largest define the metric axis; curve metrics are left out for them. */
  reference?: boolean;
  /** Knob of the operating point shown in the table; default: highest IBC lift on train (AutoMix's rule). */
  operatingKnob?: string;
  candidates(fit: FitContext): Candidate[];
}

/** A family that exists in name only (yet), or does not apply to this run, and why. */
export interface AbsentFamily {
  name: string;
  reason: string;
}

/** Up to `max` distinct values spread over the sorted values (all of them when there are few). */
export function spreadValues(values: Iterable<number>, max = 40): number[] {
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  if (distinct.length <= max) return distinct;
  return Array.from({ length: max }, (_, i) => distinct[Math.round((i * (distinct.length - 1)) / (max - 1))]!);
}

export const fmtKnob = (v: number): string => (Number.isInteger(v * 1000) ? String(v) : v.toFixed(4));
