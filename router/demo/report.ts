// The demo's report as data: built from this run's results only (plus, for context, the data's recorded
// outcomes of the same sampled questions). format.ts turns it into the table; --json prints it as is.
import type { MmluQuestion } from '../sim/dataset.js';
import type { MetricsCheck } from './metrics-check.js';
import { buildScalingReport, type ScalingInputs, type ScalingReport } from './scaling-report.js';
import { errorKinds, pricedPerRequest, sharing, summarizePhase, tierRows, type CallCosts, type PhaseSummary, type TierRow } from './stats.js';
import type { DemoPolicy, DemoTier, RequestResult } from './types.js';
import { distinctCount, oracleAccuracy, recordedAccuracy } from './workload.js';

export interface DemoReport {
  simulated: true;
  /** Plain sentences saying what is real and what is simulated. */
  disclaimer: string[];
  data: {
    source: 'mmlu-pro' | 'generated';
    dir: string | null;
    /** How the data folder was chosen (or why there is none). */
    note: string;
    /** Answer texts are recorded model outputs (false: generated text ending in the recorded letter). */
    realTexts: boolean;
  };
  workload: {
    cascade: string;
    requests: number;
    distinctQuestions: number;
    questions: 'MMLU-Pro test split (question_id % 5 == 0)' | 'generated set';
    /** The peak requests in flight (the ramp's high step, or all the time). */
    concurrency: number;
    seed: number;
  };
  timeScale: number;
  timeUnit: string;
  verifier: { spec: string; samples: number };
  /** The router's policy as configured, in a sentence, and as the router described it after the routed phase. */
  policy: DemoPolicy & { description: string; atEnd?: Record<string, unknown> };
  tiers: (TierRow & { model: string })[];
  routed: PhaseSummary;
  /**
   * The same sample pinned to the largest tier (--compare), measured in this run; sharing as in TierRow
   * (client latency stands in for the call time).
   */
  alwaysLargest: (PhaseSummary & { tier: string; sharing: number | null }) | null;
  /** Accuracy of fixed strategies on the same sample, from the data (or the generated set's drawn outcomes). */
  baselines: {
    source: 'recorded MMLU-Pro outcomes' | 'generated outcomes';
    alwaysSmallest: number | null;
    alwaysLargest: number | null;
    oracle: number | null;
  };
  /**
   * The same calls priced at the cost model's steady-batch GPU-seconds per call (MODELLED, from the POMDP's
   * pomdp.json): what they cost when every tier's replicas are kept as busy as the model assumes (what autoscaling
   * by routed load aims for), free of this run's batching. Null when the prices are unknown.
   */
  modelledCost: { note: string; prices: CallCosts; routed: number | null; alwaysLargest: number | null } | null;
  metricsCheck: MetricsCheck;
  /** Replicas over time, GPU-seconds per tier (metered and attributed); null when the run did not record them. */
  scaling: ScalingReport | null;
  errors: { phase: 'routed' | 'always-largest'; error: string; count: number }[];
  startupWallSeconds: number;
}

export interface ReportInputs {
  tiers: readonly DemoTier[];
  cascade: string;
  data: DemoReport['data'];
  sample: readonly MmluQuestion[];
  concurrency: number;
  seed: number;
  timeScale: number;
  verifier: DemoReport['verifier'];
  policy: DemoReport['policy'];
  routed: { results: readonly RequestResult[]; wallSeconds: number };
  compare: { results: readonly RequestResult[]; wallSeconds: number } | null;
  metricsCheck: MetricsCheck;
  startupWallSeconds: number;
  /** Steady-batch GPU-seconds per call by tier (modelled), for modelledCost. */
  prices?: CallCosts;
  /** What the demo recorded about the controller (scaling-report.ts). */
  scaling?: ScalingInputs;
}

export function disclaimer(i: Pick<ReportInputs, 'data' | 'timeScale' | 'verifier' | 'policy'>): string[] {
  const texts = i.data.source === 'generated'
    ? 'Questions and answer texts are generated (no data folder); each model answers correctly at its real MMLU-Pro rate, drawn per question.'
    : i.data.realTexts
      ? 'Answer texts are real recorded MMLU-Pro outputs of each model (5-shot CoT runs by the dataset authors).'
      : 'Questions and outcomes are real MMLU-Pro records; answer texts are generated to end in each model\'s recorded letter.';
  return [
    'SIMULATION: no model runs on this machine; each tier is a simulated vLLM server (tiermix sim).',
    texts,
    `Latencies, queueing, GPU time and self-verification verdicts are simulated; verifier model ${i.verifier.spec}, ` +
      `k=${i.verifier.samples} samples per check.`,
    `Routing policy: ${i.policy.description}.`,
    `Times and GPU-seconds are modelled seconds: measured at time scale ${i.timeScale} and divided by ${i.timeScale} ` +
      '(router and client overhead is divided too, so small times are overstated).',
  ];
}

export function buildReport(i: ReportInputs): DemoReport {
  const largest = i.tiers[i.tiers.length - 1]!;
  const models = i.tiers.map((t) => t.model);
  const rows = tierRows(i.routed.results, i.tiers, i.timeScale);
  const modelOf = new Map(i.tiers.map((t) => [t.name, t.model]));
  return {
    simulated: true,
    disclaimer: disclaimer(i),
    data: i.data,
    workload: {
      cascade: i.cascade,
      requests: i.sample.length,
      distinctQuestions: distinctCount(i.sample),
      questions: i.data.source === 'mmlu-pro' ? 'MMLU-Pro test split (question_id % 5 == 0)' : 'generated set',
      concurrency: i.concurrency,
      seed: i.seed,
    },
    timeScale: i.timeScale,
    timeUnit: `modelled seconds (wall seconds / time scale ${i.timeScale})`,
    verifier: i.verifier,
    policy: i.policy,
    tiers: rows.map((r) => ({ ...r, model: modelOf.get(r.tier) ?? '' })),
    routed: summarizePhase(i.routed.results, i.timeScale, i.routed.wallSeconds),
    alwaysLargest: i.compare ? pinnedSummary(largest, i.compare, i.timeScale) : null,
    baselines: {
      source: i.data.source === 'mmlu-pro' ? 'recorded MMLU-Pro outcomes' : 'generated outcomes',
      alwaysSmallest: recordedAccuracy(i.sample, i.tiers[0]!.model),
      alwaysLargest: recordedAccuracy(i.sample, largest.model),
      oracle: oracleAccuracy(i.sample, models),
    },
    modelledCost: i.prices
      ? {
          note: 'MODELLED: each call priced at the GPU-seconds the offline cost model gives it at a steady batch of 16 (pomdp.json, router/train/cost.ts)',
          prices: i.prices,
          routed: pricedPerRequest(i.routed.results, i.prices),
          alwaysLargest: i.compare ? pricedPerRequest(i.compare.results, i.prices, largest.name) : null,
        }
      : null,
    metricsCheck: i.metricsCheck,
    scaling: i.scaling ? buildScalingReport(i.scaling, i.tiers, i.cascade, i.routed.results, i.timeScale) : null,
    errors: [
      ...errorKinds(i.routed.results).map((e) => ({ phase: 'routed' as const, ...e })),
      ...(i.compare ? errorKinds(i.compare.results).map((e) => ({ phase: 'always-largest' as const, ...e })) : []),
    ],
    startupWallSeconds: i.startupWallSeconds,
  };
}

function pinnedSummary(tier: DemoTier, phase: NonNullable<ReportInputs['compare']>, timeScale: number): NonNullable<DemoReport['alwaysLargest']> {
  const summary = summarizePhase(phase.results, timeScale, phase.wallSeconds);
  const callSeconds = (summary.latencyMean ?? 0) * summary.answered;
  return { tier: tier.name, ...summary, sharing: sharing(tier.gpusPerReplica, callSeconds, summary.gpuSecondsTotal) };
}
