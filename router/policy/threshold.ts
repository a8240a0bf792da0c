// The simple working policy: ask the smallest tier, self-verify, escalate to the next tier while the
// verifier's confidence is below a threshold; the last tier's answer is returned unverified.
import type { Decision, RoutingPolicy, RoutingState } from './types.js';

export class ThresholdPolicy implements RoutingPolicy {
  readonly name = 'threshold';

  constructor(readonly threshold: number) {
    if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`threshold must be in [0,1], got ${threshold}`);
  }

  describe(): Record<string, unknown> {
    return { policy: this.name, threshold: this.threshold };
  }

  decide(state: RoutingState): Decision {
    const last = state.cascade.tiers.length - 1;
    const obs = state.observations;
    if (obs.length === 0) {
      return { action: 'ask', tier: 0, verify: last > 0, reason: 'start at the smallest tier' };
    }
    const latestIndex = obs.length - 1;
    const latest = obs[latestIndex]!;
    if (latest.tier >= last) {
      return { action: 'return', observation: latestIndex, confidence: latest.confidence, reason: 'largest tier answered' };
    }
    if (latest.confidence !== null && latest.confidence >= this.threshold) {
      return {
        action: 'return',
        observation: latestIndex,
        confidence: latest.confidence,
        reason: `verifier confidence ${latest.confidence.toFixed(2)} >= threshold ${this.threshold}`,
      };
    }
    const next = latest.tier + 1;
    const why =
      latest.confidence === null
        ? 'answer could not be verified'
        : `verifier confidence ${latest.confidence.toFixed(2)} < threshold ${this.threshold}`;
    return { action: 'ask', tier: next, verify: next < last, reason: `${why}; escalate` };
  }
}
