// The `tiermix eval --json` object, and the text table. Every output names its verifier ("none" or the
// simulated spec) and states that GPU-seconds are modelled.
import { VERIFY_PROMPT_OVERHEAD_TOKENS, type CostSettings, type TierCost, type TierSpec, type TierTokens } from './cost.js';
import type { Evaluation } from './evaluate.js';
import type { AbsentFamily } from './family.js';
import { observationCounts, verifierLabel, type ObservationSource, type ObservedRow, type VerifierMode } from './observe.js';
import type { FamilyResult, FamilySet, RunResult } from './run.js';
import { describeSplit, ID_SPLIT } from './split.js';

export interface EscalationJson {
  /** Share of requests that asked more than one tier. */
  rate: number;
  asked: Record<string, number>;
  verified: Record<string, number>;
  returned: Record<string, number>;
}

export interface PolicyJson {
  name: string;
  description: string;
  signals: string;
  /** The operating point shown (highest IBC lift on train unless the family fixes one). */
  knob: string;
  accuracy: number;
  gpuSecondsPerRequest: number;
  deltaIbc: number | null;
  deltaIbcRegions: number[] | null;
  apgr: number | null;
  cpt50: number | null;
  cpt80: number | null;
  costAt98: number | null;
  escalation: EscalationJson;
  curve: { knob: string; accuracy: number; gpuSecondsPerRequest: number }[];
}

export interface EvalReport {
  split: 'test';
  /** Which rows are test: the id rule, or held-out categories (out of domain). */
  splitRule: string;
  /** The query classifier the run used (classifier-threshold and tiermix's prior), or null. */
  classifier: string | null;
  n: number;
  verifier: string;
  verifierSamples: number | null;
  seed: number | null;
  trainN: number;
  tiers: {
    name: string;
    gpusPerReplica: number;
    profile: string;
    promptTokens: number;
    answerTokens: number;
    answerTokensFrom: string;
    answerGpuSeconds: number;
    verifyGpuSeconds: number;
    testAccuracy: number;
    observations: Record<ObservationSource, number>;
  }[];
  costModel: CostSettings & { modelled: true; verifyPromptOverheadTokens: number; note: string };
  policies: PolicyJson[];
  unavailable: AbsentFamily[];
  pending: AbsentFamily[];
}

export const COST_NOTE =
  'MODELLED: GPU-seconds = GPUs per replica x service time / batch size, service time from the simulator latency profiles ' +
  '(router/sim/latency.ts) at the stated batch size; verification = one prefill of the verification prompt + k short verdicts.';

const r6 = (v: number) => Math.round(v * 1e6) / 1e6;
const r6n = (v: number | null) => (v === null ? null : r6(v));

function escalation(e: Evaluation, names: readonly string[]): EscalationJson {
  const byTier = (v: number[]) => Object.fromEntries(names.map((n, i) => [n, r6(v[i]!)]));
  return { rate: r6(e.escalated), asked: byTier(e.asked), verified: byTier(e.verified), returned: byTier(e.returned) };
}

function policyJson(r: FamilyResult, names: readonly string[]): PolicyJson {
  const e = r.operating.evaluation;
  return {
    name: r.family.name,
    description: r.family.description,
    signals: r.family.signals,
    knob: r.operating.knob,
    accuracy: r6(e.accuracy),
    gpuSecondsPerRequest: r6(e.cost),
    deltaIbc: r6n(r.deltaIbc),
    deltaIbcRegions: r.deltaIbcRegions?.map(r6) ?? null,
    apgr: r6n(r.apgr),
    cpt50: r6n(r.cpt50),
    cpt80: r6n(r.cpt80),
    costAt98: r6n(r.costAt98),
    escalation: escalation(e, names),
    curve: r.curve.map((c) => ({ knob: c.knob, accuracy: r6(c.accuracy), gpuSecondsPerRequest: r6(c.cost) })),
  };
}

export interface ReportInput {
  run: RunResult;
  set: FamilySet;
  rows: readonly ObservedRow[];
  mode: VerifierMode;
  tiers: readonly TierSpec[];
  tokens: readonly TierTokens[];
  answerTokensFrom: readonly string[];
  costs: readonly TierCost[];
  settings: CostSettings;
  /** How rows were split (describeSplit). */
  splitRule?: string;
  /** The query classifier used, if any (its name says where it came from). */
  classifier?: string | null;
}

export function buildReport(x: ReportInput): EvalReport {
  const names = x.tiers.map((t) => t.name);
  const test = x.rows.filter((r) => r.test);
  const counts = observationCounts(test, names.length);
  return {
    split: 'test',
    splitRule: x.splitRule ?? describeSplit(ID_SPLIT),
    classifier: x.classifier ?? null,
    n: x.run.testN,
    verifier: verifierLabel(x.mode),
    verifierSamples: x.mode.kind === 'simulated' ? x.mode.samples : null,
    seed: x.mode.kind === 'simulated' ? x.mode.seed : null,
    trainN: x.run.trainN,
    tiers: x.tiers.map((t, i) => ({
      name: t.name,
      gpusPerReplica: t.gpusPerReplica,
      profile: t.profile,
      promptTokens: r6(x.tokens[i]!.promptTokens),
      answerTokens: r6(x.tokens[i]!.answerTokens),
      answerTokensFrom: x.answerTokensFrom[i]!,
      answerGpuSeconds: r6(x.costs[i]!.answer),
      verifyGpuSeconds: r6(x.costs[i]!.verify),
      testAccuracy: r6(test.filter((r) => r.tiers[i]!.correct).length / Math.max(1, test.length)),
      observations: counts[i]!,
    })),
    costModel: { ...x.settings, modelled: true, verifyPromptOverheadTokens: VERIFY_PROMPT_OVERHEAD_TOKENS, note: COST_NOTE },
    policies: x.run.results.map((r) => policyJson(r, names)),
    unavailable: x.set.unavailable,
    pending: x.set.pending,
  };
}

const fix = (v: number | null, d: number) => (v === null ? '-' : v.toFixed(d));

function observationLine(rep: EvalReport): string {
  return rep.tiers
    .map((t) => {
      const parts = (['real', 'simulated', 'none'] as const).filter((k) => t.observations[k] > 0).map((k) => `${k} ${t.observations[k]}`);
      return `${t.name}: ${parts.join(', ')}`;
    })
    .join('; ');
}

/** The human-readable table. */
export function formatReport(rep: EvalReport): string {
  const lines: string[] = [];
  const v = rep.verifier === 'none' ? 'none (real signals only: answer agreement, answer extraction, and conf__ where the data has it)' : `${rep.verifier}, k=${rep.verifierSamples}, seed ${rep.seed} (SIMULATED verifier observations)`;
  lines.push(`tiermix eval: split test, n=${rep.n} (fitted on train, n=${rep.trainN}; ${rep.splitRule})`);
  if (rep.classifier) lines.push(`query classifier: ${rep.classifier}`);
  lines.push(`verifier: ${v}`);
  lines.push(`verifier observations per tier (test): ${observationLine(rep)}`);
  lines.push(
    `tiers: ${rep.tiers.map((t) => `${t.name} (${t.gpusPerReplica} GPU, ${t.profile}; answer ${t.answerGpuSeconds.toFixed(3)} GPU-s, verify ${t.verifyGpuSeconds.toFixed(3)} GPU-s; acc ${t.testAccuracy.toFixed(3)})`).join(' -> ')}`,
  );
  lines.push(`cost: modelled GPU-seconds at batch ${rep.costModel.batchSize}, k=${rep.costModel.verifySamples} verdicts of ${rep.costModel.verifyTokensPerSample} tokens (see docs/evaluation.md)`);
  lines.push('');
  const head = ['policy', 'operating point', 'acc', 'GPU-s/req', 'ΔIBC%', 'APGR', 'CPT50%', 'CPT80%', 'GPU-s@98%', 'escalated'];
  const body = rep.policies.map((p) => [
    p.name,
    p.knob.length > 34 ? `${p.knob.slice(0, 33)}…` : p.knob,
    p.accuracy.toFixed(4),
    p.gpuSecondsPerRequest.toFixed(3),
    fix(p.deltaIbc, 1),
    fix(p.apgr, 3),
    fix(p.cpt50, 1),
    fix(p.cpt80, 1),
    fix(p.costAt98, 3),
    `${(p.escalation.rate * 100).toFixed(1)}%`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  lines.push(fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt));
  lines.push('');
  for (const u of rep.unavailable) lines.push(`not applicable: ${u.name}: ${u.reason}`);
  for (const p of rep.pending) lines.push(`${p.name}: ${p.reason}`);
  return `${lines.join('\n')}\n`;
}
