// Verifier observations per row and tier. A real conf__<model> always wins (it is a measured signal);
// otherwise `simulated` draws k verdicts from the stated verifier model (router/verify/simulated-verifier.ts),
// seeded per (seed, row id, tier) so results do not depend on row order, and `none` leaves it unknown.
import { hashString, seededRng } from '../sim/rng.js';
import {
  DEFAULT_SIMULATED_VERIFIER,
  formatVerifierSpec,
  parseVerifierSpec,
  simulateVerdicts,
  type SimulatedVerifierModel,
} from '../verify/simulated-verifier.js';
import type { EvalRow } from './rows.js';

export type VerifierMode =
  | { kind: 'none' }
  | { kind: 'simulated'; model: SimulatedVerifierModel; samples: number; seed: number };

export type ObservationSource = 'real' | 'simulated' | 'none';

export interface ObservedRow extends EvalRow {
  /** Per tier: the verifier confidence a policy sees if it verifies that tier (null = no observation). */
  confidence: (number | null)[];
  source: ObservationSource[];
}

export const DEFAULT_VERIFY_SAMPLES = 8;

/** `none`, `simulated` or `simulated:pc=..,pw=..,kappa=..` (see parseVerifierSpec). */
export function parseVerifierMode(spec: string, samples = DEFAULT_VERIFY_SAMPLES, seed = 1): VerifierMode {
  if (spec.trim() === 'none') return { kind: 'none' };
  return { kind: 'simulated', model: parseVerifierSpec(spec), samples, seed };
}

/** The label every output carries: "none" or the full simulated spec. */
export function verifierLabel(mode: VerifierMode): string {
  return mode.kind === 'none' ? 'none' : formatVerifierSpec(mode.model);
}

export const DEFAULT_VERIFIER_MODE: VerifierMode = {
  kind: 'simulated',
  model: DEFAULT_SIMULATED_VERIFIER,
  samples: DEFAULT_VERIFY_SAMPLES,
  seed: 1,
};

export function observe(rows: readonly EvalRow[], tierNames: readonly string[], mode: VerifierMode): ObservedRow[] {
  return rows.map((row) => {
    const confidence: (number | null)[] = [];
    const source: ObservationSource[] = [];
    row.tiers.forEach((t, i) => {
      if (t.conf !== null) {
        confidence.push(t.conf);
        source.push('real');
      } else if (mode.kind === 'simulated') {
        const rng = seededRng(hashString('tiermix-eval', mode.seed, row.key, tierNames[i] ?? i));
        const said = simulateVerdicts(mode.model, t.correct, mode.samples, rng).filter(Boolean).length;
        confidence.push(said / mode.samples);
        source.push('simulated');
      } else {
        confidence.push(null);
        source.push('none');
      }
    });
    return { ...row, confidence, source };
  });
}

/** Per tier, how many rows had each kind of observation (for the output header). */
export function observationCounts(rows: readonly ObservedRow[], tiers: number): Record<ObservationSource, number>[] {
  const out = Array.from({ length: tiers }, () => ({ real: 0, simulated: 0, none: 0 }));
  for (const r of rows) r.source.forEach((s, i) => out[i]![s]++);
  return out;
}

/** True when every row has an observation at every listed tier: verifier policies can run. */
export function hasObservations(rows: readonly ObservedRow[], tierIndices: readonly number[]): boolean {
  return rows.length > 0 && rows.every((r) => tierIndices.every((i) => r.confidence[i] !== null));
}
