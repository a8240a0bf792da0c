// The human-readable report: plain aligned text, so it reads the same in a terminal, a CI log or a file.
import type { DemoReport } from './report.js';
import { formatScaling, wrap } from './scaling-report.js';

const num = (v: number | null, digits: number) => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(digits));
const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

/** Left-align the first column, right-align the rest. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ').trimEnd(),
  );
}

/** The POMDP's lambda and live cost estimates after the routed phase, in modelled units (the router sees wall units). */
export function policyAtEnd(r: DemoReport): string | null {
  const a = r.policy.atEnd as
    | { lambda?: number; objective?: { running_average?: number | null }; costs?: { answer_gpu_seconds?: number[]; verify_gpu_seconds?: number[] } }
    | undefined;
  if (!a || typeof a.lambda !== 'number') return null;
  const s = r.timeScale;
  const list = (v: number[] | undefined) => (v ? v.map((x) => (x / s).toFixed(2)).join(' / ') : '-');
  const avg = a.objective?.running_average;
  return (
    `lambda ${(a.lambda * s).toPrecision(3)}` +
    (typeof avg === 'number' ? `, running average ${(avg / s).toFixed(2)} GPU-s per request` : '') +
    `; priced GPU-s per answer ${list(a.costs?.answer_gpu_seconds)}, per verification ${list(a.costs?.verify_gpu_seconds)} (${(a as { costs?: { source?: string } }).costs?.source ?? 'measured'})`
  );
}

export function formatReport(r: DemoReport): string {
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  line('tiermix demo');
  for (const d of r.disclaimer) line(`  ${d}`);
  line();
  const w = r.workload;
  line(`Data:      ${r.data.source === 'mmlu-pro' ? `MMLU-Pro from ${r.data.dir}` : 'generated questions'} (${r.data.note})`);
  line(
    `Workload:  ${w.requests} chat requests (${w.distinctQuestions} distinct questions, ${w.questions}, seed ${w.seed}), ` +
      `${r.scaling && r.scaling.ramp.length > 1 ? `up to ${w.concurrency}` : w.concurrency} in flight, model "${w.cascade}" through the router`,
  );
  const walls = [`start-up ${r.startupWallSeconds.toFixed(1)} s`, `routed ${r.routed.wallSeconds.toFixed(1)} s`];
  if (r.scaling) walls.push(`cool-down ${(r.scaling.coolDown.modelledSeconds * r.timeScale).toFixed(1)} s`);
  if (r.alwaysLargest) walls.push(`always-largest ${r.alwaysLargest.wallSeconds.toFixed(1)} s`);
  line(`Tiers:     ${r.tiers.map((t) => `${t.tier} = ${t.model} (${t.gpusPerReplica} GPU${t.gpusPerReplica > 1 ? 's' : ''})`).join(' -> ')}`);
  line(`Wall time: ${walls.join(', ')}`);
  line(`Policy:    ${r.policy.description}`);
  const end = policyAtEnd(r);
  if (end) line(`           after the routed phase: ${end}`);
  line();

  line('Per tier, routed requests (GPU-seconds in modelled seconds, answers and self-verification):');
  const rows: string[][] = [['  tier', 'answered', 'asked', 'escalated', 'correct', 'GPU-s', 'GPU-s share', 'shared by']];
  const totalGpu = r.tiers.reduce((s, t) => s + t.gpuSeconds, 0);
  for (const t of r.tiers) {
    rows.push([
      `  ${t.tier}`, String(t.answered), String(t.asked), String(t.escalationsOut),
      t.answered > 0 ? `${t.correct}/${t.answered}` : '-', num(t.gpuSeconds, 1), totalGpu > 0 ? pct(t.gpuSeconds / totalGpu) : '-',
      num(t.sharing, 1),
    ]);
  }
  rows.push([
    '  total', String(r.tiers.reduce((s, t) => s + t.answered, 0)), String(r.tiers.reduce((s, t) => s + t.asked, 0)),
    String(r.tiers.reduce((s, t) => s + t.escalationsOut, 0)), `${r.routed.correct}/${r.routed.answered}`, num(totalGpu, 1), '', '',
  ]);
  out.push(...table(rows));
  line('  answered: requests whose returned answer came from the tier; asked: times the tier was asked;');
  line('  escalated: requests it handed to a larger tier; correct: of those it answered; shared by: mean calls');
  line('  in flight on the replica during its calls (the router splits GPU time among them).');
  line(`  ${r.routed.escalatedRequests} of ${r.routed.answered} requests were escalated past the smallest tier.`);
  line();

  const b = r.baselines;
  line(`Accuracy on the same ${w.requests} questions (gold letter vs the letter in the answer):`);
  const acc: string[][] = [['  routed through the ladder (this run)', pct(r.routed.accuracy)]];
  if (r.alwaysLargest) acc.push([`  always ${r.alwaysLargest.tier} (this run, pinned)`, pct(r.alwaysLargest.accuracy)]);
  acc.push([`  always-smallest (${b.source})`, pct(b.alwaysSmallest)]);
  acc.push([`  always-largest (${b.source})`, pct(b.alwaysLargest)]);
  acc.push([`  oracle over the three tiers (${b.source})`, pct(b.oracle)]);
  out.push(...table(acc));
  line();

  line('Cost and latency per request (modelled seconds, client-side latency):');
  const cols = r.alwaysLargest ? ['routed', `always ${r.alwaysLargest.tier}`] : ['routed'];
  const phases = r.alwaysLargest ? [r.routed, r.alwaysLargest] : [r.routed];
  const cost: string[][] = [['', ...cols]];
  cost.push(['  GPU-seconds per request', ...phases.map((p) => num(p.gpuSecondsPerRequest, 2))]);
  cost.push(['  latency p50 (s)', ...phases.map((p) => num(p.latencyP50, 2))]);
  cost.push(['  latency p99 (s)', ...phases.map((p) => num(p.latencyP99, 2))]);
  if (r.alwaysLargest) {
    const routedLargest = r.tiers.find((t) => t.tier === r.alwaysLargest!.tier);
    cost.push([`  ${r.alwaysLargest.tier} calls shared by`, num(routedLargest?.sharing ?? null, 1), num(r.alwaysLargest.sharing, 1)]);
  }
  cost.push(['  answered / errors', ...phases.map((p) => `${p.answered} / ${p.errors}`)]);
  out.push(...table(cost));
  const g = r.routed.gpuSecondsPerRequest;
  const gl = r.alwaysLargest?.gpuSecondsPerRequest ?? null;
  if (g !== null && gl !== null && gl > 0) {
    line(`  Routing used ${pct(g / gl)} of the GPU-seconds of always-${r.alwaysLargest!.tier} in this run.`);
    // The comparison depends on batching as much as on routing; say so rather than let the number mislead.
    const shape = r.scaling && r.scaling.ramp.length > 1 ? 'the same ramp of requests in flight' : `${r.workload.concurrency} requests in flight`;
    const why =
      "(A replica's GPU time is split among the calls it runs at once, so a tier that sees few calls charges each more; " +
      `both phases ran ${shape}.${r.scaling ? ' The autoscaler adds replicas at a few calls each, so calls share replicas less than at a steady batch.' : ''})`;
    out.push(...wrap(why, 108).map((l) => `  ${l}`));
  }
  else if (!r.alwaysLargest) line('  (always-largest not measured: run without --no-compare to compare cost and latency)');
  const m = r.modelledCost;
  if (m && m.routed !== null) {
    const vs = m.alwaysLargest !== null && m.alwaysLargest > 0 ? `, against ${num(m.alwaysLargest, 2)} for always-${r.alwaysLargest!.tier} (${pct(m.routed / m.alwaysLargest)})` : '';
    line(`  Priced at the cost model's steady batch of 16 instead (MODELLED, free of this run's batching), the routed`);
    line(`  calls cost ${num(m.routed, 2)} GPU-s per request${vs}.`);
  }
  line();

  if (r.scaling) {
    out.push(...formatScaling(r.scaling, table, r.alwaysLargest?.tier ?? null));
    line();
  }

  const failed = r.metricsCheck.checks.filter((c) => !c.ok);
  if (r.metricsCheck.ok) {
    line(`Cross-check with the router's /metrics: ok (${r.metricsCheck.checks.length} counts and sums agree with the responses).`);
  } else {
    line(`Cross-check with the router's /metrics: ${failed.length} of ${r.metricsCheck.checks.length} disagree${r.errors.length > 0 ? ' (failed requests are counted by the router but not in responses)' : ''}:`);
    for (const c of failed) line(`  ${c.what}: responses ${c.fromResponses}, metrics ${c.fromMetrics}`);
  }
  if (r.errors.length > 0) {
    line('Errors:');
    for (const e of r.errors) line(`  ${e.phase}: ${e.count} x ${e.error}`);
  } else {
    line('Errors: none.');
  }
  return out.join('\n') + '\n';
}
