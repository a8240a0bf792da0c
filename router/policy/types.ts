// The routing decision interface. A policy is a pure function from what is known about one request so far
// (the cascade, an optional prior, the answers and verifier observations gathered) to the next action.
// The cascade executor calls `decide` until it returns; `/v1/route` calls it once, with no upstream calls.

export interface TierView {
  /** Position in the cascade, 0 = smallest. */
  index: number;
  name: string;
  gpusPerReplica: number;
}

export interface CascadeView {
  name: string;
  tiers: TierView[];
}

/** What asking one tier produced. */
export interface TierObservation {
  tier: number;
  /** The answer text the tier produced. */
  answer: string;
  /** Share of verifier samples that judged the answer correct, in [0,1]; null when not verified. */
  confidence: number | null;
  /** Verifier samples that gave a readable verdict (0 when not verified). */
  verifierSamples: number;
}

export interface RoutingState {
  cascade: CascadeView;
  /** The text the decision may look at (the prompt, or the last user message and its context). */
  query: string;
  /**
   * Optional prior over which tiers answer correctly, from the query classifier (router/classifier):
   * perTier[i] is P(tier i answers correctly); joint[s] (when given) is P(exactly the tiers in bit mask s answer
   * correctly), bit i = tier i, so perTier are its marginals. The router fills it before the first decision.
   */
  prior?: { perTier: number[]; joint?: number[] };
  observations: TierObservation[];
}

export type Decision =
  | {
      action: 'ask';
      /** Tier to ask next; must be larger than every tier asked so far. */
      tier: number;
      /** Whether to self-verify that tier's answer (pointless on the last tier, where nothing can follow). */
      verify: boolean;
      reason: string;
    }
  | {
      action: 'return';
      /** Index into `observations` of the answer to return. */
      observation: number;
      /** Confidence reported to the client for the returned answer (null if unknown). */
      confidence: number | null;
      reason: string;
    };

export interface RoutingPolicy {
  readonly name: string;
  decide(state: RoutingState): Decision;
  /** Settings that shaped the decision, recorded in `/v1/route` answers and logs. */
  describe(): Record<string, unknown>;
}
