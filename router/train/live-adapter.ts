// Runs a live router policy (router/policy/types.ts RoutingPolicy) offline over one row: the same decide()
// loop the cascade executor runs, with the row's recorded answers and its verifier observations in place of
// upstream calls. This is how the shipped threshold policy, and later tiermix's POMDP, are measured by the
// very code that routes requests.
import type { CascadeView, RoutingPolicy, TierObservation } from '../policy/types.js';
import { ThresholdPolicy } from '../policy/threshold.js';
import type { TierSpec } from './cost.js';
import type { RowPolicy, Trace } from './evaluate.js';
import { spreadValues, fmtKnob, type PolicyFamily } from './family.js';
import type { ObservedRow } from './observe.js';
import type { EvalRow } from './rows.js';

export function cascadeView(tiers: readonly TierSpec[], name = 'offline'): CascadeView {
  return { name, tiers: tiers.map((t, index) => ({ index, name: t.name, gpusPerReplica: t.gpusPerReplica })) };
}

/** The answer text a policy sees: the recorded letter in MMLU-Pro's own phrasing, or an unextractable text. */
export const answerText = (pred: string | null): string => (pred === null ? '(no answer letter could be extracted)' : `The answer is (${pred}).`);

/**
 * A live policy as a row policy. `prior` supplies RoutingState.prior (the classifier's per-tier P(correct)).
 * Verification asked of a tier with no observation (--verifier none) yields confidence null; its cost is
 * still counted, since the call would be made.
 */
export function livePolicy(
  policy: RoutingPolicy,
  cascade: CascadeView,
  prior?: (row: EvalRow) => number[],
  verifierSamples = 8,
): RowPolicy {
  const n = cascade.tiers.length;
  return (row: ObservedRow): Trace => {
    const observations: TierObservation[] = [];
    const asked: number[] = [];
    const verified: number[] = [];
    const base = { cascade, query: row.question ?? '', ...(prior ? { prior: { perTier: prior(row) } } : {}) };
    for (let step = 0; step <= n; step++) {
      const d = policy.decide({ ...base, observations });
      if (d.action === 'return') {
        const o = observations[d.observation];
        if (!o) throw new Error(`${policy.name}: returned observation ${d.observation} of ${observations.length}`);
        return { asked, verified, returned: o.tier };
      }
      if (!(Number.isInteger(d.tier) && d.tier >= 0 && d.tier < n && d.tier > (asked.at(-1) ?? -1))) {
        throw new Error(`${policy.name}: asked tier ${d.tier} after ${JSON.stringify(asked)}`);
      }
      asked.push(d.tier);
      const confidence = d.verify ? (row.confidence[d.tier] ?? null) : null;
      if (d.verify) verified.push(d.tier);
      observations.push({ tier: d.tier, answer: answerText(row.tiers[d.tier]!.pred), confidence, verifierSamples: confidence === null ? 0 : verifierSamples });
    }
    throw new Error(`${policy.name}: no answer returned after ${n + 1} decisions`);
  };
}

/** The router's shipped ThresholdPolicy: every tier but the last self-verifies; escalate one tier while confidence < t. */
export function liveThresholdFamily(tiers: readonly TierSpec[]): PolicyFamily {
  const cascade = cascadeView(tiers);
  const verifiedTiers = tiers.slice(0, -1).map((_, i) => i);
  return {
    name: 'live-threshold',
    description: "the router's ThresholdPolicy (router/policy/threshold.ts) run through its decide() loop",
    signals: 'verifier',
    candidates: (fit) =>
      spreadValues(fit.train.flatMap((r) => verifiedTiers.map((i) => r.confidence[i] ?? 0))).map((t) => ({
        knob: `t=${fmtKnob(t)}`,
        policy: livePolicy(new ThresholdPolicy(t), cascade),
      })),
  };
}
